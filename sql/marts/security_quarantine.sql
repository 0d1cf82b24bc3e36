-- Security report files and records that were not loaded, with where they came from and why (the
-- same columns as ops.quarantine): the file, the position in it, the reason.
with load_errors as (
    select
        source,
        entity,
        _file as file,
        case when position like 'line %' then try_cast(substr(position, 6) as bigint) end as line,
        cast(null as varchar) as record_key,
        position || ': ' || reason as reason,
        record
    from raw.security__load_errors
),

trivy as (
    select 'security', 'trivy', _file, cast(null as bigint), finding_id, _position || ': ' || quarantine_reason,
        cast(null as varchar)
    from staging.stg_trivy__vulnerabilities
    where quarantine_reason is not null
),

alerts as (
    select 'security', tool, _file, cast(null as bigint), finding_id, _position || ': ' || quarantine_reason,
        cast(null as varchar)
    from staging.stg_github__security_alerts
    where quarantine_reason is not null
),

conftest as (
    select 'security', 'conftest', _file, cast(null as bigint), evaluation_id,
        _position || ': ' || quarantine_reason, cast(null as varchar)
    from staging.stg_conftest__results
    where quarantine_reason is not null
),

terraform as (
    select 'security', 'terraform', _file, cast(null as bigint), assessment_id, quarantine_reason,
        cast(null as varchar)
    from staging.stg_terraform__assessments
    where quarantine_reason is not null
),

waivers as (
    select 'security', 'waivers', _file, cast(null as bigint), waiver_key, _position || ': ' || quarantine_reason,
        cast(null as varchar)
    from staging.stg_security__waivers
    where quarantine_reason is not null
),

provisioning as (
    select 'security', 'provisioning', _file, _line, request_id, quarantine_reason, cast(null as varchar)
    from staging.stg_security__provisioning_requests
    where quarantine_reason is not null
),

final as (
    select * from load_errors
    union all select * from trivy
    union all select * from alerts
    union all select * from conftest
    union all select * from terraform
    union all select * from waivers
    union all select * from provisioning
)

select * from final
