-- materialized: view
-- Observations of the alert-noise and platform-incident KPIs in the shape of marts.kpi_observations:
--   alert_actionable_ratio: one row per alert in the month it was raised, x = 1 when it was actionable
--     (core.alerts.is_actionable: acknowledged by a person, or part of an incident that did not
--     resolve itself), else 0; the mean is the actionable share.
--   alerts_per_oncall_week: one row per on-call team per month, observed at the month's last instant:
--     x = the alerts raised on the team's services that month, w = the month's weeks (its days / 7; the
--     month of the run only up to the run time). A team is on call from the month of its first alert to
--     the month of the organisation's last one, so a quiet month counts 0. The ratio of sums gives a
--     team its alerts per week of its rotation, and the organisation the mean over team-weeks.
--   platform_incident_rate: one row per incident on a platform service (owned by a team of
--     config platform_incidents.owner_teams, or listed in its services) in the month it was opened,
--     x = its severity's weight (weights, matched case-insensitively; default_weight otherwise).
--   platform_incident_mttr_hours: one row per resolved platform incident in the month it was resolved,
--     x = hours from opened to resolved; the mean is the MTTR.
with settings as (
    select * from ops.platform_incident_settings
),

alerts as (
    select * from core.alerts
),

bounds as (
    select date_trunc('month', min(created_at)) as first_month, date_trunc('month', max(created_at)) as last_month
    from alerts
),

months as (
    select cast(unnest(generate_series(first_month, last_month, interval 1 month)) as timestamp) as month
    from bounds
    where first_month is not null
),

oncall_teams as (
    select team, date_trunc('month', min(created_at)) as first_month from alerts group by team
),

team_months as (
    select
        t.team,
        m.month,
        count(a.alert_id) as alerts,
        -- the month's length in weeks, up to the run time for the month of the run
        greatest(date_diff('second', m.month, least(m.month + interval 1 month, k.as_of)), 1) / 604800.0
            as weeks
    from oncall_teams as t
    join months as m on m.month >= t.first_month
    cross join (select as_of from ops.kpi_settings) as k
    left join alerts as a on a.team = t.team and date_trunc('month', a.created_at) = m.month
    group by t.team, m.month, k.as_of
),

platform_incidents as (
    select
        i.*,
        coalesce(
            list_filter(s.weights, lambda w: w.severity = lower(trim(i.severity)))[1].weight, s.default_weight
        ) as weight
    from core.incidents as i
    cross join settings as s
    where list_contains(s.owner_teams, i.team) or list_contains(s.services, i.service)
),

final as (
    select 'alert_actionable_ratio' as measure, alert_id as subject_id, service, team,
        created_at as observed_at, is_actionable::double as x, 1.0::double as w
    from alerts
    union all
    select 'alerts_per_oncall_week', team || ':' || strftime(month, '%Y-%m'), null, team,
        month + interval 1 month - interval 1 microsecond, alerts::double, weeks
    from team_months
    where weeks > 0
    union all
    select 'platform_incident_rate', incident_id, service, team, created_at, weight, 1.0::double
    from platform_incidents
    union all
    select 'platform_incident_mttr_hours', incident_id, service, team, resolved_at,
        time_to_restore_sec / 3600.0, 1.0::double
    from platform_incidents
    where resolved_at is not null
)

select * from final
