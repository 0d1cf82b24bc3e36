-- Changes read from GitLab: merged merge requests, their first commit (the earliest authored commit)
-- and the successful production deployment (GitLab's, or a Jenkins deployment job's whose build carries
-- the commit) of the commit that landed: the merge commit, else the squash commit, else - merged by
-- fast-forward, both null - the merge request's head `sha`.
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
