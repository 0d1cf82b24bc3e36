-- Deployments from the canonical deployments file: typed, status normalized, each bad row given a reason.
with source as (
    select * from raw.files__deployments
),

known_services as (
    select service from staging.stg_files__services where quarantine_reason is null
),

renamed as (
    select
        'files:deployment:' || s.deployment_id as deployment_id,
        s.deployment_id as deployment_key,
        s.service,
        s.environment,
        m.status,
        s.status as original_status,
        utc_ts(s.started_at) as started_at,
        utc_ts(s.finished_at) as finished_at,
        nullif(s.commit_sha, '') as commit_sha,
        coalesce(parse_bool(s.is_rollback), false) as is_rollback,
        coalesce(parse_bool(s.is_hotfix), false) as is_hotfix,
        s.started_at as raw_started_at,
        s.finished_at as raw_finished_at,
        s.is_rollback as raw_is_rollback,
        s.is_hotfix as raw_is_hotfix,
        k.service is not null as service_known,
        s._file,
        s._line
    from source as s
    left join ops.status_map as m on m.original = lower(s.status)
    left join known_services as k on k.service = s.service
),

final as (
    select
        * exclude (raw_started_at, raw_finished_at, raw_is_rollback, raw_is_hotfix, service_known),
        nullif(concat_ws('; ',
            case when is_blank(deployment_key) then 'deployment_id is blank' end,
            case when is_blank(service) then 'service is blank'
                when not service_known then 'unknown service ' || service || ' (not in services)' end,
            case when is_blank(environment) then 'environment is blank' end,
            case when is_blank(original_status) then 'status is blank'
                when status is null then 'unknown status ' || original_status end,
            case when not is_blank(raw_started_at) and started_at is null
                then 'started_at ' || raw_started_at || ' is not an ISO-8601 time' end,
            case when not is_blank(raw_finished_at) and finished_at is null
                then 'finished_at ' || raw_finished_at || ' is not an ISO-8601 time' end,
            case when finished_at < started_at then 'finished_at is before started_at' end,
            case when not is_blank(raw_is_rollback) and parse_bool(raw_is_rollback) is null
                then 'is_rollback ' || raw_is_rollback || ' is not true/false' end,
            case when not is_blank(raw_is_hotfix) and parse_bool(raw_is_hotfix) is null
                then 'is_hotfix ' || raw_is_hotfix || ' is not true/false' end,
            case when not is_blank(deployment_key)
                and row_number() over (partition by deployment_key order by _file, _line) > 1
                then 'duplicate deployment_id ' || deployment_key end
        ), '') as quarantine_reason
    from renamed
)

select * from final
