-- Every alert (page), from the alerts file, PagerDuty and Opsgenie, with its service and team, who
-- acknowledged it, how it was resolved, the incident it is part of and whether it was actionable.
-- Severity is normalized (critical, high, medium, low, info) from what the tool spells: PagerDuty's
-- critical/error/warning/info, Opsgenie's P1-P5, or those words (sev1-sev4 too) in the file.
-- Actionable: acknowledged by a person, or part of an incident that did not resolve itself. Noise is
-- the rest: alerts resolved automatically (auto, timeout, integration) that no person acknowledged,
-- alerts acknowledged only by an integration and resolved automatically, and alerts outside any
-- incident that nobody acknowledged.
with source as (
    select
        alert_id, source, service, created_at, acknowledged_at, acknowledged_by_person, resolved_at,
        auto_resolved, incident_id, original_severity, occurrences, alert_source
    from staging.stg_files__alerts where quarantine_reason is null
    union all by name
    select
        alert_id, source, service, created_at, acknowledged_at, acknowledged_by_person, resolved_at,
        auto_resolved, incident_id, original_severity, occurrences, alert_source, escalated
    from staging.stg_pagerduty__alerts where quarantine_reason is null
    union all by name
    select
        alert_id, source, service, created_at, acknowledged_at, acknowledged_by_person, resolved_at,
        auto_resolved, incident_id, original_severity, coalesce(occurrences, 1) as occurrences, alert_source
    from staging.stg_opsgenie__alerts where quarantine_reason is null
),

services as (
    select service, team from core.services
),

renamed as (
    select
        s.alert_id,
        s.source,
        s.service,
        v.team,
        s.created_at,
        s.acknowledged_at,
        s.acknowledged_by_person,
        s.resolved_at,
        s.auto_resolved,
        s.incident_id,
        -- only PagerDuty's log entries say so; NULL: the source does not tell
        s.escalated,
        case
            when lower(s.original_severity) in ('critical', 'p1', 'sev1') then 'critical'
            when lower(s.original_severity) in ('error', 'high', 'p2', 'sev2') then 'high'
            when lower(s.original_severity) in ('warning', 'medium', 'p3', 'sev3') then 'medium'
            when lower(s.original_severity) in ('low', 'p4', 'sev4') then 'low'
            when lower(s.original_severity) in ('info', 'informational', 'p5', 'sev5') then 'info'
        end as severity,
        s.original_severity,
        s.occurrences,
        coalesce(s.alert_source, '(unknown)') as alert_source,
        date_diff('second', s.created_at, s.acknowledged_at) as time_to_acknowledge_sec
    from source as s
    join services as v using (service)
),

final as (
    select
        *,
        acknowledged_by_person or (incident_id is not null and not auto_resolved) as is_actionable
    from renamed
)

select * from final
