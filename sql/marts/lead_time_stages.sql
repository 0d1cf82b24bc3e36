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

-- One plain group-by per scope level: grouping sets would first copy every staged row.
final as (
    select month, 'org' as scope_type, 'all' as scope, stage, stage_order,
        quantile_cont(hours, 0.5) as p50_hours, quantile_cont(hours, 0.9) as p90_hours, count(*) as n
    from staged
    group by all
    union all
    select month, 'team', team, stage, stage_order,
        quantile_cont(hours, 0.5), quantile_cont(hours, 0.9), count(*)
    from staged
    where team is not null
    group by all
    union all
    select month, 'service', service, stage, stage_order,
        quantile_cont(hours, 0.5), quantile_cont(hours, 0.9), count(*)
    from staged
    where service is not null
    group by all
)

select * from final order by month, scope_type, scope, stage_order
