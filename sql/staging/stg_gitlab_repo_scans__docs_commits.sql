-- Commits that edited a GitLab project's TechDocs (its mkdocs.yml or docs/): each is an edit of the
-- project's TechDocs site, document techdocs:<project>.
with source as (
    select key, scope, payload from raw.gitlab_repo_scans__docs_commits
    where scope in (select scope from ops.source_scopes where source = 'gitlab_repo_scans')
),

final as (
    select
        'gitlab:doc:techdocs:' || scope as document_id,
        scope as repo,
        payload ->> 'path' as path,
        payload -> 'commit' ->> 'id' as sha,
        utc_ts(payload -> 'commit' ->> 'committed_date') as updated_at,
        payload -> 'commit' ->> 'web_url' as url,
        'gitlab' as source,
        'gitlab_repo_scans:docs_commits' as _file,
        cast(null as bigint) as _line,
        payload::varchar as _record,
        case when utc_ts(payload -> 'commit' ->> 'committed_date') is null
            then 'committed_date is missing or not an ISO-8601 time' end as quarantine_reason
    from source
)

select * from final
