-- Every deployed change with the successful production deployment that shipped it and its lead time
-- (deployment finished_at minus first commit). A change names its deployment, or else is shipped by the
-- first successful production deployment of its service finishing at or after its merge.
-- Changes not (yet) deployed to production have no row.
with source as (
    select * from core.changes
),

production_deployments as (
    select deployment_id, service, finished_at
    from core.deployments
    where is_production and status = 'SUCCESS' and finished_at is not null
),

explicit as (
    select
        c.change_id,
        c.service,
        c.team,
        c.first_commit_at,
        c.merged_at,
        d.deployment_id,
        'explicit' as link_type,
        d.finished_at as deployed_at
    from source as c
    join production_deployments as d on d.deployment_id = c.deployment_id
),

inferred as (
    select
        c.change_id,
        c.service,
        c.team,
        c.first_commit_at,
        c.merged_at,
        d.deployment_id,
        'inferred' as link_type,
        d.finished_at as deployed_at
    from (select * from source where deployment_id is null) as c
    asof join production_deployments as d
        on d.service = c.service
        and d.finished_at >= c.merged_at
),

final as (
    select
        *,
        date_diff('second', first_commit_at, deployed_at) as lead_time_sec
    from (
        select * from explicit
        union all
        select * from inferred
    )
)

select * from final
