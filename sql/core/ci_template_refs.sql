-- What each scan of a repository's CI configuration found: one row per template reference per scan
-- (a CI file without any has a NULL reference; a scan that found no CI file, a NULL path), from the
-- ci_config_scans file and the GitHub and GitLab repository scans. The scan in force at a time is the
-- latest scan of the repository taken at or before it.
with source as (
    select scanned_at, repo, path, kind, reference, version, source
    from staging.stg_files__ci_config_scans where quarantine_reason is null
    union all
    select scanned_at, repo, path, kind, reference, version, source
    from staging.stg_github_repo_scans__ci_config_scans where quarantine_reason is null
    union all
    select scanned_at, repo, path, kind, reference, version, source
    from staging.stg_gitlab_repo_scans__ci_config_scans where quarantine_reason is null
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
