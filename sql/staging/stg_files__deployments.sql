-- materialized: table
-- Deployments from the canonical deployments file: status normalized, each bad row given a reason.
-- (Times arrive parsed to UTC; a time that does not parse is a load error, see raw.files__load_errors;
-- one outside the allowed window, see time_window, is quarantined here.)

-- A table rather than the usual staging view: changes, incidents and the quarantine all look deployments up.
with source as (
    select * from raw.files__deployments
),

-- Ids seen more than once, and where each was first seen: every later row with the id is a duplicate.
-- Grouping finds them cheaply at millions of rows (numbering rows in a window sorts them all), and
-- reading the raw table here, not the source CTE, keeps DuckDB from materializing that CTE.
repeated_ids as (
    select r.deployment_id, min({'file': r._file, 'line': r._line}) as first_seen
    from raw.files__deployments as r
    semi join (
        select deployment_id from raw.files__deployments group by deployment_id having count(*) > 1
    ) as repeated using (deployment_id)
    group by r.deployment_id
),

-- The times a record may carry (ops.kpi_settings): not before earliest_event_date, not after the run
-- time plus future_tolerance_hours. A year-2999 typo would otherwise stretch every KPI series to 2999.
time_window as (
    select earliest_event_at, latest_event_at from ops.kpi_settings
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
        s.started_at,
        s.finished_at,
        nullif(s.commit_sha, '') as commit_sha,
        coalesce(parse_bool(s.is_rollback), false) as is_rollback,
        coalesce(parse_bool(s.is_hotfix), false) as is_hotfix,
        s.is_rollback as raw_is_rollback,
        s.is_hotfix as raw_is_hotfix,
        k.service is not null as service_known,
        s._file,
        s._line,
        dup.first_seen
    from source as s
    left join ops.status_map as m on m.original = lower(s.status)
    left join known_services as k on k.service = s.service
    left join repeated_ids as dup on dup.deployment_id = s.deployment_id
),

checked as (
    select
        *,
        coalesce(deployment_key, '') = '' as no_key,
        coalesce(service, '') = '' as no_service,
        coalesce(service, '') <> '' and not service_known as unknown_service,
        coalesce(environment, '') = '' as no_environment,
        coalesce(original_status, '') = '' as no_status,
        coalesce(original_status, '') <> '' and status is null as unknown_status,
        -- an unfinished one (running, queued) has no finish time yet; any other must have one
        finished_at is null and coalesce(status, '') not in ('IN_PROGRESS', 'QUEUED') as no_finish,
        finished_at < started_at as finished_before_start,
        least(started_at, finished_at) < earliest_event_at as too_early,
        greatest(started_at, finished_at) > latest_event_at as too_late,
        coalesce(raw_is_rollback, '') <> '' and parse_bool(raw_is_rollback) is null as bad_rollback,
        coalesce(raw_is_hotfix, '') <> '' and parse_bool(raw_is_hotfix) is null as bad_hotfix,
        coalesce(deployment_key, '') <> ''
            and first_seen is not null
            and {'file': _file, 'line': _line} <> first_seen as is_duplicate
    from renamed
    cross join time_window
),

final as (
    select
        * exclude (
            first_seen, earliest_event_at, latest_event_at,
            raw_is_rollback, raw_is_hotfix, service_known, no_key, no_service, unknown_service, no_environment,
            no_status, unknown_status, no_finish, finished_before_start, too_early, too_late, bad_rollback,
            bad_hotfix, is_duplicate
        ),
        -- Reasons are spelled out only for the few bad rows: building strings for every row is costly.
        case when no_key or no_service or unknown_service or no_environment or no_status or unknown_status
            or no_finish or finished_before_start or too_early or too_late or bad_rollback or bad_hotfix
            or is_duplicate
        then concat_ws('; ',
            case when no_key then 'deployment_id is blank' end,
            case when no_service then 'service is blank' end,
            case when unknown_service then 'unknown service ' || service || ' (not in services)' end,
            case when no_environment then 'environment is blank' end,
            case when no_status then 'status is blank' end,
            case when unknown_status then 'unknown status ' || original_status end,
            case when no_finish then 'finished_at is blank' end,
            case when finished_before_start then 'finished_at is before started_at' end,
            case when started_at < earliest_event_at
                then 'started_at ' || started_at || ' is before ' || strftime(earliest_event_at, '%Y-%m-%d') || ' (earliest_event_date)' end,
            case when started_at > latest_event_at
                then 'started_at ' || started_at || ' is in the future (after ' || strftime(latest_event_at, '%Y-%m-%d %H:%M') || ' UTC, the run time + future_tolerance_hours)' end,
            case when finished_at < earliest_event_at
                then 'finished_at ' || finished_at || ' is before ' || strftime(earliest_event_at, '%Y-%m-%d') || ' (earliest_event_date)' end,
            case when finished_at > latest_event_at
                then 'finished_at ' || finished_at || ' is in the future (after ' || strftime(latest_event_at, '%Y-%m-%d %H:%M') || ' UTC, the run time + future_tolerance_hours)' end,
            case when bad_rollback then 'is_rollback ' || raw_is_rollback || ' is not true/false' end,
            case when bad_hotfix then 'is_hotfix ' || raw_is_hotfix || ' is not true/false' end,
            case when is_duplicate then 'duplicate deployment_id ' || deployment_key end
        ) end as quarantine_reason
    from checked
)

select * from final
