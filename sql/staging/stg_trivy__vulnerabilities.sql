-- Trivy findings, one row per vulnerability per scan: the finding's key is (service, package,
-- vulnerability id), never the image digest, so a rebuilt image keeps its findings' clocks. Rows of a
-- folder that names no known service are quarantined.
with source as (
    select * from raw.security__trivy_vulnerabilities
),

services as (
    select distinct service from staging.stg_security__services
),

renamed as (
    select
        'trivy:' || s.lineage || ':' || s.pkg_name || ':' || s.vulnerability_id as finding_id,
        s.lineage as service,
        s.scanned_at,
        s.target,
        s.vulnerability_id,
        s.pkg_name,
        s.installed_version,
        s.fixed_version,
        lower(s.severity) as severity,
        s.severity as original_severity,
        s.status,
        s._file,
        s._position,
        case
            when k.service is null then 'unknown service ' || s.lineage
                || ' (the trivy/<service>/ folder must name a service of services.csv)'
        end as quarantine_reason
    from source as s
    left join services as k on k.service = s.lineage
)

select * from renamed
