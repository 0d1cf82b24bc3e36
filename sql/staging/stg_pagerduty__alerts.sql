-- Alerts read from PagerDuty (the alerts of each synced incident), with what the incident's log
-- entries say about them: acknowledged by a person (an acknowledge_log_entry whose agent is a
-- user_reference) or only by an integration or service, and resolved by a person or automatically
-- (a resolve_log_entry whose agent is not a user: service_reference with channel auto or timeout, an
-- integration), and whether the incident was escalated (an escalate_log_entry: nobody acknowledged in
-- time, or someone escalated it). Every PagerDuty alert belongs to an incident: PagerDuty groups
-- alerts into incidents.
-- Service from the alert's PagerDuty service as mapped in sources.yaml.
with source as (
    select key, scope, payload from raw.pagerduty__alerts
    where scope in (select scope from ops.source_scopes where source = 'pagerduty')
),

service_map as (
    select scope, min(service) as service from ops.source_service_map where source = 'pagerduty' group by scope
),

log_entries as (
    select
        payload -> 'incident' ->> 'id' as incident_key,
        payload ->> 'type' as entry_type,
        payload -> 'agent' ->> 'type' as agent_type,
        payload -> 'channel' ->> 'type' as channel_type,
        utc_ts(payload ->> 'created_at') as logged_at
    from raw.pagerduty__log_entries
    where payload ->> 'type' in ('acknowledge_log_entry', 'resolve_log_entry', 'escalate_log_entry')
),

-- What happened to each incident: its first acknowledgement (by anyone, and by a person) and its
-- last resolution, by whom and through which channel.
incident_events as (
    select
        incident_key,
        min(logged_at) filter (where entry_type = 'acknowledge_log_entry') as first_ack_at,
        min(logged_at) filter (where entry_type = 'acknowledge_log_entry' and agent_type = 'user_reference')
            as first_person_ack_at,
        max(logged_at) filter (where entry_type = 'resolve_log_entry') as resolved_at,
        count(*) filter (where entry_type = 'escalate_log_entry') > 0 as escalated,
        max_by(agent_type, logged_at) filter (where entry_type = 'resolve_log_entry') as resolve_agent_type,
        max_by(channel_type, logged_at) filter (where entry_type = 'resolve_log_entry') as resolve_channel_type
    from log_entries
    group by incident_key
),

renamed as (
    select
        'pagerduty:alert:' || s.key as alert_id,
        s.key as alert_key,
        'pagerduty' as source,
        coalesce(m.service, n.service) as service,
        utc_ts(s.payload ->> 'created_at') as created_at,
        -- an alert grouped into an incident someone already acknowledged counts as acknowledged then
        case when e.first_ack_at is not null
            then greatest(utc_ts(s.payload ->> 'created_at'), e.first_ack_at) end as acknowledged_at,
        e.first_person_ack_at is not null as acknowledged_by_person,
        case when s.payload ->> 'status' = 'resolved'
            then coalesce(utc_ts(s.payload ->> 'resolved_at'), e.resolved_at) end as resolved_at,
        s.payload ->> 'status' = 'resolved' and coalesce(e.resolve_agent_type <> 'user_reference', false)
            as auto_resolved,
        coalesce(e.escalated, false) as escalated,
        case when s.payload -> 'incident' ->> 'id' is not null
            then 'pagerduty:incident:' || (s.payload -> 'incident' ->> 'id') end as incident_id,
        s.payload ->> 'severity' as original_severity,
        1::bigint as occurrences,
        coalesce(s.payload -> 'integration' ->> 'summary', s.payload -> 'service' ->> 'summary') as alert_source,
        s.payload ->> 'status' as original_status,
        e.resolve_agent_type || coalesce('/' || e.resolve_channel_type, '') as original_resolved_by,
        s.payload -> 'service' ->> 'id' as vendor_service,
        s.payload ->> 'created_at' as raw_created_at,
        'pagerduty:alerts' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    left join service_map as m on m.scope = s.payload -> 'service' ->> 'id'
    left join service_map as n on n.scope = s.payload -> 'service' ->> 'summary'
    left join incident_events as e on e.incident_key = s.payload -> 'incident' ->> 'id'
),

final as (
    select
        * exclude (vendor_service, raw_created_at),
        nullif(concat_ws('; ',
            case when alert_key = 'None' or is_blank(alert_key) then 'id is missing' end,
            case when service is null then 'no service mapped for PagerDuty service '
                || coalesce(vendor_service, '(none)') || ' (sources.yaml services)' end,
            case when is_blank(raw_created_at) then 'created_at is missing'
                when created_at is null then 'created_at ' || raw_created_at || ' is not an ISO-8601 time' end,
            case when original_status is null then 'status is missing'
                when original_status not in ('triggered', 'resolved') then 'unknown alert status ' || original_status end,
            case when original_severity not in ('critical', 'error', 'warning', 'info')
                then 'unknown alert severity ' || original_severity end,
            case when resolved_at < created_at then 'resolved_at is before created_at' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
