-- Incidents read from a database (sources.yaml sql.entities.incidents: a ServiceNow or other
-- service-management replica), in the file import's canonical columns, each as last read.
with source as (
    select key, payload from raw.sql__incidents
    where scope in (select scope from ops.source_scopes where source = 'sql')
),

known_services as (
    select service from staging.stg_files__services where quarantine_reason is null
    union
    select service from staging.stg_sources__services where quarantine_reason is null
),

renamed as (
    select
        'sql:incident:' || s.key as incident_id,
        s.key as incident_key,
        'sql' as source,
        nullif(trim(s.payload ->> 'service'), '') as service,
        utc_ts(s.payload ->> 'created_at') as created_at,
        utc_ts(s.payload ->> 'resolved_at') as resolved_at,
        nullif(trim(s.payload ->> 'severity'), '') as severity,
        case when not is_blank(s.payload ->> 'caused_by_deployment_id')
            then 'sql:deployment:' || (s.payload ->> 'caused_by_deployment_id') end as caused_by_deployment_id,
        k.service is not null as service_known,
        s.payload ->> 'created_at' as raw_created_at,
        s.payload ->> 'resolved_at' as raw_resolved_at,
        'sql:incidents' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    left join known_services as k on k.service = trim(s.payload ->> 'service')
),

final as (
    select
        * exclude (service_known, raw_created_at, raw_resolved_at),
        nullif(concat_ws('; ',
            case when is_blank(incident_key) then 'incident_id is blank' end,
            case when service is null then 'service is blank'
                when not service_known then 'unknown service ' || service || ' (not in services)' end,
            case when is_blank(raw_created_at) then 'created_at is blank'
                when created_at is null then 'created_at ' || raw_created_at || ' is not a time' end,
            case when not is_blank(raw_resolved_at) and resolved_at is null
                then 'resolved_at ' || raw_resolved_at || ' is not a time' end,
            case when resolved_at < created_at then 'resolved_at is before created_at' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
