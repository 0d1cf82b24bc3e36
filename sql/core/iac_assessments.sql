-- Drift assessments of Terraform workspaces that ran to the end, with the workspace's service and team.
with source as (
    select * from staging.stg_terraform__assessments
    where quarantine_reason is null and succeeded
),

final as (
    select
        s.assessment_id,
        s.source,
        s.workspace,
        s.service,
        v.team,
        s.assessed_at,
        s.managed_resources,
        s.drifted_resources,
        s.drifted_addresses,
        -- the last assessment of its workspace in the month: the one iac_drift_rate reads
        row_number() over (
            partition by s.workspace, date_trunc('month', s.assessed_at) order by s.assessed_at desc
        ) = 1 as is_last_of_month
    from source as s
    join core.services as v using (service)
)

select * from final
