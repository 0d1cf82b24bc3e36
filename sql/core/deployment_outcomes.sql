-- One row per successful production deployment: whether it failed (an incident names it, a window
-- incident is linked to it, or the next successful production deployment of the service is a
-- rollback), and when it recovered (the earlier of the rollback's finish and the latest resolution of
-- its linked incidents, the latter only once every linked incident is resolved); and whether it is
-- rework (DORA's deployment rework rate): a rollback, or a hotfix made because of a production incident.
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

settings as (
    select incident_link_window_hours from ops.kpi_settings
),

sequenced as (
    select
        *,
        lead(deployment_id) over w as next_deployment_id,
        lead(finished_at) over w as next_finished_at,
        lead(is_rollback) over w as next_is_rollback,
        lag(deployment_id) over w as previous_deployment_id
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

-- A hotfix is rework only when an incident of its service came first. Explicit: an incident names
-- the deployment just before the hotfix as its cause (the hotfix fixes it forward), whenever it
-- finishes. Window: the mirror of the failure link, the hotfix finished at most the link window after
-- an incident of the service was created (any incident: a production incident need not be caused by
-- a deployment). An incident created after the hotfix finished cannot be its reason.
hotfix_reasons as (
    select
        h.deployment_id,
        bool_or(i.caused_by_deployment_id = h.previous_deployment_id) as fixes_named_incident,
        bool_or(i.created_at >= h.finished_at - to_microseconds(cast(t.incident_link_window_hours * 3600e6 as bigint)))
            as fixes_window_incident
    from sequenced as h
    cross join settings as t
    join core.incidents as i
        on i.service = h.service
        and i.created_at <= h.finished_at
    where h.is_hotfix and not h.is_rollback
    group by h.deployment_id
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
        m.incidents_resolved_at,
        coalesce(r.fixes_named_incident, false) as fixes_named_incident,
        coalesce(r.fixes_window_incident, false) as fixes_window_incident
    from sequenced as s
    left join incident_impact as m using (deployment_id)
    left join hotfix_reasons as r using (deployment_id)
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
        date_diff('second', finished_at, recovered_at) as recovery_time_sec,
        is_rollback or fixes_named_incident or fixes_window_incident as is_rework,
        case
            when is_rollback then 'rollback'
            when fixes_named_incident then 'hotfix after an incident naming the previous deployment'
            when fixes_window_incident then 'hotfix within the link window after an incident'
        end as rework_reason
    from renamed
)

select * from final
