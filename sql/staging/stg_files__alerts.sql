-- Alerts from the canonical alerts file, each bad row given a reason: the service must be known,
-- acknowledged_by and resolved_by one of the known words, occurrences a whole number, times in order.
with source as (
    select * from raw.files__alerts
),

-- Ids seen more than once, and where each was first seen: every later row with the id is a duplicate.
repeated_ids as (
    select r.alert_id, min({'file': r._file, 'line': r._line}) as first_seen
    from raw.files__alerts as r
    semi join (
        select alert_id from raw.files__alerts group by alert_id having count(*) > 1
    ) as repeated using (alert_id)
    group by r.alert_id
),

time_window as (
    select earliest_event_at, latest_event_at from ops.kpi_settings
),

known_services as (
    select service from staging.stg_files__services where quarantine_reason is null
    union
    select service from staging.stg_sources__services where quarantine_reason is null
),

renamed as (
    select
        'files:alert:' || s.alert_id as alert_id,
        s.alert_id as alert_key,
        'files' as source,
        nullif(trim(s.service), '') as service,
        s.created_at,
        s.acknowledged_at,
        lower(nullif(trim(s.acknowledged_by), '')) as original_acknowledged_by,
        s.resolved_at,
        lower(nullif(trim(s.resolved_by), '')) as original_resolved_by,
        -- the incidents file's id, as core.incidents spells it
        case when not is_blank(s.incident_id) then 'files:incident:' || trim(s.incident_id) end as incident_id,
        nullif(trim(s.severity), '') as original_severity,
        coalesce(try_cast(nullif(trim(s.occurrences), '') as bigint), case when is_blank(s.occurrences) then 1 end)
            as occurrences,
        nullif(trim(s.alert_source), '') as alert_source,
        s.occurrences as raw_occurrences,
        k.service is not null as service_known,
        s._file,
        s._line,
        dup.first_seen
    from source as s
    left join known_services as k on k.service = trim(s.service)
    left join repeated_ids as dup on dup.alert_id = s.alert_id
),

final as (
    select
        * exclude (raw_occurrences, service_known, first_seen, earliest_event_at, latest_event_at,
            original_acknowledged_by, original_resolved_by),
        acknowledged_at is not null and original_acknowledged_by = 'person' as acknowledged_by_person,
        resolved_at is not null and original_resolved_by in ('auto', 'timeout', 'integration') as auto_resolved,
        original_acknowledged_by,
        original_resolved_by,
        nullif(concat_ws('; ',
            case when is_blank(alert_key) then 'alert_id is blank' end,
            case when service is null then 'service is blank'
                when not service_known then 'unknown service ' || service || ' (not in the services file)' end,
            case when original_acknowledged_by not in ('person', 'integration')
                then 'acknowledged_by ' || original_acknowledged_by || ' is not person or integration' end,
            case when original_acknowledged_by is not null and acknowledged_at is null
                then 'acknowledged_by is given but acknowledged_at is blank' end,
            case when original_resolved_by not in ('person', 'auto', 'timeout', 'integration')
                then 'resolved_by ' || original_resolved_by || ' is not person, auto, timeout or integration' end,
            case when occurrences is null or occurrences < 1
                then 'occurrences ' || raw_occurrences || ' is not a whole number of at least 1' end,
            case when acknowledged_at < created_at then 'acknowledged_at is before created_at' end,
            case when resolved_at < created_at then 'resolved_at is before created_at' end,
            case when created_at < earliest_event_at
                then 'created_at ' || created_at || ' is before ' || strftime(earliest_event_at, '%Y-%m-%d') || ' (earliest_event_date)'
                when created_at > latest_event_at
                then 'created_at ' || created_at || ' is in the future (after the run time + future_tolerance_hours)' end,
            case when not is_blank(alert_key) and first_seen is not null
                and {'file': _file, 'line': _line} <> first_seen
                then 'duplicate alert_id ' || alert_key || ' (first at ' || first_seen.file || ':' || first_seen.line || ')' end
        ), '') as quarantine_reason
    from renamed
    cross join time_window
)

select * from final
