-- The service catalog as it was at each snapshot: one row per entity per snapshot_at, from every
-- catalog source (the catalog_entities file, Backstage). The snapshot in force at a time is the latest
-- one taken at or before it.
with source as (
    select * from staging.stg_files__catalog_entities where quarantine_reason is null
    union all by name
    select * from staging.stg_backstage_catalog__entities where quarantine_reason is null
),

final as (
    select
        entity_ref,
        snapshot_at,
        kind,
        namespace,
        name,
        type,
        lifecycle,
        owner,
        system,
        repo,
        source_template,
        techdocs_ref,
        pagerduty_service,
        runbook_url,
        tags,
        url,
        source
    from source
)

select * from final
