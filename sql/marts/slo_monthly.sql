-- One row per SLO per calendar month (UTC): its attainment, remaining error budget and data coverage.
--   slo_attainment = good events / total events over the hours with data (hours without data add no
--     events: they are neither good nor bad).
--   slo_error_budget_remaining = 1 - (bad / total) / (1 - objective): 1 = untouched, 0 = spent,
--     negative = overspent.
--   coverage = hours with data / hours of the month the SLO was evaluated for (from its first to its
--     last evaluated day, so a month in progress counts only its elapsed days).
--   met: attainment >= objective and coverage >= slos.min_coverage; a month with too little data is
--     not met (status insufficient_data): a gap must not pass for good time.
with slos as (
    select * from core.slos
),

settings as (
    select min_coverage from ops.slo_settings
),

bounds as (
    select slo_id, min(day) as first_day, max(day) as last_day from core.slo_daily group by slo_id
),

monthly as (
    select
        slo_id,
        date_trunc('month', day)::date as month,
        sum(good_events) as good_events,
        sum(bad_events) as bad_events,
        sum(total_events) as total_events,
        sum(hours_with_data) as hours_with_data
    from core.slo_daily
    group by all
),

measured as (
    select
        m.*,
        24 * (date_diff('day', greatest(m.month, b.first_day),
            least((m.month + interval 1 month)::date - 1, b.last_day)) + 1) as hours_in_period,
        m.good_events / nullif(m.total_events, 0) as slo_attainment
    from monthly as m
    join bounds as b using (slo_id)
),

final as (
    select
        s.slo_id,
        s.name,
        s.service,
        s.team,
        s.is_platform,
        m.month,
        s.objective,
        m.good_events,
        m.bad_events,
        m.total_events,
        m.hours_with_data,
        m.hours_in_period,
        m.hours_with_data / nullif(m.hours_in_period, 0) as coverage,
        m.slo_attainment,
        1 - (1 - m.slo_attainment) / (1 - s.objective) as slo_error_budget_remaining,
        coalesce(m.slo_attainment >= s.objective
            and m.hours_with_data / nullif(m.hours_in_period, 0) >= st.min_coverage, false) as is_met,
        case
            when coalesce(m.hours_with_data / nullif(m.hours_in_period, 0), 0) < st.min_coverage
                or m.slo_attainment is null then 'insufficient_data'
            when m.slo_attainment >= s.objective then 'met'
            else 'breached'
        end as status
    from measured as m
    join slos as s using (slo_id)
    cross join settings as st
)

select * from final
