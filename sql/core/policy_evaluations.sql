-- Evaluated changes and pipeline runs, one row per Conftest result file, and Kubernetes resources, one
-- row per resource and day of a Kyverno report: compliant when no policy failed (Kyverno fail or error)
-- and no exception let a failure through; warnings are counted apart (they do not fail it).
with source as (
    select * from staging.stg_conftest__results where quarantine_reason is null
),

evaluations as (
    select
        evaluation_id,
        'conftest' as source,
        service,
        subject_key,
        min(evaluated_at) as evaluated_at,
        sum(successes) as successes,
        sum(failures) as failures,
        sum(warnings) as warnings,
        sum(exceptions) as exceptions,
        any_value(_file) as _file
    from source
    group by evaluation_id, service, subject_key
    union all
    select
        evaluation_id,
        'kyverno',
        service,
        any_value(namespace || '/' || resource_kind || '/' || resource_name),
        min(evaluated_at),
        count(*) filter (where result = 'pass'),
        count(*) filter (where result in ('fail', 'error')),
        count(*) filter (where result = 'warn'),
        count(*) filter (where is_exception),
        any_value(_file)
    from staging.stg_kyverno__results
    group by evaluation_id, service
),

final as (
    select
        e.evaluation_id,
        e.source,
        e.service,
        v.team,
        e.subject_key,
        e.evaluated_at,
        e.successes,
        e.failures,
        e.warnings,
        e.exceptions,
        e.failures = 0 and e.exceptions = 0 as is_compliant,
        e.warnings > 0 as has_warnings,
        e._file
    from evaluations as e
    join core.services as v using (service)
)

select * from final
