-- Changes (merged pull/merge requests) from the canonical changes file, with each bad row given a reason.
-- (Times arrive parsed to UTC; a time that does not parse is a load error, see raw.files__load_errors.)
with source as (
    select * from raw.files__changes
),

-- Ids seen more than once, and where each was first seen: every later row with the id is a duplicate.
-- Grouping finds them cheaply at millions of rows (numbering rows in a window sorts them all), and
-- reading the raw table here, not the source CTE, keeps DuckDB from materializing that CTE.
repeated_ids as (
    select r.change_id, min({'file': r._file, 'line': r._line}) as first_seen
    from raw.files__changes as r
    semi join (
        select change_id from raw.files__changes group by change_id having count(*) > 1
    ) as repeated using (change_id)
    group by r.change_id
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
        s.first_commit_at,
        s.merged_at,
        case when coalesce(s.deployment_id, '') <> '' then 'files:deployment:' || s.deployment_id end as deployment_id,
        s.deployment_id as raw_deployment_id,
        k.service is not null as service_known,
        d.deployment_key is not null as deployment_known,
        s._file,
        s._line,
        dup.first_seen
    from source as s
    left join known_services as k on k.service = s.service
    left join repeated_ids as dup on dup.change_id = s.change_id
    left join known_deployments as d on d.deployment_key = s.deployment_id
),

checked as (
    select
        *,
        coalesce(change_key, '') = '' as no_key,
        coalesce(service, '') = '' as no_service,
        coalesce(service, '') <> '' and not service_known as unknown_service,
        first_commit_at is null as no_first_commit,
        merged_at is null as no_merge,
        merged_at < first_commit_at as merged_before_first_commit,
        coalesce(raw_deployment_id, '') <> '' and not deployment_known as unknown_deployment,
        coalesce(change_key, '') <> ''
            and first_seen is not null
            and {'file': _file, 'line': _line} <> first_seen as is_duplicate
    from renamed
),

final as (
    select
        * exclude (
            first_seen,
            raw_deployment_id, service_known, deployment_known, no_key, no_service, unknown_service,
            no_first_commit, no_merge, merged_before_first_commit, unknown_deployment, is_duplicate
        ),
        -- Reasons are spelled out only for the few bad rows: building strings for every row is costly.
        case when no_key or no_service or unknown_service or no_first_commit or no_merge
            or merged_before_first_commit or unknown_deployment or is_duplicate
        then concat_ws('; ',
            case when no_key then 'change_id is blank' end,
            case when no_service then 'service is blank' end,
            case when unknown_service then 'unknown service ' || service || ' (not in services)' end,
            case when no_first_commit then 'first_commit_at is blank' end,
            case when no_merge then 'merged_at is blank' end,
            case when merged_before_first_commit then 'merged_at is before first_commit_at' end,
            case when unknown_deployment then 'deployment_id ' || raw_deployment_id || ' is not a valid deployment' end,
            case when is_duplicate then 'duplicate change_id ' || change_key end
        ) end as quarantine_reason
    from checked
)

select * from final
