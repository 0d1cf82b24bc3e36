-- Changes (merged pull/merge requests) from the canonical changes file, with each bad row given a reason.
-- (Times arrive parsed to UTC; a time that does not parse is a load error, see raw.files__load_errors;
-- one outside the allowed window, see time_window, is quarantined here.)
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

-- The times a record may carry (ops.kpi_settings): not before earliest_event_date, not after the run
-- time plus future_tolerance_hours. A year-2999 typo would otherwise stretch every KPI series to 2999.
time_window as (
    select earliest_event_at, latest_event_at from ops.kpi_settings
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
        least(first_commit_at, merged_at) < earliest_event_at as too_early,
        greatest(first_commit_at, merged_at) > latest_event_at as too_late,
        coalesce(raw_deployment_id, '') <> '' and not deployment_known as unknown_deployment,
        coalesce(change_key, '') <> ''
            and first_seen is not null
            and {'file': _file, 'line': _line} <> first_seen as is_duplicate
    from renamed
    cross join time_window
),

final as (
    select
        * exclude (
            first_seen, earliest_event_at, latest_event_at,
            raw_deployment_id, service_known, deployment_known, no_key, no_service, unknown_service,
            no_first_commit, no_merge, merged_before_first_commit, too_early, too_late, unknown_deployment,
            is_duplicate
        ),
        -- Reasons are spelled out only for the few bad rows: building strings for every row is costly.
        case when no_key or no_service or unknown_service or no_first_commit or no_merge
            or merged_before_first_commit or too_early or too_late or unknown_deployment or is_duplicate
        then concat_ws('; ',
            case when no_key then 'change_id is blank' end,
            case when no_service then 'service is blank' end,
            case when unknown_service then 'unknown service ' || service || ' (not in services)' end,
            case when no_first_commit then 'first_commit_at is blank' end,
            case when no_merge then 'merged_at is blank' end,
            case when merged_before_first_commit then 'merged_at is before first_commit_at' end,
            case when first_commit_at < earliest_event_at
                then 'first_commit_at ' || first_commit_at || ' is before ' || strftime(earliest_event_at, '%Y-%m-%d') || ' (earliest_event_date)' end,
            case when first_commit_at > latest_event_at
                then 'first_commit_at ' || first_commit_at || ' is in the future (after ' || strftime(latest_event_at, '%Y-%m-%d %H:%M') || ' UTC, the run time + future_tolerance_hours)' end,
            case when merged_at < earliest_event_at
                then 'merged_at ' || merged_at || ' is before ' || strftime(earliest_event_at, '%Y-%m-%d') || ' (earliest_event_date)' end,
            case when merged_at > latest_event_at
                then 'merged_at ' || merged_at || ' is in the future (after ' || strftime(latest_event_at, '%Y-%m-%d %H:%M') || ' UTC, the run time + future_tolerance_hours)' end,
            case when unknown_deployment then 'deployment_id ' || raw_deployment_id || ' is not a valid deployment' end,
            case when is_duplicate then 'duplicate change_id ' || change_key end
        ) end as quarantine_reason
    from checked
)

select * from final
