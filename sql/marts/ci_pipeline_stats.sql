-- CI pipelines (one per service) per month: builds, default-branch success rate, p50/p95 build time
-- and flaky failures, so the CI page can name the slowest and flakiest pipelines. A flaky failure is
-- a failed build whose next build on the same service and branch started within 30 minutes of it
-- finishing and passed: a retry that succeeded without a new change in between.
with source as (
    select * from core.cicd_builds
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

final as (
    select
        date_trunc('month', finished_at)::date as month,
        service,
        team,
        count(*) as builds,
        count(*) filter (where is_default_branch) as default_branch_builds,
        avg((status = 'SUCCESS')::double) filter (where is_default_branch) as default_branch_success_rate,
        quantile_cont(duration_sec, 0.5) filter (where duration_sec is not null) as duration_p50_sec,
        quantile_cont(duration_sec, 0.95) filter (where duration_sec is not null) as duration_p95_sec,
        count(*) filter (where status = 'FAILURE') as failures,
        count(*) filter (where is_flaky_failure) as flaky_failures,
        count(*) filter (where is_flaky_failure) / count(*) as flaky_rate
    from flagged
    group by all
)

select * from final order by month, service
