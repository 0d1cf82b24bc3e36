-- Drift assessments (refresh-only plan JSON files, HCP Terraform assessment results from files or the
-- API) with the service of their workspace (config/kpi.yaml security.workspaces, else the service of
-- the same name). An API result counts its plan JSON's resources when the plan could be read, else the
-- result's resources-drifted / resources-undrifted; with neither it is quarantined.
with files as (
    select
        source,
        workspace,
        assessed_at,
        succeeded,
        managed_resources,
        drifted_resources,
        drifted_addresses,
        _file
    from raw.security__terraform_assessments
),

api as (
    select
        'hcp_terraform' as source,
        scope as workspace,
        utc_ts(payload -> 'assessment' -> 'attributes' ->> 'created-at') as assessed_at,
        coalesce(try_cast(payload -> 'assessment' -> 'attributes' ->> 'succeeded' as boolean), false) as succeeded,
        coalesce(
            try_cast(payload -> 'plan' ->> 'managed_resources' as bigint),
            try_cast(payload -> 'assessment' -> 'attributes' ->> 'resources-drifted' as bigint)
            + try_cast(payload -> 'assessment' -> 'attributes' ->> 'resources-undrifted' as bigint)
        ) as managed_resources,
        coalesce(
            try_cast(payload -> 'plan' ->> 'drifted_resources' as bigint),
            try_cast(payload -> 'assessment' -> 'attributes' ->> 'resources-drifted' as bigint)
        ) as drifted_resources,
        coalesce(cast(payload -> 'plan' -> 'drifted_addresses' as varchar[]), []) as drifted_addresses,
        'hcp_terraform:assessment_result:' || key as _file
    from raw.hcp_terraform__assessment_results
),

source as (
    select * from files
    union all
    select * from api
),

services as (
    select distinct service from staging.stg_security__services
),

renamed as (
    select
        s.source || ':' || s.workspace || ':' || coalesce(strftime(s.assessed_at, '%Y-%m-%dT%H:%M:%S'), '?')
            as assessment_id,
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
            when s.assessed_at is null then 'no created-at'
            when s.managed_resources is null then
                'no resource counts (the plan JSON was refused: use a user or team token, not an organisation token)'
        end as quarantine_reason
    from source as s
    left join ops.security_workspaces as w on w.workspace = s.workspace
    left join services as k on k.service = coalesce(w.service, s.workspace)
)

select * from renamed
