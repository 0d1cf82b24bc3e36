-- CI builds from the canonical builds file: typed, status normalized, each bad row given a reason.
with source as (
    select * from raw.files__builds
),

known_services as (
    select service from staging.stg_files__services where quarantine_reason is null
),

renamed as (
    select
        'files:build:' || s.build_id as build_id,
        s.build_id as build_key,
        s.service,
        s.branch,
        parse_bool(s.is_default_branch) as is_default_branch,
        m.status,
        s.status as original_status,
        utc_ts(s.started_at) as started_at,
        utc_ts(s.finished_at) as finished_at,
        s.started_at as raw_started_at,
        s.finished_at as raw_finished_at,
        s.is_default_branch as raw_is_default_branch,
        k.service is not null as service_known,
        s._file,
        s._line
    from source as s
    left join ops.status_map as m on m.original = lower(s.status)
    left join known_services as k on k.service = s.service
),

final as (
    select
        * exclude (raw_started_at, raw_finished_at, raw_is_default_branch, service_known),
        nullif(concat_ws('; ',
            case when is_blank(build_key) then 'build_id is blank' end,
            case when is_blank(service) then 'service is blank'
                when not service_known then 'unknown service ' || service || ' (not in services)' end,
            case when is_blank(branch) then 'branch is blank' end,
            case when is_blank(original_status) then 'status is blank'
                when status is null then 'unknown status ' || original_status end,
            case when not is_blank(raw_started_at) and started_at is null
                then 'started_at ' || raw_started_at || ' is not an ISO-8601 time' end,
            case when not is_blank(raw_finished_at) and finished_at is null
                then 'finished_at ' || raw_finished_at || ' is not an ISO-8601 time' end,
            case when finished_at < started_at then 'finished_at is before started_at' end,
            case when not is_blank(raw_is_default_branch) and parse_bool(raw_is_default_branch) is null
                then 'is_default_branch ' || raw_is_default_branch || ' is not true/false' end,
            case when not is_blank(build_key)
                and row_number() over (partition by build_key order by _file, _line) > 1
                then 'duplicate build_id ' || build_key end
        ), '') as quarantine_reason
    from renamed
)

select * from final
