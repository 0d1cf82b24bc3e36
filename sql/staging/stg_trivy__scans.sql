-- Trivy scans, one row per report: the scan series of each service. A finding absent from a later
-- scan of its series was fixed at that scan (core.vulnerability_findings).
with source as (
    select * from raw.security__trivy_scans
),

services as (
    select distinct service from staging.stg_security__services
),

renamed as (
    select
        s.lineage as service,
        s.scanned_at,
        s.artifact_name,
        s.report_id,
        s.vulnerabilities,
        s._file,
        case
            when k.service is null then 'unknown service ' || s.lineage
                || ' (the trivy/<service>/ folder must name a service of services.csv)'
        end as quarantine_reason
    from source as s
    left join services as k on k.service = s.lineage
)

select * from renamed
