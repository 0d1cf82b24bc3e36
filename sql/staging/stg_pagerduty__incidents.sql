-- Incidents read from PagerDuty: created and resolved times, severity from the priority (else the
-- urgency), service from the PagerDuty service as mapped in sources.yaml.
with source as (
    select key, scope, payload from raw.pagerduty__incidents
    where scope in (select scope from ops.source_scopes where source = 'pagerduty')
),

service_map as (
    select scope, min(service) as service from ops.source_service_map where source = 'pagerduty' group by scope
),

renamed as (
    select
        'pagerduty:incident:' || s.key as incident_id,
        s.key as incident_key,
        'pagerduty' as source,
        coalesce(m.service, n.service) as service,
        utc_ts(s.payload ->> 'created_at') as created_at,
        case when s.payload ->> 'status' = 'resolved'
            then utc_ts(coalesce(s.payload ->> 'resolved_at', s.payload ->> 'last_status_change_at')) end
            as resolved_at,
        coalesce(s.payload -> 'priority' ->> 'summary', s.payload ->> 'urgency') as severity,
        cast(null as varchar) as caused_by_deployment_id,
        s.payload ->> 'status' as original_status,
        s.payload -> 'service' ->> 'id' as vendor_service,
        s.payload ->> 'created_at' as raw_created_at,
        'pagerduty:incidents' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    left join service_map as m on m.scope = s.payload -> 'service' ->> 'id'
    left join service_map as n on n.scope = s.payload -> 'service' ->> 'summary'
),

final as (
    select
        * exclude (vendor_service, raw_created_at),
        nullif(concat_ws('; ',
            case when incident_key = 'None' or is_blank(incident_key) then 'id is missing' end,
            case when service is null then 'no service mapped for PagerDuty service '
                || coalesce(vendor_service, '(none)') || ' (sources.yaml services)' end,
            case when is_blank(raw_created_at) then 'created_at is missing'
                when created_at is null then 'created_at ' || raw_created_at || ' is not an ISO-8601 time' end,
            case when original_status is null then 'status is missing'
                when original_status not in ('triggered', 'acknowledged', 'resolved')
                then 'unknown incident status ' || original_status end,
            case when resolved_at < created_at then 'resolved_at is before created_at' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
