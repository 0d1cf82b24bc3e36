-- Evaluated changes and pipeline runs, one row per Conftest result file: compliant when no policy
-- failed and no exception let a failure through; warnings are counted apart (they do not fail it).
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
