-- Changes read from GitLab: merged merge requests, their first commit (the earliest authored commit)
-- and the successful production deployment (GitLab's, or a Jenkins deployment job's whose build carries
-- the commit) of the commit that landed: the merge commit, else the squash commit, else - merged by
-- fast-forward, both null - the merge request's head `sha`.
-- The pull-request flow: opened = created_at; ready = the first system note marking it ready (or, before
-- GitLab 14, "unmarked as a **Work In Progress**"); first review = the earliest comment (non-system note)
-- or approval before the merge by someone other than the author and not a bot; approval = the earliest
-- such approval, from the approvals endpoint's approved_at where GitLab sends it, else from the
-- "approved this merge request" system note. Bots: a username ending in [bot], GitLab's project/group
-- access-token users (project_<id>_bot..., group_<id>_bot...) and ops.kpi_settings.review_bot_logins.
-- GitLab's merge request gives no line counts: additions and deletions stay NULL.
with source as (
    select key, scope as project, payload
    from raw.gitlab__merge_requests
    where payload ->> 'merged_at' is not null
        and scope in (select scope from ops.source_scopes where source = 'gitlab')
),

commits as (
    select key, min(utc_ts(coalesce(c ->> 'authored_date', c ->> 'created_at'))) as first_commit_at
    from (select key, unnest(from_json(payload, '["json"]')) as c from raw.gitlab__merge_request_commits)
    group by key
),

notes as (
    select
        m.key,
        utc_ts(n ->> 'created_at') as created_at,
        coalesce(try_cast(n ->> 'system' as boolean), false) as is_system,
        lower(trim(n ->> 'body')) as body,
        n -> 'author' ->> 'username' as login,
        m.payload -> 'author' ->> 'username' as author,
        utc_ts(m.payload ->> 'merged_at') as merged_at
    from (select key, unnest(from_json(payload, '["json"]')) as n from raw.gitlab__merge_request_notes) as nt
    join source as m using (key)
),

approvals as (
    select
        m.key,
        try_cast(a ->> 'approved_at' as timestamptz) as approved_at_raw,
        a -> 'user' ->> 'username' as login,
        m.payload -> 'author' ->> 'username' as author,
        utc_ts(m.payload ->> 'merged_at') as merged_at
    from (
        select key, unnest(from_json(payload -> 'approved_by', '["json"]')) as a
        from raw.gitlab__merge_request_approvals
    ) as ap
    join source as m using (key)
),

-- who counts as a reviewer: not the author, not a bot
people as (
    select key, created_at as happened_at, is_system, body, login, author, merged_at, 'note' as kind from notes
    union all
    select key, timezone('UTC', approved_at_raw), true, 'approved this merge request', login, author,
        merged_at, 'approval'
    from approvals
    where approved_at_raw is not null
),

human as (
    select p.*
    from people as p
    cross join ops.kpi_settings as t
    where p.happened_at is not null
        and p.happened_at <= p.merged_at
        and p.login is not null
        and p.login <> coalesce(p.author, '')
        and not ends_with(lower(p.login), '[bot]')
        and not regexp_full_match(p.login, '(project|group)_[0-9]+_bot.*')
        and not list_contains(t.review_bot_logins, lower(p.login))
),

human_reviews as (
    select
        key,
        min(happened_at) filter (where not is_system or body = 'approved this merge request') as first_review_at,
        min(happened_at) filter (where body = 'approved this merge request') as approved_at
    from human
    group by key
),

ready as (
    select key, min(created_at) as ready_at
    from notes
    where is_system
        and (body like 'marked this merge request as **ready**%' or body like 'unmarked as a **work in progress**%')
    group by key
),

commit_counts as (
    select key, json_array_length(payload)::bigint as n from raw.gitlab__merge_request_commits
),

service_map as (
    select scope, min(service) as service from ops.source_service_map where source = 'gitlab' group by scope
),

first_deployment as (
    select d.commit_sha, arg_min(d.deployment_id, d.finished_at) as deployment_id
    from (
        select commit_sha, deployment_id, finished_at, status, environment, quarantine_reason
        from staging.stg_gitlab__deployments
        union all
        select commit_sha, deployment_id, finished_at, status, environment, quarantine_reason
        from staging.stg_jenkins__deployments
        where commit_sha is not null
    ) as d
    cross join ops.kpi_settings as t
    where d.quarantine_reason is null
        and d.status = 'SUCCESS'
        and regexp_full_match(d.environment, '(?i)' || t.production_environment_pattern)
    group by d.commit_sha
),

renamed as (
    select
        'gitlab:change:' || s.project || '!' || (s.payload ->> 'iid') as change_id,
        s.project || '!' || (s.payload ->> 'iid') as change_key,
        'gitlab' as source,
        m.service,
        c.first_commit_at,
        utc_ts(s.payload ->> 'merged_at') as merged_at,
        fd.deployment_id,
        s.project,
        s.payload ->> 'iid' as iid,
        utc_ts(s.payload ->> 'created_at') as opened_at,
        rd.ready_at,
        hr.first_review_at,
        hr.approved_at,
        cast(null as bigint) as additions,
        cast(null as bigint) as deletions,
        cc.n as commits,
        s.payload ->> 'web_url' as url,
        s.key in (select key from raw.gitlab__merge_request_notes) as pr_flow_known,
        'gitlab:projects/' || s.project || '/merge_requests' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    left join commits as c using (key)
    left join service_map as m on m.scope = s.project
    left join first_deployment as fd
        on fd.commit_sha = coalesce(
            s.payload ->> 'merge_commit_sha', s.payload ->> 'squash_commit_sha', s.payload ->> 'sha'
        )
    left join human_reviews as hr using (key)
    left join ready as rd using (key)
    left join commit_counts as cc using (key)
),

final as (
    select
        * exclude (project, iid),
        nullif(concat_ws('; ',
            case when iid is null then 'iid is missing' end,
            case when service is null then 'no service mapped for project ' || project || ' (sources.yaml services)' end,
            case when first_commit_at is null then 'first commit time unknown (no commits read)' end,
            case when merged_at is null then 'merged_at is not an ISO-8601 time' end,
            case when merged_at < first_commit_at then 'merged_at is before first_commit_at' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
