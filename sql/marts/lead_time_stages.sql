-- Lead time for changes split into its stages per month (of the deploying deployment) and scope:
-- coding (first commit to merge) and release (merge to production), with the total for reference.
-- Medians and p90 in hours; n is the number of deployed changes.
with source as not materialized (
    select * from core.change_lead_times
),

staged as not materialized (
    select change_id, service, team, date_trunc('month', deployed_at)::date as month, 'coding' as stage,
        1 as stage_order, epoch(merged_at - first_commit_at) / 3600.0 as hours
    from source
    union all
    select change_id, service, team, date_trunc('month', deployed_at)::date, 'release', 2,
        epoch(deployed_at - merged_at) / 3600.0
    from source
    union all
    select change_id, service, team, date_trunc('month', deployed_at)::date, 'total', 3,
        lead_time_sec / 3600.0
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

final as (
    select
        month,
        scope_type,
        scope,
        stage,
        stage_order,
        quantile_cont(hours, 0.5) as p50_hours,
        quantile_cont(hours, 0.9) as p90_hours,
        count(*) as n
    from scoped
    group by all
)

select * from final order by month, scope_type, scope, stage_order
