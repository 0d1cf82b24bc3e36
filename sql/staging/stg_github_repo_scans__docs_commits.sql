-- Commits that edited a GitHub repository's TechDocs (its mkdocs.yml or docs/): each is an edit of
-- the repository's TechDocs site, document techdocs:<repo>.
with source as (
    select key, scope, payload from raw.github_repo_scans__docs_commits
    where scope in (select scope from ops.source_scopes where source = 'github_repo_scans')
),

final as (
    select
        'github:doc:techdocs:' || scope as document_id,
        scope as repo,
        payload ->> 'path' as path,
        payload -> 'commit' ->> 'sha' as sha,
        utc_ts(payload -> 'commit' -> 'commit' -> 'committer' ->> 'date') as updated_at,
        payload -> 'commit' ->> 'html_url' as url,
        'github' as source,
        'github_repo_scans:docs_commits' as _file,
        cast(null as bigint) as _line,
        payload::varchar as _record,
        case when utc_ts(payload -> 'commit' -> 'commit' -> 'committer' ->> 'date') is null
            then 'commit.committer.date is missing or not an ISO-8601 time' end as quarantine_reason
    from source
)

select * from final
