-- CI builds read from GitHub Actions workflow runs: status from the run's conclusion once completed,
-- service from the repository (in a shared repository, from the workflow file's path). Deployment
-- workflows named in sources.yaml are left to stg_github__deployments.
with source as (
    select r.key, r.scope as repo, r.payload from raw.github__workflow_runs as r
    where r.scope in (select scope from ops.source_scopes where source = 'github')
        -- runs of deployment workflows are deployments (stg_github__deployments), not CI builds; a run's
        -- path carries its ref (`.github/workflows/deploy.yml@main`), matched as stg_github__deployments does
        and not exists (
            select 1 from ops.source_deploy_jobs as j
            where j.source = 'github'
                and j.job in (r.payload ->> 'path', regexp_replace(r.payload ->> 'path', '@.*$', ''))
        )
),

status_map as (
    select * from (values
        ('success', 'SUCCESS'), ('neutral', 'SUCCESS'), ('failure', 'FAILURE'), ('timed_out', 'FAILURE'),
        ('startup_failure', 'FAILURE'), ('cancelled', 'CANCELED'), ('stale', 'CANCELED'),
        ('skipped', 'SKIPPED'), ('action_required', 'QUEUED'), ('queued', 'QUEUED'), ('requested', 'QUEUED'),
        ('waiting', 'QUEUED'), ('pending', 'QUEUED'), ('in_progress', 'IN_PROGRESS')
    ) as t(original, status)
),

service_map as (
    select scope, path, service from ops.source_service_map where source = 'github'
),

attributed as (
    select
        s.key,
        arg_max(m.service, coalesce(length(m.path), 0)) as service
    from source as s
    join service_map as m
        on m.scope = s.repo
        and (m.path is null or starts_with(s.payload ->> 'path', m.path))
    group by s.key
),

renamed as (
    select
        'github:build:' || s.key as build_id,
        s.key as build_key,
        'github' as source,
        a.service,
        s.payload ->> 'head_branch' as branch,
        cast(null as boolean) as is_default_branch,
        m.status,
        case when s.payload ->> 'status' = 'completed' then s.payload ->> 'conclusion'
            else s.payload ->> 'status' end as original_status,
        utc_ts(coalesce(s.payload ->> 'run_started_at', s.payload ->> 'created_at')) as started_at,
        case when s.payload ->> 'status' = 'completed' then utc_ts(s.payload ->> 'updated_at') end as finished_at,
        s.repo,
        s.payload ->> 'path' as path_hint,
        coalesce(s.payload ->> 'run_started_at', s.payload ->> 'created_at') as raw_started_at,
        'github:repos/' || s.repo || '/actions/runs' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    left join status_map as m
        on m.original = case when s.payload ->> 'status' = 'completed' then s.payload ->> 'conclusion'
            else s.payload ->> 'status' end
    left join attributed as a using (key)
),

final as (
    select
        * exclude (repo, path_hint, raw_started_at),
        nullif(concat_ws('; ',
            case when build_key like 'missing-id:%' then 'id is missing' end,
            case when service is null then 'no service mapped for repository ' || repo
                || coalesce(' workflow ' || path_hint, '') || ' (sources.yaml services)' end,
            case when is_blank(branch) then 'head_branch is missing' end,
            case when is_blank(original_status) then 'status is missing'
                when status is null then 'unknown workflow run status ' || original_status end,
            case when is_blank(raw_started_at) then 'created_at is missing'
                when started_at is null then 'run_started_at ' || raw_started_at || ' is not an ISO-8601 time' end,
            case when finished_at < started_at then 'finished_at is before started_at' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
