-- Deployments read from GitLab: status as GitLab reports it, start and finish times from the deploy job
-- (`deployable`; a deployment has no finish time of its own), service from the project, environment
-- names mapped by sources.yaml.
with source as (
    select key, scope as project, payload
    from raw.gitlab__deployments
    where scope in (select scope from ops.source_scopes where source = 'gitlab')
),

status_map as (
    select * from (values
        ('success', 'SUCCESS'), ('failed', 'FAILURE'), ('canceled', 'CANCELED'), ('skipped', 'SKIPPED'),
        ('running', 'IN_PROGRESS'), ('created', 'QUEUED'), ('blocked', 'QUEUED')
    ) as t(original, status)
),

service_map as (
    select scope, min(service) as service from ops.source_service_map where source = 'gitlab' group by scope
),

renamed as (
    select
        'gitlab:deployment:' || s.key as deployment_id,
        s.key as deployment_key,
        'gitlab' as source,
        m.service,
        coalesce(e.environment, s.payload -> 'environment' ->> 'name') as environment,
        s.payload -> 'environment' ->> 'name' as original_environment,
        st.status,
        s.payload ->> 'status' as original_status,
        -- the job's start, else its creation: the deployment record may be created after the job finished
        utc_ts(coalesce(
            s.payload -> 'deployable' ->> 'started_at', s.payload -> 'deployable' ->> 'created_at',
            s.payload ->> 'created_at'
        )) as started_at,
        case when st.status in ('SUCCESS', 'FAILURE', 'CANCELED') then utc_ts(coalesce(
            s.payload ->> 'finished_at', s.payload -> 'deployable' ->> 'finished_at', s.payload ->> 'updated_at'
        )) end as finished_at,
        s.payload ->> 'sha' as commit_sha,
        false as is_rollback,
        coalesce(s.payload ->> 'ref' ilike 'hotfix%', false) as is_hotfix,
        s.project,
        s.payload ->> 'created_at' as raw_created_at,
        'gitlab:projects/' || s.project || '/deployments' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    left join status_map as st on st.original = s.payload ->> 'status'
    left join service_map as m on m.scope = s.project
    left join ops.source_environments as e
        on e.source = 'gitlab' and e.original = lower(trim(s.payload -> 'environment' ->> 'name'))
),

final as (
    select
        * exclude (project, raw_created_at),
        nullif(concat_ws('; ',
            case when deployment_key = 'None' then 'id is missing' end,
            case when service is null then 'no service mapped for project ' || project || ' (sources.yaml services)' end,
            case when is_blank(environment) then 'environment is missing' end,
            case when is_blank(original_status) then 'status is missing'
                when status is null then 'unknown deployment status ' || original_status end,
            case when is_blank(raw_created_at) then 'created_at is missing'
                when started_at is null then 'created_at ' || raw_created_at || ' is not an ISO-8601 time' end,
            case when finished_at < started_at then 'finished_at is before started_at' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
