-- Deployments read from GitHub's Deployments API. Outcome and finish time come from the deployment's
-- statuses (the latest one that is not 'inactive'; none yet: queued); service from the repository (in a
-- repository shared by several services, from the path in the deployment's payload); environment names
-- mapped by sources.yaml. Runs of the workflows sources.yaml names as deployment workflows are
-- deployments too (key run-<id>).
with source as (
    select
        d.key,
        d.scope as repo,
        d.payload,
        s.payload as statuses
    from raw.github__deployments as d
    left join raw.github__deployment_statuses as s using (key)
    -- only repositories sources.yaml still reads
    where d.scope in (select scope from ops.source_scopes where source = 'github')
),

-- GitHub lists statuses newest first; 'inactive' only says a later deployment replaced this one.
states as (
    select
        key,
        unnest(from_json(statuses, '["json"]')) as st,
        generate_subscripts(from_json(statuses, '["json"]'), 1) as i
    from source
),

latest as (
    select
        key,
        arg_min(st ->> 'state', i) as latest_state,
        arg_min(st ->> 'state', i) filter (where st ->> 'state' <> 'inactive') as active_state,
        arg_min(st ->> 'created_at', i) filter (where st ->> 'state' <> 'inactive') as active_at,
        arg_min(st ->> 'created_at', i) filter (where st ->> 'state' = 'inactive') as inactive_at
    from states
    group by key
),

-- A deployment that finished keeps its outcome when a later one replaces it; one replaced before it
-- finished (latest status 'inactive', nothing final before) was cancelled.
outcome as (
    select
        key,
        case when active_state in ('success', 'failure', 'error') then active_state
            when latest_state = 'inactive' then 'inactive'
            else active_state end as state,
        case when active_state in ('success', 'failure', 'error') then active_at
            when latest_state = 'inactive' then inactive_at
            else active_at end as state_at
    from latest
),

status_map as (
    select * from (values
        ('success', 'SUCCESS'), ('failure', 'FAILURE'), ('error', 'FAILURE'), ('pending', 'QUEUED'),
        ('queued', 'QUEUED'), ('in_progress', 'IN_PROGRESS'), ('inactive', 'CANCELED')
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
        and (m.path is null or starts_with(s.payload -> 'payload' ->> 'path', m.path))
    group by s.key
),

renamed as (
    select
        'github:deployment:' || s.key as deployment_id,
        s.key as deployment_key,
        'github' as source,
        a.service,
        coalesce(e.environment, s.payload ->> 'environment') as environment,
        s.payload ->> 'environment' as original_environment,
        -- no status posted yet (GitHub lists none): the deployment is pending until one arrives
        case when o.state is null then 'QUEUED' else m.status end as status,
        o.state as original_status,
        utc_ts(s.payload ->> 'created_at') as started_at,
        case when m.status in ('SUCCESS', 'FAILURE', 'CANCELED') then utc_ts(o.state_at) end as finished_at,
        s.payload ->> 'sha' as commit_sha,
        coalesce(s.payload ->> 'task' ilike '%rollback%', false)
            or coalesce(parse_bool(s.payload -> 'payload' ->> 'rollback'), false) as is_rollback,
        coalesce(s.payload ->> 'ref' ilike 'hotfix%', false)
            or coalesce(parse_bool(s.payload -> 'payload' ->> 'hotfix'), false) as is_hotfix,
        s.repo,
        s.payload -> 'payload' ->> 'path' as path_hint,
        s.payload ->> 'created_at' as raw_created_at,
        'github:repos/' || s.repo || '/deployments' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    left join outcome as o using (key)
    left join status_map as m on m.original = o.state
    left join attributed as a using (key)
    left join ops.source_environments as e
        on e.source = 'github' and e.original = lower(trim(s.payload ->> 'environment'))
),

-- Workflow runs of deployment workflows (github.deployment_workflows: workflow file -> environment).
workflow_runs as (
    select r.key, r.scope as repo, r.payload, j.environment
    from raw.github__workflow_runs as r
    join ops.source_deploy_jobs as j
        on j.source = 'github'
        -- a run's path carries the ref it ran from (`.github/workflows/deploy.yml@main`): a workflow named
        -- without a ref matches every ref, one named with its ref only that ref
        and j.job in (r.payload ->> 'path', regexp_replace(r.payload ->> 'path', '@.*$', ''))
    where r.scope in (select scope from ops.source_scopes where source = 'github')
    -- named both ways: the more specific name (with the ref) decides the environment
    qualify row_number() over (partition by r.key order by length(j.job) desc) = 1
),

run_status_map as (
    select * from (values
        ('success', 'SUCCESS'), ('failure', 'FAILURE'), ('timed_out', 'FAILURE'), ('startup_failure', 'FAILURE'),
        ('cancelled', 'CANCELED'), ('stale', 'CANCELED'), ('skipped', 'SKIPPED'), ('neutral', 'SUCCESS'),
        ('action_required', 'QUEUED'), ('queued', 'QUEUED'), ('requested', 'QUEUED'), ('waiting', 'QUEUED'),
        ('pending', 'QUEUED'), ('in_progress', 'IN_PROGRESS')
    ) as t(original, status)
),

run_attributed as (
    select w.key, arg_max(m.service, coalesce(length(m.path), 0)) as service
    from workflow_runs as w
    join service_map as m
        on m.scope = w.repo and (m.path is null or starts_with(w.payload ->> 'path', m.path))
    group by w.key
),

from_runs as (
    select
        'github:deployment:run-' || w.key as deployment_id,
        'run-' || w.key as deployment_key,
        'github' as source,
        a.service,
        w.environment,
        w.environment as original_environment,
        m.status,
        case when w.payload ->> 'status' = 'completed' then w.payload ->> 'conclusion'
            else w.payload ->> 'status' end as original_status,
        utc_ts(coalesce(w.payload ->> 'run_started_at', w.payload ->> 'created_at')) as started_at,
        case when w.payload ->> 'status' = 'completed' then utc_ts(w.payload ->> 'updated_at') end as finished_at,
        w.payload ->> 'head_sha' as commit_sha,
        false as is_rollback,
        coalesce(w.payload ->> 'head_branch' ilike 'hotfix%', false) as is_hotfix,
        w.repo,
        w.payload ->> 'path' as path_hint,
        w.payload ->> 'created_at' as raw_created_at,
        'github:repos/' || w.repo || '/actions/runs' as _file,
        cast(null as bigint) as _line,
        w.payload::varchar as _record
    from workflow_runs as w
    left join run_status_map as m
        on m.original = case when w.payload ->> 'status' = 'completed' then w.payload ->> 'conclusion'
            else w.payload ->> 'status' end
    left join run_attributed as a using (key)
),

final as (
    select
        * exclude (repo, path_hint, raw_created_at),
        nullif(concat_ws('; ',
            case when deployment_key like 'missing-id:%' then 'id is missing' end,
            case when service is null then 'no service mapped for repository ' || repo
                || coalesce(' path ' || path_hint, '') || ' (sources.yaml services)' end,
            case when is_blank(environment) then 'environment is missing' end,
            case when original_status is not null and status is null
                then 'unknown deployment status state ' || original_status
                when status is null then 'status is missing' end,
            case when is_blank(raw_created_at) then 'created_at is missing'
                when started_at is null then 'created_at ' || raw_created_at || ' is not an ISO-8601 time' end,
            case when finished_at < started_at then 'finished_at is before started_at' end
        ), '') as quarantine_reason
    from (select * from renamed union all by name select * from from_runs)
)

select * from final
