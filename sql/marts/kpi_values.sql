-- Every KPI of the catalog for every period (month and week grains), scope (org, team, service) and
-- period in range, with its sample size, DORA tier and target. Dense: a scope with no observations
-- in a period still has a row (0 for count KPIs, NULL with sample size 0 for the others).
-- materialized: incremental
with definitions as (
    select * from marts.kpi_definitions
),

-- The periods to build ('build') and the earlier periods their values read ('context'), planned by
-- platform_kpi/incremental.py: every period of the range on a full build, on a daily refresh only those
-- whose observations changed and the ones reading them.
plan as (
    select grain, period_start, role from temp.kpi_values_plan
),

-- Which grains each measure is needed at, and whether any KPI takes quantiles of it: quantiles are the
-- costly aggregate, so they are computed only where the catalog asks for them.
measures as (
    select
        measure,
        bool_or(list_contains(grains, 'weekly')) as weekly,
        bool_or(aggregate in ('p50', 'p90', 'p95')) as quantiled
    from definitions
    group by measure
),

-- Aggregates read the observations view directly, once per grain and scope level: materializing
-- millions of (period, measure, team, service, x) rows costs more than re-reading the view.
observations as not materialized (
    select o.measure, o.team, o.service, o.observed_at, o.x, o.w, m.weekly, m.quantiled
    from marts.kpi_observations as o
    join measures as m using (measure)
),

-- Counts and sums add up: compute them per service once and roll up to teams and the org.
per_service as (
    select
        'month' as grain,
        date_trunc('month', observed_at)::date as period_start,
        measure,
        team,
        service,
        count(*) as n,
        sum(x) as x_sum,
        sum(w) as w_sum,
        count(*) filter (where w <> 0) as n_w
    from observations
    where date_trunc('month', observed_at)::date in (select period_start from plan where grain = 'month' and role = 'build')
    group by all
    union all
    select
        'week',
        date_trunc('week', observed_at)::date,
        measure,
        team,
        service,
        count(*),
        sum(x),
        sum(w),
        count(*) filter (where w <> 0)
    from observations
    where weekly and date_trunc('week', observed_at)::date in (select period_start from plan where grain = 'week' and role = 'build')
    group by all
),

additive as (
    select
        grain,
        period_start,
        measure,
        case
            when grouping(service) = 0 then 'service'
            when grouping(team) = 0 then 'team'
            else 'org'
        end as scope_type,
        coalesce(service, team, 'all') as scope,
        sum(n) as n,
        sum(x_sum) as x_sum,
        sum(w_sum) as w_sum,
        sum(n_w) as n_w
    from per_service
    group by grouping sets (
        (grain, period_start, measure),
        (grain, period_start, measure, team),
        (grain, period_start, measure, service)
    )
    -- an observation with no team (service) counts for the organisation only (a support ticket
    -- from no known team), not for a team (service) named NULL
    having not ((grouping(team) = 0 and grouping(service) = 1 and team is null)
        or (grouping(service) = 0 and service is null))
),

-- Quantiles do not add up: they need every value of the scope, so only quantiled measures get here.
-- Each value is streamed once per scope level it counts for (grouping sets would copy it first).
quantiled as not materialized (
    select measure, observed_at, weekly, 'org' as scope_type, 'all' as scope, x
    from observations
    where quantiled
    union all
    select measure, observed_at, weekly, 'team', team, x
    from observations
    where quantiled and team is not null
    union all
    select measure, observed_at, weekly, 'service', service, x
    from observations
    where quantiled and service is not null
),

quantiles as (
    select 'month' as grain, date_trunc('month', observed_at)::date as period_start, measure, scope_type,
        scope, quantile_cont(x, [0.5, 0.9, 0.95]) as x_quantiles
    from quantiled
    where date_trunc('month', observed_at)::date in (select period_start from plan where grain = 'month' and role = 'build')
    group by all
    union all
    select 'week', date_trunc('week', observed_at)::date, measure, scope_type, scope,
        quantile_cont(x, [0.5, 0.9, 0.95])
    from quantiled
    where weekly and date_trunc('week', observed_at)::date in (select period_start from plan where grain = 'week' and role = 'build')
    group by all
),

aggregated as materialized (
    select
        a.grain,
        a.period_start,
        a.measure,
        a.scope_type,
        a.scope,
        a.n,
        a.x_sum,
        a.x_sum / a.n as x_mean,
        a.w_sum,
        a.n_w,
        q.x_quantiles
    from additive as a
    left join quantiles as q using (grain, period_start, measure, scope_type, scope)
),

scopes as (
    select 'org' as scope_type, 'all' as scope, count(*) as services_in_scope from core.services
    union all
    select 'team', team, count(*) from core.services group by team
    union all
    select 'service', service, 1 from core.services
),

periods as (
    -- Every month (week) to build; on a full build, every one between the first and the last
    -- observation, gaps included.
    select grain, period_start from plan where role = 'build'
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
        -- Survey KPIs (min_sample set) show no value for a group with fewer respondents than that.
        case when coalesce(a.n, 0) >= coalesce(d.min_sample, 0) then
            case d.aggregate
                when 'sum' then coalesce(a.x_sum, case when d.empty = 'zero' then 0 end)
                when 'mean' then a.x_mean
                when 'p50' then a.x_quantiles[1]
                when 'p90' then a.x_quantiles[2]
                when 'p95' then a.x_quantiles[3]
                -- A ratio of sums (cost per build, usage per request): its sample is the denominator's rows.
                when 'ratio' then a.x_sum / nullif(a.w_sum, 0)
            end
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

-- The values the previous-period, previous-year, baseline and trend columns read: this build's, and
-- those of the earlier periods it does not rebuild, as the table holds them (platform_kpi/incremental.py
-- puts them in temp.kpi_values_context).
looked_back as (
    select grain, period_start, scope_type, scope, kpi_id, value from valued
    union all
    select grain, period_start, scope_type, scope, kpi_id, value from temp.kpi_values_context
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
        -- The spine is dense (every period of every scope and KPI), so the previous period's row is
        -- found by date; a join is cheaper here than a window sorting every partition.
        prev.value as previous_value,
        prev_year.value as previous_year_value
    from valued as v
    left join tiered as t using (grain, period_start, scope_type, scope, kpi_id)
    left join marts.kpi_targets as g on g.kpi_id = v.kpi_id
    left join looked_back as prev
        on prev.grain = v.grain
        and prev.scope_type = v.scope_type
        and prev.scope = v.scope
        and prev.kpi_id = v.kpi_id
        and prev.period_start = case v.grain
            when 'month' then v.period_start - interval 1 month
            else v.period_start - interval 7 day
        end
    left join looked_back as prev_year
        on prev_year.grain = v.grain
        and prev_year.scope_type = v.scope_type
        and prev_year.scope = v.scope
        and prev_year.kpi_id = v.kpi_id
        -- 12 months back, or 52 weeks back (the same weekday).
        and prev_year.period_start = case v.grain
            when 'month' then v.period_start - interval 1 year
            else v.period_start - interval 364 day
        end
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
    join looked_back as p
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
    left join looked_back as base
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
    semi join (select grain, period_start from plan where role = 'build') using (grain, period_start)
)

select * from final
