-- Incidents read from ServiceNow (sources.yaml servicenow.entities.incidents, the incident table), in
-- the file import's canonical columns, each as last read. Times come from the stored values (UTC), not
-- the display values (the API user's zone). Resolved at its resolved_at once in state 6 Resolved or
-- 7 Closed; a reopened incident is open again. Canceled incidents (state 8) are not incidents and are
-- left out. Severity is the priority's display value (e.g. "1 - Critical"); the service is the display
-- name of the reference field sources.yaml names (servicenow.service_field, default cmdb_ci).
with source as (
    select key, payload from raw.servicenow__incidents
    where scope in (select scope from ops.source_scopes where source = 'servicenow')
        and coalesce(payload -> 'state' ->> 'value', '') <> '8'
),

fields as (
    select coalesce(max(field) filter (where role = 'service'), 'cmdb_ci') as service_field
    from ops.source_fields
    where source = 'servicenow'
),

known_services as (
    select service from staging.stg_files__services where quarantine_reason is null
    union
    select service from staging.stg_sources__services where quarantine_reason is null
),

renamed as (
    select
        'servicenow:incident:' || s.key as incident_id,
        s.key as incident_key,
        'servicenow' as source,
        nullif(trim(json_label(json_extract(s.payload, '$."' || f.service_field || '"'))), '') as service,
        utc_ts(s.payload -> 'opened_at' ->> 'value') as created_at,
        case when s.payload -> 'state' ->> 'value' in ('6', '7')
            then utc_ts(coalesce(
                nullif(s.payload -> 'resolved_at' ->> 'value', ''), s.payload -> 'closed_at' ->> 'value'
            )) end as resolved_at,
        s.payload -> 'priority' ->> 'display_value' as severity,
        cast(null as varchar) as caused_by_deployment_id,
        s.payload -> 'state' ->> 'display_value' as original_status,
        s.payload -> 'state' ->> 'value' as state_code,
        s.payload -> 'opened_at' ->> 'value' as raw_created_at,
        'servicenow:incidents' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    cross join fields as f
),

final as (
    select
        * exclude (state_code, raw_created_at),
        nullif(concat_ws('; ',
            case when is_blank(incident_key) or incident_key = 'None' then 'number is missing' end,
            case when service is null then 'the service field is empty'
                when service not in (select service from known_services)
                then 'unknown service ' || service || ' (not in services)' end,
            case when is_blank(raw_created_at) then 'opened_at is missing'
                when created_at is null then 'opened_at ' || raw_created_at || ' is not a time' end,
            case when state_code is null then 'state is missing'
                when state_code not in ('1', '2', '3', '6', '7') then 'unknown incident state ' || state_code end,
            case when state_code in ('6', '7') and resolved_at is null then 'resolved without resolved_at or closed_at' end,
            case when resolved_at < created_at then 'resolved_at is before opened_at' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
