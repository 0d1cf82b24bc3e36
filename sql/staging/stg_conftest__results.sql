-- Conftest results, one row per evaluated file of a change or pipeline run, with its service and the
-- rules its exceptions let through.
with source as (
    select * from raw.security__conftest_results
),

services as (
    select distinct service from staging.stg_security__services
),

renamed as (
    select
        'conftest:' || s.service || ':' || s.subject_key as evaluation_id,
        s.service,
        s.subject_key,
        s.evaluated_at,
        s.filename,
        s.namespace,
        s.successes,
        s.failures,
        s.warnings,
        s.exceptions,
        s.skipped,
        -- each exception's rule: Conftest writes the exception query as its msg, e.g.
        -- data.main.exception[_][_] == "run_as_root"; the quoted name is the rule excepted
        list_transform(
            from_json(coalesce(s._record -> 'exceptions', '[]'), '["json"]'),
            lambda e: coalesce(nullif(regexp_extract(e ->> 'msg', '"([^"]+)"', 1), ''), e ->> 'msg')
        ) as exception_rules,
        s._file,
        s._position,
        case
            when k.service is null then 'unknown service ' || s.service
                || ' (the conftest/<service>/ folder must name a service of services.csv)'
        end as quarantine_reason
    from source as s
    left join services as k on k.service = s.service
)

select * from renamed
