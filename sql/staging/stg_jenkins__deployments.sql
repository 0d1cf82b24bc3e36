-- Deployments read from Jenkins: builds of the jobs sources.yaml names as deployment jobs, to the
-- environment named there; result normalized, service from the job, the deployed commit from the git
-- plugin's record of the build (`lastBuiltRevision.SHA1` in `actions`) when the build checked one out.
with source as (
    select
        r.key,
        r.payload -> 'job' ->> 'fullName' as job,
        r.payload -> 'build' as build,
        d.environment,
        r.payload
    from raw.jenkins__builds as r
    join ops.source_deploy_jobs as d on d.source = 'jenkins' and d.job = r.payload -> 'job' ->> 'fullName'
    where r.scope in (select scope from ops.source_scopes where source = 'jenkins')
),

-- The first git checkout of the build is the job's own repository (later ones: shared libraries).
commits as (
    select key, arg_min(a -> 'lastBuiltRevision' ->> 'SHA1', i) as commit_sha
    from (
        select
            key,
            unnest(from_json(coalesce(build -> 'actions', '[]'), '["json"]')) as a,
            generate_subscripts(from_json(coalesce(build -> 'actions', '[]'), '["json"]'), 1) as i
        from source
    )
    where a -> 'lastBuiltRevision' ->> 'SHA1' is not null
    group by key
),

result_map as (
    select * from (values
        ('SUCCESS', 'SUCCESS'), ('UNSTABLE', 'FAILURE'), ('FAILURE', 'FAILURE'), ('NOT_BUILT', 'SKIPPED'),
        ('ABORTED', 'CANCELED'), ('BUILDING', 'IN_PROGRESS')
    ) as t(original, status)
),

service_map as (
    select scope, service from ops.source_service_map where source = 'jenkins'
),

attributed as (
    select s.key, arg_max(m.service, length(m.scope)) as service
    from source as s
    join service_map as m on s.job = m.scope or starts_with(s.job, m.scope || '/')
    group by s.key
),

renamed as (
    select
        'jenkins:deployment:' || s.key as deployment_id,
        s.key as deployment_key,
        'jenkins' as source,
        a.service,
        s.environment,
        s.environment as original_environment,
        m.status,
        case when (s.build ->> 'building')::boolean then 'BUILDING' else s.build ->> 'result' end as original_status,
        to_timestamp((s.build ->> 'timestamp')::double / 1000)::timestamp as started_at,
        case when not coalesce((s.build ->> 'building')::boolean, false)
            then to_timestamp(((s.build ->> 'timestamp')::double + (s.build ->> 'duration')::double) / 1000)::timestamp
        end as finished_at,
        c.commit_sha,
        false as is_rollback,
        false as is_hotfix,
        s.job,
        'jenkins:' || s.job as _file,
        (s.build ->> 'number')::bigint as _line,
        s.payload::varchar as _record
    from source as s
    left join result_map as m
        on m.original = case when (s.build ->> 'building')::boolean then 'BUILDING' else s.build ->> 'result' end
    left join attributed as a using (key)
    left join commits as c using (key)
),

final as (
    select
        * exclude (job),
        nullif(concat_ws('; ',
            case when service is null then 'no service mapped for job ' || job || ' (sources.yaml services)' end,
            case when is_blank(original_status) then 'result is missing'
                when status is null then 'unknown build result ' || original_status end,
            case when started_at is null then 'timestamp is missing or not epoch milliseconds' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
