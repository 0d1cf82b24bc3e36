-- Every deployment attempt to any environment, one row per deployment, with its team and whether its
-- environment counts as production (ops.kpi_settings.production_environment_pattern).
-- Every source's staging model, files and APIs alike; a row without a source column came from files.
with source as materialized (
    select * from staging.stg_files__deployments where quarantine_reason is null
    union all by name
    select * from staging.stg_github__deployments where quarantine_reason is null
    union all by name
    select * from staging.stg_gitlab__deployments where quarantine_reason is null
    union all by name
    select * from staging.stg_jenkins__deployments where quarantine_reason is null
    union all by name
    select * from staging.stg_sql__deployments where quarantine_reason is null
),

-- The pattern is matched once per distinct environment name, not once per deployment.
environments as (
    select
        e.environment,
        regexp_full_match(e.environment, '(?i)' || t.production_environment_pattern) as is_production
    from (select distinct environment from source) as e
    cross join ops.kpi_settings as t
),

services as (
    select service, team from core.services
),

renamed as (
    select
        s.deployment_id,
        coalesce(s.source, 'files') as source,
        s.service,
        v.team,
        s.environment,
        coalesce(e.is_production, false) as is_production,
        s.status,
        s.original_status,
        s.started_at,
        s.finished_at,
        date_diff('second', s.started_at, s.finished_at) as duration_sec,
        s.commit_sha,
        s.is_rollback,
        s.is_hotfix
    from source as s
    left join environments as e on e.environment = s.environment
    join services as v using (service)
),

final as (
    select * from renamed
)

select * from final
