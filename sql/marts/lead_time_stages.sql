-- Lead time for changes split into its stages per month (of the deploying deployment) and scope:
-- coding (first commit to merge) and release (merge to production), with the total for reference.
-- Medians and p90 in hours; n is the number of deployed changes.
with source as (
    select * from core.change_lead_times
),

staged as (
    select change_id, service, team, deployed_at, 'coding' as stage, 1 as stage_order,
        epoch(merged_at - first_commit_at) / 3600.0 as hours
    from source
    union all
    select change_id, service, team, deployed_at, 'release', 2, epoch(deployed_at - merged_at) / 3600.0
    from source
    union all
    select change_id, service, team, deployed_at, 'total', 3, lead_time_sec / 3600.0
    from source
),

final as (
    select
        date_trunc('month', deployed_at)::date as month,
        case
            when grouping(service) = 0 then 'service'
            when grouping(team) = 0 then 'team'
            else 'org'
        end as scope_type,
        coalesce(service, team, 'all') as scope,
        stage,
        stage_order,
        quantile_cont(hours, 0.5) as p50_hours,
        quantile_cont(hours, 0.9) as p90_hours,
        count(*) as n
    from staged
    group by grouping sets (
        (month, stage, stage_order),
        (month, stage, stage_order, team),
        (month, stage, stage_order, service)
    )
)

select * from final order by month, scope_type, scope, stage_order
