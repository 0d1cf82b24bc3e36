-- Deployment attempts per month, service and environment (every environment, not only production),
-- with their outcome, so the Delivery page can show where deployments go and the environment filter
-- has something to narrow. The DORA KPIs themselves count production only (marts.kpi_monthly).
with source as (
    select * from core.deployments where finished_at is not null
),

final as (
    select
        date_trunc('month', finished_at)::date as month,
        service,
        team,
        environment,
        is_production,
        count(*) as attempts,
        count(*) filter (where status = 'SUCCESS') as successful,
        count(*) filter (where status = 'FAILURE') as failed,
        count(*) filter (where status = 'SUCCESS' and is_rollback) as rollbacks,
        count(*) filter (where status = 'SUCCESS' and is_hotfix) as hotfixes
    from source
    group by all
)

select * from final order by month, service, environment
