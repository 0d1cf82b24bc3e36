-- CI builds read from Jenkins (jobs that are not deployment jobs): result normalized, branch from the
-- multibranch project (else the first default branch), service from the job as mapped in sources.yaml.
with source as (
    select
        r.key,
        r.scope,
        r.payload -> 'job' ->> 'fullName' as job,
        r.payload -> 'job' ->> 'parent_class' as parent_class,
        r.payload -> 'build' as build,
        r.payload
    from raw.jenkins__builds as r
    where r.scope in (select scope from ops.source_scopes where source = 'jenkins')
        and not exists (
            select 1 from ops.source_deploy_jobs as d
            where d.source = 'jenkins' and d.job = r.payload -> 'job' ->> 'fullName'
        )
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
        'jenkins:build:' || s.key as build_id,
        s.key as build_key,
        'jenkins' as source,
        a.service,
        -- a multibranch project names a branch's job with `/` encoded (`feature%2Fsearch-v2`)
        case when s.parent_class ilike '%multibranch%' then url_decode(regexp_extract(s.job, '[^/]+$'))
            else t.default_branches[1] end as branch,
        cast(null as boolean) as is_default_branch,
        m.status,
        case when (s.build ->> 'building')::boolean then 'BUILDING' else s.build ->> 'result' end as original_status,
        to_timestamp((s.build ->> 'timestamp')::double / 1000)::timestamp as started_at,
        case when not coalesce((s.build ->> 'building')::boolean, false)
            then to_timestamp(((s.build ->> 'timestamp')::double + (s.build ->> 'duration')::double) / 1000)::timestamp
        end as finished_at,
        s.job,
        s.build ->> 'timestamp' as raw_timestamp,
        'jenkins:' || s.job as _file,
        (s.build ->> 'number')::bigint as _line,
        s.payload::varchar as _record
    from source as s
    cross join ops.kpi_settings as t
    left join result_map as m
        on m.original = case when (s.build ->> 'building')::boolean then 'BUILDING' else s.build ->> 'result' end
    left join attributed as a using (key)
),

final as (
    select
        * exclude (job, raw_timestamp),
        nullif(concat_ws('; ',
            case when service is null then 'no service mapped for job ' || job || ' (sources.yaml services)' end,
            case when is_blank(original_status) then 'result is missing'
                when status is null then 'unknown build result ' || original_status end,
            case when started_at is null then 'timestamp is missing or not epoch milliseconds' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
