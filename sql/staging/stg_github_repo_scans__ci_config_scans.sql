-- Template references of each github repository scan (raw.github_repo_scans__ci_scans, one per repository
-- per sync): one row per reference of each CI file, a file without any as one row with a NULL
-- reference, and a scan that found no CI file as one row with a NULL path. A file that was not valid
-- YAML is quarantined with the parser's message.
with scans as (
    select
        key,
        scope as repo,
        utc_ts(payload ->> 'scanned_at') as scanned_at,
        from_json(
            payload -> 'files',
            '[{"path": "VARCHAR", "sha": "VARCHAR", "error": "VARCHAR", "refs": [{"kind": "VARCHAR", "reference": "VARCHAR", "version": "VARCHAR"}]}]'
        ) as files
    from raw.github_repo_scans__ci_scans
    where scope in (select scope from ops.source_scopes where source = 'github_repo_scans')
),

files as (
    select key, repo, scanned_at, unnest(case when len(files) = 0 then [null] else files end) as f
    from scans
),

refs as (
    select
        key,
        repo,
        scanned_at,
        f.path as path,
        f.sha as sha,
        f.error as error,
        unnest(case when coalesce(len(f.refs), 0) = 0 then [null] else f.refs end) as r
    from files
),

final as (
    select
        scanned_at,
        repo,
        path,
        r.kind as kind,
        r.reference as reference,
        r.version as version,
        'github_repo_scans:scan ' || key as _file,
        cast(null as bigint) as _line,
        to_json({'repo': repo, 'path': path, 'sha': sha, 'error': error})::varchar as _record,
        'github' as source,
        nullif(concat_ws('; ',
            case when error is not null then 'could not read ' || path || ': ' || error end,
            case when scanned_at is null then 'scanned_at is missing' end
        ), '') as quarantine_reason
    from refs
)

select * from final
