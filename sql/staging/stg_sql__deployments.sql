-- Deployments read from a database (sources.yaml sql.entities.deployments), in the file import's
-- canonical columns, each as last read: status normalized (ops.status_map), the environment named as
-- sources.yaml's sql.environments maps it (else as given).
with source as (
    select key, payload from raw.sql__deployments
    where scope in (select scope from ops.source_scopes where source = 'sql')
),

known_services as (
    select service from staging.stg_files__services where quarantine_reason is null
    union
    select service from staging.stg_sources__services where quarantine_reason is null
),

renamed as (
    select
        'sql:deployment:' || s.key as deployment_id,
        s.key as deployment_key,
        'sql' as source,
        nullif(trim(s.payload ->> 'service'), '') as service,
        coalesce(e.environment, nullif(trim(s.payload ->> 'environment'), '')) as environment,
        s.payload ->> 'environment' as original_environment,
        m.status,
        s.payload ->> 'status' as original_status,
        utc_ts(s.payload ->> 'started_at') as started_at,
        utc_ts(s.payload ->> 'finished_at') as finished_at,
        nullif(trim(s.payload ->> 'commit_sha'), '') as commit_sha,
        coalesce(parse_bool(s.payload ->> 'is_rollback'), false) as is_rollback,
        coalesce(parse_bool(s.payload ->> 'is_hotfix'), false) as is_hotfix,
        k.service is not null as service_known,
        s.payload ->> 'finished_at' as raw_finished_at,
        s.payload ->> 'started_at' as raw_started_at,
        'sql:deployments' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    left join ops.status_map as m on m.original = lower(s.payload ->> 'status')
    left join known_services as k on k.service = trim(s.payload ->> 'service')
    left join ops.source_environments as e
        on e.source = 'sql' and e.original = lower(trim(s.payload ->> 'environment'))
),

final as (
    select
        * exclude (service_known, raw_finished_at, raw_started_at),
        nullif(concat_ws('; ',
            case when is_blank(deployment_key) then 'deployment_id is blank' end,
            case when service is null then 'service is blank'
                when not service_known then 'unknown service ' || service || ' (not in services)' end,
            case when environment is null then 'environment is blank' end,
            case when is_blank(original_status) then 'status is blank'
                when status is null then 'unknown status ' || original_status end,
            case when not is_blank(raw_started_at) and started_at is null
                then 'started_at ' || raw_started_at || ' is not a time' end,
            case when not is_blank(raw_finished_at) and finished_at is null
                then 'finished_at ' || raw_finished_at || ' is not a time'
                when finished_at is null and coalesce(status, '') not in ('IN_PROGRESS', 'QUEUED')
                then 'finished_at is blank' end,
            case when finished_at < started_at then 'finished_at is before started_at' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
