-- CI pipelines (one per service) per month: builds, default-branch success rate, p50/p95 build time
-- and flaky failures, so the CI page can name the slowest and flakiest pipelines. A flaky failure is
-- a failed build whose next build on the same service and branch started within 30 minutes of it
-- finishing and passed: a retry that succeeded without a new change in between.
-- The success rate and build-time percentiles are the service's ci_pipeline_success_rate and
-- build_duration_p50_sec / _p95_sec from marts.kpi_values: one definition, computed once.
with source as (
    select service, team, branch, build_id, status, is_default_branch, started_at, finished_at
    from core.cicd_builds
    where finished_at is not null and status in ('SUCCESS', 'FAILURE')
),

sequenced as (
    select
        *,
        lead(status) over w as next_status,
        lead(started_at) over w as next_started_at
    from source
    window w as (partition by service, branch order by started_at, build_id)
),

flagged as (
    select
        *,
        coalesce(
            status = 'FAILURE'
            and next_status = 'SUCCESS'
            and next_started_at <= finished_at + interval 30 minute,
            false
        ) as is_flaky_failure
    from sequenced
),

counted as (
    select
        date_trunc('month', finished_at)::date as month,
        service,
        team,
        count(*) as builds,
        count(*) filter (where is_default_branch) as default_branch_builds,
        count(*) filter (where status = 'FAILURE') as failures,
        count(*) filter (where is_flaky_failure) as flaky_failures
    from flagged
    group by all
),

service_kpis as (
    select
        period_start as month,
        scope as service,
        max(value) filter (where kpi_id = 'ci_pipeline_success_rate') as default_branch_success_rate,
        max(value) filter (where kpi_id = 'build_duration_p50_sec') as duration_p50_sec,
        max(value) filter (where kpi_id = 'build_duration_p95_sec') as duration_p95_sec
    from marts.kpi_values
    where grain = 'month'
        and scope_type = 'service'
        and kpi_id in ('ci_pipeline_success_rate', 'build_duration_p50_sec', 'build_duration_p95_sec')
    group by all
),

final as (
    select
        c.month,
        c.service,
        c.team,
        c.builds,
        c.default_branch_builds,
        k.default_branch_success_rate,
        k.duration_p50_sec,
        k.duration_p95_sec,
        c.failures,
        c.flaky_failures,
        c.flaky_failures / c.builds as flaky_rate
    from counted as c
    left join service_kpis as k using (month, service)
)

select * from final order by month, service
