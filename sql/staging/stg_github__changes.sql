-- Changes read from GitHub: merged pull requests, their first commit (the earliest authored commit) and
-- the successful production deployment of their merge commit when GitHub (or a Jenkins deployment job
-- whose build carries that commit) has one. In a repository shared by several services the service is the
-- one owning most of the pull request's changed files.
-- The pull-request flow: opened = created_at; ready = the first ready_for_review issue event (a draft);
-- first review / approval = the earliest submitted review / APPROVED review before the merge by someone
-- other than the author and not a bot (user.type Bot, a login ending in [bot], or one of
-- ops.kpi_settings.review_bot_logins). Pending reviews (no submitted_at) are not reviews; a dismissed
-- review was one. Reviews of commits since force-pushed away still count: the first review stays first.
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

reviews as (
    select
        p.key,
        utc_ts(r ->> 'submitted_at') as submitted_at,
        upper(r ->> 'state') as state,
        r -> 'user' ->> 'login' as login,
        r -> 'user' ->> 'type' as user_type,
        p.payload -> 'user' ->> 'login' as author,
        utc_ts(p.payload ->> 'merged_at') as merged_at
    from (select key, unnest(from_json(payload, '["json"]')) as r from raw.github__pull_reviews) as rv
    join source as p using (key)
),

human_reviews as (
    select
        key,
        min(submitted_at) as first_review_at,
        min(submitted_at) filter (where state = 'APPROVED') as approved_at
    from reviews
    cross join ops.kpi_settings as t
    where submitted_at is not null
        and submitted_at <= merged_at
        and state <> 'PENDING'
        and login is not null
        and login <> coalesce(author, '')
        and coalesce(user_type, '') <> 'Bot'
        and not ends_with(lower(login), '[bot]')
        and not list_contains(t.review_bot_logins, lower(login))
    group by key
),

ready as (
    select key, min(utc_ts(e ->> 'created_at')) as ready_at
    from (select key, unnest(from_json(payload, '["json"]')) as e from raw.github__pull_events)
    where e ->> 'event' = 'ready_for_review'
    group by key
),

commit_counts as (
    select key, json_array_length(payload)::bigint as n from raw.github__pull_commits
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
        utc_ts(s.payload ->> 'created_at') as opened_at,
        rd.ready_at,
        hr.first_review_at,
        hr.approved_at,
        try_cast(s.payload ->> 'additions' as bigint) as additions,
        try_cast(s.payload ->> 'deletions' as bigint) as deletions,
        coalesce(try_cast(s.payload ->> 'commits' as bigint), cc.n) as commits,
        s.payload ->> 'html_url' as url,
        s.key in (select key from raw.github__pull_reviews) as pr_flow_known,
        'github:repos/' || s.repo || '/pulls' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    left join commits as c using (key)
    left join path_choice as p using (key)
    left join repo_level as r on r.scope = s.repo
    left join first_deployment as fd on fd.commit_sha = s.payload ->> 'merge_commit_sha'
    left join human_reviews as hr using (key)
    left join ready as rd using (key)
    left join commit_counts as cc using (key)
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
