-- Template references found in repositories' CI configuration, from the ci_config_scans file (one row
-- per reference per scan; a scanned file without any reference has a blank reference), each bad row
-- given a reason.
with source as (
    select * from raw.files__ci_config_scans
),

time_window as (
    select earliest_event_at, latest_event_at from ops.kpi_settings
),

renamed as (
    select
        scanned_at,
        trim(repo) as repo,
        trim(path) as path,
        nullif(lower(trim(kind)), '') as kind,
        nullif(trim(reference), '') as reference,
        nullif(trim(version), '') as version,
        _file,
        _line
    from source
),

checked as (
    select
        r.*,
        coalesce(r.repo, '') = '' as no_repo,
        coalesce(r.path, '') = '' as no_path,
        r.scanned_at is null as no_scanned,
        r.scanned_at < t.earliest_event_at or r.scanned_at > t.latest_event_at as out_of_window,
        r.kind is not null and r.kind not in (
            'github_uses', 'gitlab_include_project', 'gitlab_include_template', 'gitlab_include_component',
            'gitlab_include_remote', 'gitlab_include_local', 'jenkins_library'
        ) as unknown_kind,
        r.reference is not null and r.kind is null as no_kind
    from renamed as r
    cross join time_window as t
),

final as (
    select
        * exclude (no_repo, no_path, no_scanned, out_of_window, unknown_kind, no_kind),
        'files' as source,
        case when no_repo or no_path or no_scanned or out_of_window or unknown_kind or no_kind then concat_ws('; ',
            case when no_repo then 'repo is blank' end,
            case when no_path then 'path is blank' end,
            case when no_scanned then 'scanned_at is blank' end,
            case when out_of_window
                then 'scanned_at ' || scanned_at || ' is outside the allowed time window (earliest_event_date, run time + future_tolerance_hours)' end,
            case when unknown_kind then 'unknown kind ' || kind
                || ' (github_uses, gitlab_include_project, gitlab_include_template, gitlab_include_component, gitlab_include_remote, gitlab_include_local, jenkins_library)' end,
            case when no_kind then 'kind is blank for reference ' || reference end
        ) end as quarantine_reason
    from checked
)

select * from final
