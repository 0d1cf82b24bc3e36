-- Lead time for changes split into its stages (the pull-request flow, see core.change_lead_times) per
-- month (of the deploying deployment) and scope: coding (first commit to PR opened), pickup (opened or
-- ready for review to first review), review (first review to approval or merge), deploy (merge to
-- production), with the total for reference. Medians and p90 in hours; n is the number of deployed
-- changes measured in the stage (pickup and review count only reviewed changes).
with source as not materialized (
    select * from core.change_lead_times
),

staged as not materialized (
    select date_trunc('month', deployed_at)::date as month, service, team, 'coding' as stage,
        1 as stage_order, coding_time_sec / 3600.0 as hours
    from source
    union all
    select date_trunc('month', deployed_at)::date, service, team, 'pickup', 2, pickup_time_sec / 3600.0
    from source
    where pickup_time_sec is not null
    union all
    select date_trunc('month', deployed_at)::date, service, team, 'review', 3, review_time_sec / 3600.0
    from source
    where review_time_sec is not null
    union all
    select date_trunc('month', deployed_at)::date, service, team, 'deploy', 4, deploy_time_sec / 3600.0
    from source
    union all
    select date_trunc('month', deployed_at)::date, service, team, 'total', 5, lead_time_sec / 3600.0
    from source
),

-- Each staged row is streamed once per scope level it counts for (grouping sets would copy it first).
scoped as not materialized (
    select month, stage, stage_order, hours, 'org' as scope_type, 'all' as scope
    from staged
    union all
    select month, stage, stage_order, hours, 'team', team
    from staged
    where team is not null
    union all
    select month, stage, stage_order, hours, 'service', service
    from staged
    where service is not null
),

-- Both quantiles from one list: its state holds each value once. Two calls held two copies, and ran
-- out of the default 512MB DuckDB cap at 1,000 services x 24 months.
quantiles as (
    select
        month,
        scope_type,
        scope,
        stage,
        stage_order,
        quantile_cont(hours, [0.5, 0.9]) as hours_quantiles,
        count(*) as n
    from scoped
    group by all
),

final as (
    select
        month,
        scope_type,
        scope,
        stage,
        stage_order,
        hours_quantiles[1] as p50_hours,
        hours_quantiles[2] as p90_hours,
        n
    from quantiles
)

select * from final order by month, scope_type, scope, stage_order
