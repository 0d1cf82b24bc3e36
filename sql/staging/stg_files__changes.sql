-- Changes (merged pull/merge requests) from the canonical changes file, with each bad row given a reason.
with source as (
    select * from raw.files__changes
),

known_services as (
    select service from staging.stg_files__services where quarantine_reason is null
),

known_deployments as (
    select deployment_key from staging.stg_files__deployments where quarantine_reason is null
),

renamed as (
    select
        'files:change:' || s.change_id as change_id,
        s.change_id as change_key,
        s.service,
        utc_ts(s.first_commit_at) as first_commit_at,
        utc_ts(s.merged_at) as merged_at,
        case when not is_blank(s.deployment_id) then 'files:deployment:' || s.deployment_id end as deployment_id,
        s.first_commit_at as raw_first_commit_at,
        s.merged_at as raw_merged_at,
        s.deployment_id as raw_deployment_id,
        k.service is not null as service_known,
        d.deployment_key is not null as deployment_known,
        s._file,
        s._line
    from source as s
    left join known_services as k on k.service = s.service
    left join known_deployments as d on d.deployment_key = s.deployment_id
),

final as (
    select
        * exclude (raw_first_commit_at, raw_merged_at, raw_deployment_id, service_known, deployment_known),
        nullif(concat_ws('; ',
            case when is_blank(change_key) then 'change_id is blank' end,
            case when is_blank(service) then 'service is blank'
                when not service_known then 'unknown service ' || service || ' (not in services)' end,
            case when is_blank(raw_first_commit_at) then 'first_commit_at is blank'
                when first_commit_at is null then 'first_commit_at ' || raw_first_commit_at || ' is not an ISO-8601 time' end,
            case when is_blank(raw_merged_at) then 'merged_at is blank'
                when merged_at is null then 'merged_at ' || raw_merged_at || ' is not an ISO-8601 time' end,
            case when merged_at < first_commit_at then 'merged_at is before first_commit_at' end,
            case when not is_blank(raw_deployment_id) and not deployment_known
                then 'deployment_id ' || raw_deployment_id || ' is not a valid deployment' end,
            case when not is_blank(change_key)
                and row_number() over (partition by change_key order by _file, _line) > 1
                then 'duplicate change_id ' || change_key end
        ), '') as quarantine_reason
    from renamed
)

select * from final
