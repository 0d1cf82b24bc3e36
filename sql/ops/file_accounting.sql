-- Every file of the file import and what became of each of its lines and records: the header, blank
-- lines, records loaded into the domain tables and records quarantined (ops.quarantine). A file adds
-- up when header + blank + record lines = its lines (a record whose quoted field spans lines counts
-- each of them) and loaded + quarantined = the records read; the blocking check
-- file_accounting_balanced stops the run otherwise. Entity files that are missing, and files in the
-- folder that no entity reads, are listed too, with a note.
with manifest as (
    select * from raw.files__manifest
),

staged as (
    select 'services' as entity, _file as file, count(*) filter (where quarantine_reason is null) as loaded
    from staging.stg_files__services
    group by all
    union all
    select 'deployments', _file, count(*) filter (where quarantine_reason is null)
    from staging.stg_files__deployments
    group by all
    union all
    select 'changes', _file, count(*) filter (where quarantine_reason is null)
    from staging.stg_files__changes
    group by all
    union all
    select 'incidents', _file, count(*) filter (where quarantine_reason is null)
    from staging.stg_files__incidents
    group by all
    union all
    select 'builds', _file, count(*) filter (where quarantine_reason is null)
    from staging.stg_files__builds
    group by all
    union all
    select 'survey_responses', _file, count(*) filter (where quarantine_reason is null)
    from staging.stg_files__survey_responses
    group by all
    union all
    select 'enablement_sessions', _file, count(*) filter (where quarantine_reason is null)
    from staging.stg_files__enablement_sessions
    group by all
    union all
    select 'catalog_entities', _file, count(*) filter (where quarantine_reason is null)
    from staging.stg_files__catalog_entities
    group by all
    union all
    select 'ci_config_scans', _file, count(*) filter (where quarantine_reason is null)
    from staging.stg_files__ci_config_scans
    group by all
    union all
    select 'docs_pages', _file, count(*) filter (where quarantine_reason is null)
    from staging.stg_files__docs_pages
    group by all
    union all
    select 'alerts', _file, count(*) filter (where quarantine_reason is null)
    from staging.stg_files__alerts
    group by all
),

quarantined as (
    select entity, file, count(*) as quarantined
    from ops.quarantine
    where source = 'files'
    group by all
),

final as (
    select
        m.entity,
        m.file,
        m.format,
        m.status,
        m.bytes,
        m.lines,
        m.header_lines,
        m.blank_lines,
        m.lines - m.header_lines - m.blank_lines as record_lines,
        m.continuation_lines,
        m.records,
        coalesce(s.loaded, 0) as loaded,
        coalesce(q.quarantined, 0) as quarantined,
        m.header_lines + m.blank_lines + m.continuation_lines + m.records = m.lines as lines_balanced,
        coalesce(s.loaded, 0) + coalesce(q.quarantined, 0) = m.records as records_balanced,
        m.repaired,
        m.ignored_columns,
        m.note
    from manifest as m
    left join staged as s on s.entity = m.entity and s.file = m.file
    left join quarantined as q on q.entity = m.entity and q.file = m.file
)

select * from final
