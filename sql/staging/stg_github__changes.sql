-- Changes read from GitHub: merged pull requests, their first commit (the earliest authored commit) and
-- the successful production deployment of their merge commit when GitHub (or a Jenkins deployment job
-- whose build carries that commit) has one. In a repository shared by several services the service is the
-- one owning most of the pull request's changed files.
with source as (
    select key, scope as repo, payload
    from raw.github__pulls
    where payload ->> 'merged_at' is not null
        and scope in (select scope from ops.source_scopes where source = 'github')
),

commits as (
    select
        key,
        min(utc_ts(coalesce(c -> 'commit' -> 'author' ->> 'date', c -> 'commit' -> 'committer' ->> 'date')))
            as first_commit_at
    from (select key, unnest(from_json(payload, '["json"]')) as c from raw.github__pull_commits)
    group by key
),

files as (
    select key, unnest(from_json(payload, '["json"]')) ->> 'filename' as filename
    from raw.github__pull_files
),

service_map as (
    select scope, path, service from ops.source_service_map where source = 'github'
),

by_path as (
    select
        f.key,
        m.service,
        count(*) as n,
        max(length(m.path)) as depth
    from files as f
    join source as s using (key)
    join service_map as m on m.scope = s.repo and m.path is not null and starts_with(f.filename, m.path)
    group by f.key, m.service
),

path_choice as (
    select key, arg_max(service, n * 10000 + depth) as service
    from by_path
    group by key
),

repo_level as (
    select scope, min(service) as service
    from service_map
    where path is null
    group by scope
),

deployments as (
    select d.commit_sha, d.deployment_id, d.finished_at
    from (
        select commit_sha, deployment_id, finished_at, status, environment, quarantine_reason
        from staging.stg_github__deployments
        union all
        select commit_sha, deployment_id, finished_at, status, environment, quarantine_reason
        from staging.stg_jenkins__deployments
        where commit_sha is not null
    ) as d
    cross join ops.kpi_settings as t
    where d.quarantine_reason is null
        and d.status = 'SUCCESS'
        and regexp_full_match(d.environment, '(?i)' || t.production_environment_pattern)
),

first_deployment as (
    select commit_sha, arg_min(deployment_id, finished_at) as deployment_id
    from deployments
    group by commit_sha
),

renamed as (
    select
        'github:change:' || s.repo || '#' || (s.payload ->> 'number') as change_id,
        s.repo || '#' || (s.payload ->> 'number') as change_key,
        'github' as source,
        coalesce(p.service, r.service) as service,
        c.first_commit_at,
        utc_ts(s.payload ->> 'merged_at') as merged_at,
        fd.deployment_id,
        s.repo,
        s.payload ->> 'number' as number,
        'github:repos/' || s.repo || '/pulls' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    left join commits as c using (key)
    left join path_choice as p using (key)
    left join repo_level as r on r.scope = s.repo
    left join first_deployment as fd on fd.commit_sha = s.payload ->> 'merge_commit_sha'
),

final as (
    select
        * exclude (repo, number),
        nullif(concat_ws('; ',
            case when number is null then 'number is missing' end,
            case when service is null then 'no service mapped for repository ' || repo
                || ' or the pull request''s files (sources.yaml services)' end,
            case when first_commit_at is null then 'first commit time unknown (no commits read)' end,
            case when merged_at is null then 'merged_at is not an ISO-8601 time' end,
            case when merged_at < first_commit_at then 'merged_at is before first_commit_at' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
