-- Incidents from the canonical incidents file, with each bad row given a reason.
-- (Times arrive parsed to UTC; a time that does not parse is a load error, see raw.files__load_errors;
-- one outside the allowed window, see time_window, is quarantined here.)
with source as (
    select * from raw.files__incidents
),

-- Ids seen more than once, and where each was first seen: every later row with the id is a duplicate.
-- Grouping finds them cheaply at millions of rows (numbering rows in a window sorts them all), and
-- reading the raw table here, not the source CTE, keeps DuckDB from materializing that CTE.
repeated_ids as (
    select r.incident_id, min({'file': r._file, 'line': r._line}) as first_seen
    from raw.files__incidents as r
    semi join (
        select incident_id from raw.files__incidents group by incident_id having count(*) > 1
    ) as repeated using (incident_id)
    group by r.incident_id
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
        'files:incident:' || s.incident_id as incident_id,
        s.incident_id as incident_key,
        s.service,
        s.created_at,
        s.resolved_at,
        nullif(s.severity, '') as severity,
        case when coalesce(s.caused_by_deployment_id, '') <> ''
            then 'files:deployment:' || s.caused_by_deployment_id end as caused_by_deployment_id,
        s.caused_by_deployment_id as raw_caused_by,
        k.service is not null as service_known,
        d.deployment_key is not null as deployment_known,
        s._file,
        s._line,
        dup.first_seen
    from source as s
    left join known_services as k on k.service = s.service
    left join repeated_ids as dup on dup.incident_id = s.incident_id
    left join known_deployments as d on d.deployment_key = s.caused_by_deployment_id
),

checked as (
    select
        *,
        coalesce(incident_key, '') = '' as no_key,
        coalesce(service, '') = '' as no_service,
        coalesce(service, '') <> '' and not service_known as unknown_service,
        created_at is null as no_created,
        resolved_at < created_at as resolved_before_created,
        least(created_at, resolved_at) < earliest_event_at as too_early,
        greatest(created_at, resolved_at) > latest_event_at as too_late,
        coalesce(raw_caused_by, '') <> '' and not deployment_known as unknown_deployment,
        coalesce(incident_key, '') <> ''
            and first_seen is not null
            and {'file': _file, 'line': _line} <> first_seen as is_duplicate
    from renamed
    cross join time_window
),

final as (
    select
        * exclude (
            first_seen, earliest_event_at, latest_event_at,
            raw_caused_by, service_known, deployment_known, no_key, no_service, unknown_service, no_created,
            resolved_before_created, too_early, too_late, unknown_deployment, is_duplicate
        ),
        -- Reasons are spelled out only for the few bad rows: building strings for every row is costly.
        case when no_key or no_service or unknown_service or no_created or resolved_before_created
            or too_early or too_late or unknown_deployment or is_duplicate
        then concat_ws('; ',
            case when no_key then 'incident_id is blank' end,
            case when no_service then 'service is blank' end,
            case when unknown_service then 'unknown service ' || service || ' (not in services)' end,
            case when no_created then 'created_at is blank' end,
            case when resolved_before_created then 'resolved_at is before created_at' end,
            case when created_at < earliest_event_at
                then 'created_at ' || created_at || ' is before ' || strftime(earliest_event_at, '%Y-%m-%d') || ' (earliest_event_date)' end,
            case when created_at > latest_event_at
                then 'created_at ' || created_at || ' is in the future (after ' || strftime(latest_event_at, '%Y-%m-%d %H:%M') || ' UTC, the run time + future_tolerance_hours)' end,
            case when resolved_at < earliest_event_at
                then 'resolved_at ' || resolved_at || ' is before ' || strftime(earliest_event_at, '%Y-%m-%d') || ' (earliest_event_date)' end,
            case when resolved_at > latest_event_at
                then 'resolved_at ' || resolved_at || ' is in the future (after ' || strftime(latest_event_at, '%Y-%m-%d %H:%M') || ' UTC, the run time + future_tolerance_hours)' end,
            case when unknown_deployment
                then 'caused_by_deployment_id ' || raw_caused_by || ' is not a valid deployment' end,
            case when is_duplicate then 'duplicate incident_id ' || incident_key end
        ) end as quarantine_reason
    from checked
)

select * from final
