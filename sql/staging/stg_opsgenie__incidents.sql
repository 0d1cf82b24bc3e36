-- Incidents read from Opsgenie: created time, resolve time (impactEndDate, else the last update of a
-- resolved or closed incident), priority as severity, service from the impacted services (or the
-- incident's `serviceId`) mapped in sources.yaml.
with source as (
    select key, payload
    from raw.opsgenie__incidents
    where exists (select 1 from ops.source_scopes where source = 'opsgenie')
),

impacted as (
    select key, unnest(from_json(coalesce(payload -> 'impactedServices', '[]'), '["varchar"]')) as vendor_service
    from source
    union
    -- an incident opened on a service may name it only here
    select key, payload ->> 'serviceId' from source where payload ->> 'serviceId' is not null
),

attributed as (
    select i.key, min(m.service) as service
    from impacted as i
    join ops.source_service_map as m on m.source = 'opsgenie' and m.scope = i.vendor_service
    group by i.key
),

renamed as (
    select
        'opsgenie:incident:' || s.key as incident_id,
        s.key as incident_key,
        'opsgenie' as source,
        a.service,
        utc_ts(s.payload ->> 'createdAt') as created_at,
        case when s.payload ->> 'status' in ('resolved', 'closed')
            then utc_ts(coalesce(s.payload ->> 'impactEndDate', s.payload ->> 'updatedAt')) end as resolved_at,
        s.payload ->> 'priority' as severity,
        cast(null as varchar) as caused_by_deployment_id,
        s.payload ->> 'status' as original_status,
        s.payload ->> 'createdAt' as raw_created_at,
        'opsgenie:v1/incidents' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    left join attributed as a using (key)
),

final as (
    select
        * exclude (raw_created_at),
        nullif(concat_ws('; ',
            case when incident_key = 'None' then 'id is missing' end,
            case when service is null then 'no service mapped for the impacted services (sources.yaml services)' end,
            case when is_blank(raw_created_at) then 'createdAt is missing'
                when created_at is null then 'createdAt ' || raw_created_at || ' is not an ISO-8601 time' end,
            case when original_status is null then 'status is missing'
                when original_status not in ('open', 'resolved', 'closed') then 'unknown incident status ' || original_status end,
            case when resolved_at < created_at then 'resolved_at is before created_at' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
