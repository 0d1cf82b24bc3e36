-- Every CI build (pipeline run), with whether it ran on the default branch: the source's flag when
-- given, else the branch is one of ops.kpi_settings.default_branches.
with source as (
    select * from staging.stg_files__builds where quarantine_reason is null
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
        'files' as source,
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
