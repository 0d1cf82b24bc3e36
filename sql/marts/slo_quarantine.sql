-- SLO spec files, documents, result rows and Prometheus samples that were not loaded, with where they
-- came from and why (the same columns as ops.quarantine).
with load_errors as (
    select 'slos' as source, 'slo_specs' as entity, _file as file, cast(null as bigint) as line,
        record_key, _position || ': ' || error as reason, cast(null as varchar) as record
    from raw.slo__load_errors
),

results as (
    select 'slos', 'slo_results', _file, _line, slo_key, quarantine_reason, cast(null as varchar)
    from staging.stg_slo__results
    where quarantine_reason is not null
),

samples as (
    select 'prometheus', 'slo_samples', _origin, _line, slo_id, quarantine_reason, cast(null as varchar)
    from staging.stg_prometheus__slo_samples
    where quarantine_reason is not null
),

final as (
    select * from load_errors
    union all select * from results
    union all select * from samples
)

select * from final
