-- The enablement sessions register (workshops, trainings, office hours), one row per session, each bad
-- row given a reason: the audience team (when given) must own a service, the session must be held inside
-- the time window, an id may appear once. Attendee ids never leave this model: they become md5 hashes
-- of the trimmed, lower-cased id, enough to count unique attendees without naming anyone.
with source as (
    select * from raw.files__enablement_sessions
),

-- Ids seen more than once, and where each was first seen: every later row with the id is a duplicate.
repeated_ids as (
    select r.session_id, min({'file': r._file, 'line': r._line}) as first_seen
    from raw.files__enablement_sessions as r
    semi join (
        select session_id from raw.files__enablement_sessions group by session_id having count(*) > 1
    ) as repeated using (session_id)
    group by r.session_id
),

time_window as (
    select earliest_event_at, latest_event_at from ops.kpi_settings
),

known_teams as (
    select team from staging.stg_files__services where quarantine_reason is null
    union
    select team from staging.stg_sources__services where quarantine_reason is null
),

renamed as (
    select
        'files:enablement_session:' || s.session_id as session_id,
        s.session_id as session_key,
        s.held_at,
        nullif(trim(s.topic), '') as topic,
        nullif(trim(s.team), '') as team,
        list_distinct(list_transform(
            list_filter(string_split(coalesce(s.attendees, ''), ';'), lambda a: trim(a) <> ''),
            lambda a: md5(lower(trim(a)))
        )) as attendee_hashes,
        k.team is not null as team_known,
        s._file,
        s._line,
        dup.first_seen
    from source as s
    left join known_teams as k on k.team = trim(s.team)
    left join repeated_ids as dup on dup.session_id = s.session_id
),

final as (
    select
        * exclude (team_known, first_seen, earliest_event_at, latest_event_at),
        len(attendee_hashes) as attendee_count,
        nullif(concat_ws('; ',
            case when is_blank(session_key) then 'session_id is blank' end,
            case when topic is null then 'topic is blank' end,
            case when team is not null and not team_known
                then 'unknown team ' || team || ' (no service of the services file has it)' end,
            case when held_at < earliest_event_at
                then 'held_at ' || held_at || ' is before ' || strftime(earliest_event_at, '%Y-%m-%d') || ' (earliest_event_date)'
                when held_at > latest_event_at
                then 'held_at ' || held_at || ' is in the future (after the run time + future_tolerance_hours)' end,
            case when not is_blank(session_key) and first_seen is not null
                and {'file': _file, 'line': _line} <> first_seen
                then 'duplicate session_id ' || session_key || ' (first at ' || first_seen.file || ':' || first_seen.line || ')' end
        ), '') as quarantine_reason
    from renamed
    cross join time_window
)

select * from final
