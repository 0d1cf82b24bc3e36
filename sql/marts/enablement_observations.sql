-- materialized: view
-- Observations of the enablement KPIs in the shape of marts.kpi_observations plus a weight w:
--   enablement_sessions_held: one row per session, in the month it was held, for its audience team
--     (NULL for an organisation-wide session: it counts for the organisation only); x = 1.
--   enablement_unique_attendees: one row per attendee per month they attended, for the organisation
--     only (an attendee is not tied to a team); x = 1, so the month's sum is the unique attendees.
--   enablement_reach: month-end states, one row per team (every team owning a service) per month from
--     the first session on, observed at the month's last instant; x = 1 when a session for that team was
--     held in the calendar quarter so far (from the quarter's first day to the month's end), so the
--     organisation's mean is the share of teams reached this quarter.
with sessions as (
    select * from core.enablement_sessions
),

teams as (
    select distinct team from core.services where team is not null
),

months as (
    select cast(unnest(generate_series(
        date_trunc('month', min(held_at)), date_trunc('month', (select as_of from ops.kpi_settings)),
        interval 1 month
    )) as date) as month
    from sessions
    having count(*) > 0
),

reach as (
    select
        m.month,
        t.team,
        exists (
            select 1 from sessions as s
            where s.team = t.team
                and s.held_at >= date_trunc('quarter', m.month)
                and s.held_at < m.month + interval 1 month
        ) as reached
    from months as m
    cross join teams as t
),

attendance as (
    select date_trunc('month', held_at) as month, unnest(attendee_hashes) as attendee, held_at
    from sessions
),

final as (
    select 'enablement_sessions_held' as measure, session_id as subject_id, cast(null as varchar) as service,
        team, held_at as observed_at, 1.0::double as x, 1.0::double as w
    from sessions
    union all
    select 'enablement_unique_attendees', 'attendee:' || attendee, null, null, min(held_at), 1.0, 1.0
    from attendance
    group by month, attendee
    union all
    select 'enablement_reach', 'team:' || team, null, team,
        month + interval 1 month - interval 1 microsecond, case when reached then 1.0 else 0.0 end, 1.0
    from reach
)

select * from final
