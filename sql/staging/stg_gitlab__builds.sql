-- CI builds read from GitLab pipelines (each read in full for its start and finish times), service
-- from the project.
with source as (
    select key, scope as project, payload
    from raw.gitlab__pipelines
    where scope in (select scope from ops.source_scopes where source = 'gitlab')
),

status_map as (
    select * from (values
        ('success', 'SUCCESS'), ('failed', 'FAILURE'), ('canceled', 'CANCELED'), ('skipped', 'SKIPPED'),
        ('running', 'IN_PROGRESS'), ('created', 'QUEUED'), ('waiting_for_resource', 'QUEUED'),
        ('preparing', 'QUEUED'), ('pending', 'QUEUED'), ('manual', 'QUEUED'), ('scheduled', 'QUEUED')
    ) as t(original, status)
),

service_map as (
    select scope, min(service) as service from ops.source_service_map where source = 'gitlab' group by scope
),

renamed as (
    select
        'gitlab:build:' || s.key as build_id,
        s.key as build_key,
        'gitlab' as source,
        m.service,
        s.payload ->> 'ref' as branch,
        cast(null as boolean) as is_default_branch,
        st.status,
        s.payload ->> 'status' as original_status,
        utc_ts(coalesce(s.payload ->> 'started_at', s.payload ->> 'created_at')) as started_at,
        utc_ts(s.payload ->> 'finished_at') as finished_at,
        s.project,
        s.payload ->> 'created_at' as raw_created_at,
        'gitlab:projects/' || s.project || '/pipelines' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    left join status_map as st on st.original = s.payload ->> 'status'
    left join service_map as m on m.scope = s.project
),

final as (
    select
        * exclude (project, raw_created_at),
        nullif(concat_ws('; ',
            case when build_key = 'None' then 'id is missing' end,
            case when service is null then 'no service mapped for project ' || project || ' (sources.yaml services)' end,
            case when is_blank(branch) then 'ref is missing' end,
            case when is_blank(original_status) then 'status is missing'
                when status is null then 'unknown pipeline status ' || original_status end,
            case when is_blank(raw_created_at) then 'created_at is missing'
                when started_at is null then 'started_at is not an ISO-8601 time' end,
            case when finished_at < started_at then 'finished_at is before started_at' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
