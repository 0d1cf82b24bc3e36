-- Documentation edits: one row per known edit of a document (Confluence page versions, TechDocs
-- commits, the docs file), with the service the document is about.
with source as (
    select * from staging.stg_files__docs_pages where quarantine_reason is null
),

final as (
    select
        document_id,
        service,
        kind,
        title,
        labels,
        url,
        updated_at,
        created_at,
        source
    from source
)

select * from final
