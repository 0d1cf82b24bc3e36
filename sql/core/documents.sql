-- Documentation edits: one row per known edit of a document, with the service it is about. From the
-- docs_pages file, Confluence page versions, and TechDocs commits (mkdocs.yml or docs/ of a
-- repository: one document per repository, about each service whose repository it is, per
-- core.services or the catalog).
with repo_services as (
    select distinct repo, service from core.services where repo is not null
    union
    select distinct repo, name from core.catalog_entities where kind = 'component' and repo is not null
),

techdocs as (
    select document_id, repo, updated_at, url, source from staging.stg_github_repo_scans__docs_commits
    where quarantine_reason is null
    union all
    select document_id, repo, updated_at, url, source from staging.stg_gitlab_repo_scans__docs_commits
    where quarantine_reason is null
),

source as (
    select document_id, service, kind, title, labels, url, updated_at, created_at, source
    from staging.stg_files__docs_pages where quarantine_reason is null
    union all
    select document_id, service, kind, title, labels, url, updated_at, created_at, source
    from staging.stg_confluence_pages__pages where quarantine_reason is null
    union all
    select
        t.document_id || ':' || r.service, r.service, 'techdocs', 'TechDocs of ' || t.repo, null,
        t.url, t.updated_at, null, t.source
    from techdocs as t
    join repo_services as r using (repo)
),

final as (
    select distinct
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
