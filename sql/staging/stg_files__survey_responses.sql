-- Developer-experience survey responses from the survey export file (free text never loaded), each
-- bad row given a reason: the team must own a service, satisfaction must be a number, the recommend
-- answer a whole number from 0 to 10.
with source as (
    select * from raw.files__survey_responses
),

-- Ids seen more than once, and where each was first seen: every later row with the id is a duplicate.
repeated_ids as (
    select r.response_id, min({'file': r._file, 'line': r._line}) as first_seen
    from raw.files__survey_responses as r
    semi join (
        select response_id from raw.files__survey_responses group by response_id having count(*) > 1
    ) as repeated using (response_id)
    group by r.response_id
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
        'files:survey_response:' || s.response_id as response_id,
        s.response_id as response_key,
        s.submitted_at,
        nullif(trim(s.team), '') as team,
        nullif(trim(s.survey), '') as survey,
        try_cast(nullif(trim(s.satisfaction), '') as double) as satisfaction,
        try_cast(nullif(trim(s.nps), '') as double) as nps,
        s.satisfaction as raw_satisfaction,
        s.nps as raw_nps,
        k.team is not null as team_known,
        s._file,
        s._line,
        dup.first_seen
    from source as s
    left join known_teams as k on k.team = trim(s.team)
    left join repeated_ids as dup on dup.response_id = s.response_id
),

final as (
    select
        * exclude (raw_satisfaction, raw_nps, team_known, first_seen, earliest_event_at, latest_event_at),
        nullif(concat_ws('; ',
            case when is_blank(response_key) then 'response_id is blank' end,
            case when team is null then 'team is blank'
                when not team_known then 'unknown team ' || team || ' (no service of the services file has it)' end,
            case when not is_blank(raw_satisfaction) and satisfaction is null
                then 'satisfaction ' || raw_satisfaction || ' is not a number' end,
            case when not is_blank(raw_nps) and (nps is null or nps <> round(nps) or nps not between 0 and 10)
                then 'nps ' || raw_nps || ' is not a whole number from 0 to 10' end,
            case when is_blank(raw_satisfaction) and is_blank(raw_nps) then 'neither satisfaction nor nps is given' end,
            case when submitted_at < earliest_event_at
                then 'submitted_at ' || submitted_at || ' is before ' || strftime(earliest_event_at, '%Y-%m-%d') || ' (earliest_event_date)'
                when submitted_at > latest_event_at
                then 'submitted_at ' || submitted_at || ' is in the future (after the run time + future_tolerance_hours)' end,
            case when not is_blank(response_key) and first_seen is not null
                and {'file': _file, 'line': _line} <> first_seen
                then 'duplicate response_id ' || response_key || ' (first at ' || first_seen.file || ':' || first_seen.line || ')' end
        ), '') as quarantine_reason
    from renamed
    cross join time_window
)

select * from final
