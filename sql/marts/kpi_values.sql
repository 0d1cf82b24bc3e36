-- Every KPI of the catalog for every period (month and week grains), scope (org, team, service) and
-- period in range, with its sample size, DORA tier and target. Dense: a scope with no observations
-- in a period still has a row (0 for count KPIs, NULL with sample size 0 for the others).
with observations as (
    select * from marts.kpi_observations
),

definitions as (
    select * from marts.kpi_definitions
),

grains as (
    select 'month' as grain union all select 'week'
),

aggregated as (
    select
        g.grain,
        date_trunc(g.grain, o.observed_at)::date as period_start,
        o.measure,
        case
            when grouping(o.service) = 0 then 'service'
            when grouping(o.team) = 0 then 'team'
            else 'org'
        end as scope_type,
        coalesce(o.service, o.team, 'all') as scope,
        count(*) as n,
        sum(o.x) as x_sum,
        avg(o.x) as x_mean,
        sum(o.w) as w_sum,
        count(*) filter (where o.w <> 0) as n_w,
        quantile_cont(o.x, [0.5, 0.9, 0.95]) as x_quantiles
    from observations as o
    cross join grains as g
    group by grouping sets (
        (g.grain, period_start, o.measure),
        (g.grain, period_start, o.measure, o.team),
        (g.grain, period_start, o.measure, o.service)
    )
),

scopes as (
    select 'org' as scope_type, 'all' as scope, count(*) as services_in_scope from core.services
    union all
    select 'team', team, count(*) from core.services group by team
    union all
    select 'service', service, 1 from core.services
),

periods as (
    select g.grain, cast(p.period_start as date) as period_start
    from grains as g,
        lateral (
            select unnest(generate_series(
                date_trunc(g.grain, min(observed_at)),
                date_trunc(g.grain, max(observed_at)),
                case g.grain when 'month' then interval 1 month else interval 7 day end
            )) as period_start
            from observations
        ) as p
),

spine as (
    select p.grain, p.period_start, s.scope_type, s.scope, s.services_in_scope, d.kpi_id
    from periods as p
    cross join scopes as s
    join definitions as d on list_contains(d.grains, case p.grain when 'month' then 'monthly' else 'weekly' end)
),

valued as (
    select
        s.grain,
        s.period_start,
        s.scope_type,
        s.scope,
        s.kpi_id,
        d.unit,
        d.better,
        case d.aggregate
            when 'sum' then coalesce(a.x_sum, case when d.empty = 'zero' then 0 end)
            when 'mean' then a.x_mean
            when 'p50' then a.x_quantiles[1]
            when 'p90' then a.x_quantiles[2]
            when 'p95' then a.x_quantiles[3]
            -- A ratio of sums (cost per build, usage per request): its sample is the denominator's rows.
            when 'ratio' then a.x_sum / nullif(a.w_sum, 0)
        end as value,
        case when d.aggregate = 'ratio' then coalesce(a.n_w, 0) else coalesce(a.n, 0) end as sample_size,
        s.services_in_scope
    from spine as s
    join definitions as d using (kpi_id)
    left join aggregated as a
        on a.grain = s.grain
        and a.period_start = s.period_start
        and a.measure = d.measure
        and a.scope_type = s.scope_type
        and a.scope = s.scope
),

tiered as (
    select
        v.grain,
        v.period_start,
        v.scope_type,
        v.scope,
        v.kpi_id,
        min_by(b.tier, b.tier_rank) as tier
    from valued as v
    join marts.dora_benchmarks as b
        on b.kpi_id = v.kpi_id
        and v.grain = 'month'
        and v.value is not null
        and (
            b.bound is null
            or (b.better = 'lower' and v.value <= b.bound)
            -- Deployment frequency clusters are per service: divide a team's or the org's count.
            or (b.better = 'higher' and v.value / greatest(v.services_in_scope, 1) >= b.bound)
        )
    group by all
),

baselines as (
    select
        v.*,
        t.tier,
        g.kind as target_kind,
        g.op as target_op,
        g.value as target_value,
        g.change as target_change,
        g.direction as target_direction,
        g.months as target_periods,
        case g.baseline
            when 'previous_year' then
                case v.grain when 'month' then v.period_start - interval 1 year else v.period_start - interval 364 day end
            when 'previous_month' then
                case v.grain when 'month' then v.period_start - interval 1 month else v.period_start - interval 28 day end
        end::date as baseline_period,
        lag(v.value) over w as previous_value,
        lag(v.value, case v.grain when 'month' then 12 else 52 end) over w as previous_year_value
    from valued as v
    left join tiered as t using (grain, period_start, scope_type, scope, kpi_id)
    left join marts.kpi_targets as g on g.kpi_id = v.kpi_id
    window w as (partition by v.grain, v.scope_type, v.scope, v.kpi_id order by v.period_start)
),

trend_means as (
    select
        b.grain,
        b.period_start,
        b.scope_type,
        b.scope,
        b.kpi_id,
        avg(p.value) as trailing_mean
    from baselines as b
    join valued as p
        on p.grain = b.grain
        and p.scope_type = b.scope_type
        and p.scope = b.scope
        and p.kpi_id = b.kpi_id
        and p.period_start < b.period_start
        and p.period_start >= case b.grain
            when 'month' then b.period_start - to_months(b.target_periods)
            else b.period_start - to_days(7 * b.target_periods)
        end
    where b.target_kind = 'trend'
    group by all
),

targeted as (
    select
        b.*,
        case b.target_kind
            when 'absolute' then b.target_value
            when 'relative' then base.value * (1 + b.target_change)
            when 'trend' then m.trailing_mean
        end as target
    from baselines as b
    left join valued as base
        on b.target_kind = 'relative'
        and base.grain = b.grain
        and base.period_start = b.baseline_period
        and base.scope_type = b.scope_type
        and base.scope = b.scope
        and base.kpi_id = b.kpi_id
    left join trend_means as m
        on m.grain = b.grain
        and m.period_start = b.period_start
        and m.scope_type = b.scope_type
        and m.scope = b.scope
        and m.kpi_id = b.kpi_id
),

final as (
    select
        grain,
        period_start,
        scope_type,
        scope,
        kpi_id,
        value,
        unit,
        sample_size,
        tier,
        target,
        case
            when value is null or target is null then null
            when target_kind = 'absolute' and target_op = '<=' then value <= target
            when target_kind = 'absolute' and target_op = '>=' then value >= target
            when target_kind = 'absolute' and target_op = '<' then value < target
            when target_kind = 'absolute' and target_op = '>' then value > target
            when target_kind = 'trend' and target_direction = 'down' then value <= target
            when target_kind = 'trend' and target_direction = 'up' then value >= target
            when better = 'lower' then value <= target
            else value >= target
        end as target_met,
        target_kind,
        previous_value,
        previous_year_value
    from targeted
)

select * from final
