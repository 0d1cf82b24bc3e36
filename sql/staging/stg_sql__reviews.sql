-- Architecture (design) reviews read from a database (sources.yaml sql.entities.reviews): requested
-- and completed times in UTC, the requesting team and the service concerned when given.
with source as (
    select key, payload from raw.sql__reviews
    where scope in (select scope from ops.source_scopes where source = 'sql')
),

renamed as (
    select
        'sql:review:' || s.key as review_id,
        s.key as review_key,
        'sql' as source,
        nullif(trim(s.payload ->> 'team'), '') as team,
        nullif(trim(s.payload ->> 'service'), '') as service,
        utc_ts(s.payload ->> 'requested_at') as requested_at,
        utc_ts(s.payload ->> 'completed_at') as completed_at,
        nullif(trim(s.payload ->> 'outcome'), '') as outcome,
        nullif(trim(s.payload ->> 'title'), '') as title,
        nullif(trim(s.payload ->> 'url'), '') as url,
        s.payload ->> 'requested_at' as raw_requested_at,
        s.payload ->> 'completed_at' as raw_completed_at,
        'sql:reviews' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
),

final as (
    select
        * exclude (raw_requested_at, raw_completed_at),
        nullif(concat_ws('; ',
            case when is_blank(review_key) then 'review_id is blank' end,
            case when is_blank(raw_requested_at) then 'requested_at is blank'
                when requested_at is null then 'requested_at ' || raw_requested_at || ' is not a time' end,
            case when not is_blank(raw_completed_at) and completed_at is null
                then 'completed_at ' || raw_completed_at || ' is not a time' end,
            case when completed_at < requested_at then 'completed_at is before requested_at' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
