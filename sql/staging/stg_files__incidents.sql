-- Incidents from the canonical incidents file, with each bad row given a reason.
with source as (
    select * from raw.files__incidents
),

known_services as (
    select service from staging.stg_files__services where quarantine_reason is null
),

known_deployments as (
    select deployment_key from staging.stg_files__deployments where quarantine_reason is null
),

renamed as (
    select
        'files:incident:' || s.incident_id as incident_id,
        s.incident_id as incident_key,
        s.service,
        utc_ts(s.created_at) as created_at,
        utc_ts(s.resolved_at) as resolved_at,
        nullif(s.severity, '') as severity,
        case when not is_blank(s.caused_by_deployment_id)
            then 'files:deployment:' || s.caused_by_deployment_id end as caused_by_deployment_id,
        s.created_at as raw_created_at,
        s.resolved_at as raw_resolved_at,
        s.caused_by_deployment_id as raw_caused_by,
        k.service is not null as service_known,
        d.deployment_key is not null as deployment_known,
        s._file,
        s._line
    from source as s
    left join known_services as k on k.service = s.service
    left join known_deployments as d on d.deployment_key = s.caused_by_deployment_id
),

final as (
    select
        * exclude (raw_created_at, raw_resolved_at, raw_caused_by, service_known, deployment_known),
        nullif(concat_ws('; ',
            case when is_blank(incident_key) then 'incident_id is blank' end,
            case when is_blank(service) then 'service is blank'
                when not service_known then 'unknown service ' || service || ' (not in services)' end,
            case when is_blank(raw_created_at) then 'created_at is blank'
                when created_at is null then 'created_at ' || raw_created_at || ' is not an ISO-8601 time' end,
            case when not is_blank(raw_resolved_at) and resolved_at is null
                then 'resolved_at ' || raw_resolved_at || ' is not an ISO-8601 time' end,
            case when resolved_at < created_at then 'resolved_at is before created_at' end,
            case when not is_blank(raw_caused_by) and not deployment_known
                then 'caused_by_deployment_id ' || raw_caused_by || ' is not a valid deployment' end,
            case when not is_blank(incident_key)
                and row_number() over (partition by incident_key order by _file, _line) > 1
                then 'duplicate incident_id ' || incident_key end
        ), '') as quarantine_reason
    from renamed
)

select * from final
