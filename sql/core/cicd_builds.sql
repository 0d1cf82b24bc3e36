-- Every CI build (pipeline run), with whether it ran on the default branch: the source's flag when
-- given, else the branch is one of ops.kpi_settings.default_branches.
-- Every source's staging model, files and APIs alike; a row without a source column came from files.
with source as (
    select * from staging.stg_files__builds where quarantine_reason is null
    union all by name
    select * from staging.stg_github__builds where quarantine_reason is null
    union all by name
    select * from staging.stg_gitlab__builds where quarantine_reason is null
    union all by name
    select * from staging.stg_jenkins__builds where quarantine_reason is null
),

settings as (
    select default_branches from ops.kpi_settings
),

services as (
    select service, team from core.services
),

renamed as (
    select
        s.build_id,
        coalesce(s.source, 'files') as source,
        s.service,
        v.team,
        s.branch,
        coalesce(s.is_default_branch, list_contains(t.default_branches, s.branch)) as is_default_branch,
        s.status,
        s.original_status,
        s.started_at,
        s.finished_at,
        date_diff('second', s.started_at, s.finished_at) as duration_sec
    from source as s
    cross join settings as t
    join services as v using (service)
),

final as (
    select * from renamed
)

select * from final
