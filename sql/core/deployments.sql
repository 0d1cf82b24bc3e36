-- Every deployment attempt to any environment, one row per deployment, with its team and whether its
-- environment counts as production (ops.kpi_settings.production_environment_pattern).
-- Every source's staging model, files and APIs alike; a row without a source column came from files.
with source as (
    select * from staging.stg_files__deployments where quarantine_reason is null
    union all by name
    select * from staging.stg_github__deployments where quarantine_reason is null
),

settings as (
    select production_environment_pattern from ops.kpi_settings
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
        regexp_full_match(s.environment, '(?i)' || t.production_environment_pattern) as is_production,
        s.status,
        s.original_status,
        s.started_at,
        s.finished_at,
        date_diff('second', s.started_at, s.finished_at) as duration_sec,
        s.commit_sha,
        s.is_rollback,
        s.is_hotfix
    from source as s
    cross join settings as t
    join services as v using (service)
),

final as (
    select * from renamed
)

select * from final
