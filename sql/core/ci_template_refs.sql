-- What each scan of a repository's CI configuration found: one row per template reference per scan
-- (a scanned file without any has a NULL reference). The scan in force at a time is the latest scan
-- of the repository taken at or before it.
with source as (
    select * from staging.stg_files__ci_config_scans where quarantine_reason is null
),

final as (
    select
        repo,
        scanned_at,
        path,
        kind,
        reference,
        version,
        source
    from source
)

select * from final
