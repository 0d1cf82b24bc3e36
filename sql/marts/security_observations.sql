-- Observations of the security and compliance KPIs, in the shape of marts.kpi_observations with a
-- weight w (the denominator of ratio KPIs; 1 elsewhere). States at a month's end (open findings past
-- their SLA, active and expired waivers) are one observation per subject and month, observed at the
-- month's last instant, so marts.kpi_values sums them like any count; the month of the run counts as
-- of the run.
with settings as (
    select as_of from ops.kpi_settings
),

findings as (
    select * from core.vulnerability_findings where sla_days is not null and resolution <> 'false_positive'
),

-- Month ends a state is read at: from the first month it can count in to the run's month.
month_ends as (
    select
        m.month,
        least(m.month + interval 1 month, s.as_of) as at_time,
        m.month + interval 1 month - interval 1 microsecond as observed_at
    from (
        select unnest(generate_series(
            (select min(date_trunc('month', t)) from (
                select min(first_seen_at) as t from core.vulnerability_findings
                union all select min(created_at) from core.waivers
            ) where t is not null),
            (select date_trunc('month', as_of) from settings),
            interval 1 month
        ))::timestamp as month
    ) as m
    cross join settings as s
),

final as (
    -- A finding counts in the month its SLA window ends, once it has ended: fixed within it or not. A
    -- risk accepted before the window ended is waived, not missed.
    select 'vulnerability_sla_adherence' as measure, f.finding_id as subject_id, f.service, f.team,
        f.due_at as observed_at, coalesce(f.fixed_within_sla, false)::double as x, 1.0 as w
    from findings as f
    cross join settings as s
    where f.due_at <= s.as_of
        and not (f.resolution = 'risk_accepted' and f.dismissed_at <= f.due_at)
    union all
    select 'open_vulnerabilities_past_sla', f.finding_id || '@' || strftime(m.month, '%Y-%m'), f.service, f.team,
        m.observed_at, 1.0, 1.0
    from findings as f
    join month_ends as m
        on f.due_at < m.at_time
        and coalesce(f.fixed_at, f.dismissed_at, m.at_time + interval 1 second) > m.at_time
    union all
    select 'vulnerability_fix_time_days', finding_id, service, team, fixed_at, fix_time_days, 1.0
    from findings
    where fixed_at is not null
    union all
    select 'policy_compliance_rate', evaluation_id, service, team, evaluated_at, is_compliant::double, 1.0
    from core.policy_evaluations
    union all
    select 'policy_warning_rate', evaluation_id, service, team, evaluated_at, has_warnings::double, 1.0
    from core.policy_evaluations
    union all
    select 'active_waivers', w.waiver_id || '@' || strftime(m.month, '%Y-%m'), w.service, w.team, m.observed_at,
        1.0, 1.0
    from core.waivers as w
    join month_ends as m
        on w.created_at < m.at_time
        and coalesce(w.closed_at, m.at_time + interval 1 second) > m.at_time
        and coalesce(w.expires_at, m.at_time + interval 1 second) > m.at_time
    union all
    select 'waiver_age_days', w.waiver_id || '@' || strftime(m.month, '%Y-%m'), w.service, w.team, m.observed_at,
        date_diff('second', w.created_at, m.at_time) / 86400.0, 1.0
    from core.waivers as w
    join month_ends as m
        on w.created_at < m.at_time
        and coalesce(w.closed_at, m.at_time + interval 1 second) > m.at_time
        and coalesce(w.expires_at, m.at_time + interval 1 second) > m.at_time
    union all
    select 'expired_waivers_still_active', w.waiver_id || '@' || strftime(m.month, '%Y-%m'), w.service, w.team,
        m.observed_at, 1.0, 1.0
    from core.waivers as w
    join month_ends as m
        on w.expires_at <= m.at_time
        and coalesce(w.closed_at, m.at_time + interval 1 second) > m.at_time
    union all
    -- Provenance over deployments with a known digest; those without one are counted apart.
    select 'artifact_provenance_coverage', deployment_id, service, team, finished_at, is_attested::double, 1.0
    from core.artifact_provenance
    where has_digest
    union all
    select 'deployments_without_digest', deployment_id, service, team, finished_at, 1.0, 1.0
    from core.artifact_provenance
    where not has_digest and exists (select 1 from raw.security__deployment_artifacts)
    union all
    -- Drift: drifted / managed resources at each workspace's last assessment of the month.
    select 'iac_drift_rate', assessment_id, service, team, assessed_at, drifted_resources::double,
        managed_resources::double
    from core.iac_assessments
    where is_last_of_month
    union all
    select 'provisioning_lead_time_hours', request_id, service, team, ready_at, lead_time_hours, 1.0
    from core.provisioning_requests
    where ready_at is not null
)

select * from final
