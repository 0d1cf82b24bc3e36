-- Drift assessments (refresh-only plan JSON, HCP Terraform assessment results) with the service of
-- their workspace (config/kpi.yaml security.workspaces, else the service of the same name).
with source as (
    select * from raw.security__terraform_assessments
),

services as (
    select distinct service from staging.stg_security__services
),

renamed as (
    select
        s.source || ':' || s.workspace || ':' || strftime(s.assessed_at, '%Y-%m-%dT%H:%M:%S') as assessment_id,
        s.source,
        s.workspace,
        coalesce(w.service, s.workspace) as service,
        s.assessed_at,
        s.succeeded,
        s.managed_resources,
        s.drifted_resources,
        s.drifted_addresses,
        s._file,
        case
            when k.service is null then 'workspace ' || s.workspace
                || ' belongs to no known service (map it in config/kpi.yaml security.workspaces)'
        end as quarantine_reason
    from source as s
    left join ops.security_workspaces as w on w.workspace = s.workspace
    left join services as k on k.service = coalesce(w.service, s.workspace)
)

select * from renamed
