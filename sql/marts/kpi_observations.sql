-- materialized: view
-- The observations every KPI value is computed from, one row per (measure, subject): x is 1/0 for
-- rates and counts, a duration for time KPIs. marts.kpi_values aggregates them by period and scope,
-- and a dashboard drill-down lists exactly the rows behind a number.

-- The CTEs are used more than once; "not materialized" lets DuckDB push each branch's filter into the
-- scan instead of first copying every build and deployment into a temporary result.
with successful_production as not materialized (
    select * from core.deployment_outcomes
),

production_finished as not materialized (
    select deployment_id, service, team, finished_at, status
    from core.deployments
    where is_production and finished_at is not null and status in ('SUCCESS', 'FAILURE')
),

finished_builds as not materialized (
    select build_id, service, team, finished_at, status, is_default_branch, duration_sec
    from core.cicd_builds
    where finished_at is not null and status in ('SUCCESS', 'FAILURE')
),

final as (
    select 'deployment_frequency' as measure, deployment_id as subject_id, service, team,
        finished_at as observed_at, 1.0 as x
    from successful_production
    union all
    select 'rollback_frequency', deployment_id, service, team, finished_at, is_rollback::double
    from successful_production
    union all
    select 'change_failure_rate', deployment_id, service, team, finished_at, is_failed::double
    from successful_production
    union all
    select 'rework_rate', deployment_id, service, team, finished_at, is_rework::double
    from successful_production
    union all
    select 'failed_deployment_recovery_time_hours', deployment_id, service, team, finished_at,
        recovery_time_sec / 3600.0
    from successful_production
    where is_failed and recovered_at is not null
    union all
    select 'deployment_success_rate', deployment_id, service, team, finished_at, (status = 'SUCCESS')::double
    from production_finished
    union all
    select 'lead_time_for_changes_hours', change_id, service, team, deployed_at, lead_time_sec / 3600.0
    from core.change_lead_times
    union all
    -- the lead time's stages (core.change_lead_times), in the month the change reached production
    select 'coding_time_hours', change_id, service, team, deployed_at, coding_time_sec / 3600.0
    from core.change_lead_times
    union all
    select 'pickup_time_hours', change_id, service, team, deployed_at, pickup_time_sec / 3600.0
    from core.change_lead_times
    where pickup_time_sec is not null
    union all
    select 'review_time_hours', change_id, service, team, deployed_at, review_time_sec / 3600.0
    from core.change_lead_times
    where review_time_sec is not null
    union all
    select 'deploy_time_hours', change_id, service, team, deployed_at, deploy_time_sec / 3600.0
    from core.change_lead_times
    union all
    -- merged changes, in the month they merged, where the source gives their size / reviews
    select 'pr_size_lines', change_id, service, team, merged_at, (additions + deletions)::double
    from core.changes
    where additions is not null and deletions is not null
    union all
    select 'unreviewed_merge_rate', change_id, service, team, merged_at, (first_review_at is null)::double
    from core.changes
    where pr_flow_known
    union all
    select 'time_to_restore_hours', incident_id, service, team, resolved_at, time_to_restore_sec / 3600.0
    from core.incidents
    where resolved_at is not null
    union all
    select 'ci_pipeline_success_rate', build_id, service, team, finished_at, (status = 'SUCCESS')::double
    from finished_builds
    where is_default_branch
    union all
    select 'build_duration_sec', build_id, service, team, finished_at, duration_sec::double
    from finished_builds
    where duration_sec is not null
)

-- w is the weight of an observation: the denominator of ratio KPIs (sum(x) / sum(w)). 1 for every row
-- above, so sum, mean and quantile KPIs are unaffected. Cost and cluster-efficiency observations
-- (marts.cost_observations) carry their own.
select *, 1.0::double as w from final
union all
select measure, subject_id, service, team, observed_at, x, w from marts.cost_observations
union all
select measure, subject_id, service, team, observed_at, x, w from marts.operations_observations
union all
select measure, subject_id, service, team, observed_at, x, w from marts.platform_observations
union all select measure, subject_id, service, team, observed_at, x, w from marts.security_observations
union all select measure, subject_id, service, team, observed_at, x, w from marts.enablement_observations
union all select measure, subject_id, service, team, observed_at, x, w from marts.alerts_observations
union all select measure, subject_id, service, team, observed_at, x, w from marts.slo_observations
