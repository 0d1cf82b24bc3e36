-- Cost and utilization input rows that were not loaded, with where they came from and why (the same
-- columns as ops.quarantine): fix the export or the source and re-run.
with load_errors as (
    select source, 'costs' as entity, _file as file, _line as line,
        cast(null as varchar) as record_key, error as reason, record
    from raw.focus__load_errors
),

focus as (
    select 'focus', 'costs', s._file, s._line, s.cost_id, s.quarantine_reason, to_json(r)::varchar
    from staging.stg_focus__costs as s
    join raw.focus__costs as r using (_file, _line)
    where s.quarantine_reason is not null
),

aws_ce as (
    select 'aws_cost_explorer', 'costs', s._file, s._line, s.cost_id, s.quarantine_reason, cast(null as varchar)
    from staging.stg_aws_ce__costs as s
    where s.quarantine_reason is not null
),

final as (
    select * from load_errors
    union all select * from focus
    union all select * from aws_ce
)

select * from final order by source, entity, file, line
