-- One row per successful production deployment: whether it failed (an incident names it, a window
-- incident is linked to it, or the next successful production deployment of the service is a
-- rollback), and when it recovered (the earlier of the rollback's finish and the latest resolution of
-- its linked incidents, the latter only once every linked incident is resolved).
with source as (
    select
        deployment_id,
        service,
        team,
        environment,
        finished_at,
        is_rollback,
        is_hotfix
    from core.deployments
    where is_production and status = 'SUCCESS' and finished_at is not null
),

sequenced as (
    select
        *,
        lead(deployment_id) over w as next_deployment_id,
        lead(finished_at) over w as next_finished_at,
        lead(is_rollback) over w as next_is_rollback
    from source
    window w as (partition by service order by finished_at, deployment_id)
),

incident_impact as (
    select
        l.deployment_id,
        count(*) filter (where l.link_type = 'explicit') as explicit_incidents,
        count(*) filter (where l.link_type = 'window') as window_incidents,
        count(*) as linked_incidents,
        case when count(i.resolved_at) = count(*) then max(i.resolved_at) end as incidents_resolved_at
    from core.incident_links as l
    join core.incidents as i using (incident_id)
    group by l.deployment_id
),

renamed as (
    select
        s.deployment_id,
        s.service,
        s.team,
        s.environment,
        s.finished_at,
        s.is_rollback,
        s.is_hotfix,
        coalesce(s.next_is_rollback, false) as followed_by_rollback,
        case when s.next_is_rollback then s.next_deployment_id end as rollback_deployment_id,
        case when s.next_is_rollback then s.next_finished_at end as rollback_finished_at,
        coalesce(m.explicit_incidents, 0) as explicit_incidents,
        coalesce(m.window_incidents, 0) as window_incidents,
        m.incidents_resolved_at
    from sequenced as s
    left join incident_impact as m using (deployment_id)
),

final as (
    select
        deployment_id,
        service,
        team,
        environment,
        finished_at,
        is_rollback,
        is_hotfix,
        explicit_incidents,
        window_incidents,
        followed_by_rollback,
        rollback_deployment_id,
        explicit_incidents > 0 or window_incidents > 0 or followed_by_rollback as is_failed,
        nullif(concat_ws(', ',
            case when explicit_incidents > 0 then 'incident names it' end,
            case when window_incidents > 0 then 'incident within window' end,
            case when followed_by_rollback then 'rolled back' end
        ), '') as failure_reason,
        least(
            rollback_finished_at,
            case when explicit_incidents + window_incidents > 0 then incidents_resolved_at end
        ) as recovered_at,
        date_diff('second', finished_at, recovered_at) as recovery_time_sec
    from renamed
)

select * from final
