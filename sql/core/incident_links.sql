-- Which successful production deployment each incident is attributed to, and how: 'explicit' when the
-- incident names it, 'window' when the incident has no named cause and was created within the link
-- window after the latest successful production deployment of its service finished (at or before the
-- incident). Incidents linked to nothing have no row.
with source as (
    select * from core.incidents
),

settings as (
    select incident_link_window_hours from ops.kpi_settings
),

production_deployments as (
    select deployment_id, service, finished_at
    from core.deployments
    where is_production and status = 'SUCCESS' and finished_at is not null
),

explicit as (
    select
        i.incident_id,
        i.caused_by_deployment_id as deployment_id,
        'explicit' as link_type
    from source as i
    join production_deployments as d on d.deployment_id = i.caused_by_deployment_id
),

-- Only deployments inside the window can be the latest one before the incident and still be linked,
-- so a bounded range join replaces an unbounded "latest before" search.
window_candidates as (
    select
        i.incident_id,
        d.deployment_id,
        d.finished_at
    from source as i
    cross join settings as t
    join production_deployments as d
        on d.service = i.service
        and d.finished_at <= i.created_at
        and d.finished_at >= i.created_at - to_microseconds(cast(t.incident_link_window_hours * 3600e6 as bigint))
    where i.caused_by_deployment_id is null
),

windowed as (
    select
        incident_id,
        arg_max(deployment_id, (finished_at, deployment_id)) as deployment_id,
        'window' as link_type
    from window_candidates
    group by incident_id
),

final as (
    select * from explicit
    union all
    select * from windowed
)

select * from final
