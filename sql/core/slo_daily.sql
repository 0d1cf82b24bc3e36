-- Good and total events per SLO per UTC day, and the hours of the day that had data. From Prometheus:
-- every evaluated day has a row (0 hours with data when Prometheus had no samples: a gap, not a good
-- day); an hour has data when the total query had a sample then, and a missing good/bad sample in such
-- an hour means no such events (Prometheus drops a series with no events). Good events never exceed
-- the hour's total. Days a results file gives are used where Prometheus has not evaluated the day.
with slos as (
    select slo_id, service, team, numerator from core.slos
),

samples as (
    select slo_id, series, hour_start, sum(value) as value
    from staging.stg_prometheus__slo_samples
    where quarantine_reason is null
    group by all
),

hours as (
    select
        t.slo_id,
        t.hour_start,
        t.value as total_events,
        case s.numerator
            when 'good' then least(coalesce(n.value, 0), t.value)
            else greatest(t.value - coalesce(n.value, 0), 0)
        end as good_events
    from samples as t
    join slos as s using (slo_id)
    left join samples as n
        on n.slo_id = t.slo_id and n.hour_start = t.hour_start and n.series = s.numerator
    where t.series = 'total'
),

evaluated as (
    select distinct slo_id, day from raw.prometheus__slo_evaluations
),

prometheus_days as (
    select
        e.slo_id,
        e.day,
        'prometheus' as source,
        coalesce(sum(h.good_events), 0) as good_events,
        coalesce(sum(h.total_events), 0) as total_events,
        count(h.hour_start) as hours_with_data
    from evaluated as e
    left join hours as h on h.slo_id = e.slo_id and h.hour_start::date = e.day
    group by all
),

file_days as (
    select r.slo_id, r.day, 'files' as source, sum(r.good_events) as good_events,
        sum(r.total_events) as total_events, least(sum(r.hours_with_data), 24) as hours_with_data
    from staging.stg_slo__results as r
    anti join prometheus_days as p using (slo_id, day)
    where r.quarantine_reason is null
    group by all
),

combined as (
    select * from prometheus_days
    union all
    select * from file_days
),

final as (
    select
        c.slo_id,
        s.service,
        s.team,
        c.day,
        c.source,
        c.good_events,
        c.total_events - c.good_events as bad_events,
        c.total_events,
        c.hours_with_data::integer as hours_with_data
    from combined as c
    join slos as s using (slo_id)
)

select * from final
