-- Platform support tickets read from a database (sources.yaml sql.entities.tickets), each as last
-- read: a reopened ticket's row carries its latest state. Times are UTC; the status is kept as the
-- database spells it and normalized: CANCELED (cancelled, rejected, duplicate, withdrawn), RESOLVED
-- (a resolution time is set), else OPEN.
with source as (
    select key, payload from raw.sql__tickets
    where scope in (select scope from ops.source_scopes where source = 'sql')
),

renamed as (
    select
        'sql:ticket:' || s.key as ticket_id,
        s.key as ticket_key,
        'sql' as source,
        nullif(trim(s.payload ->> 'team'), '') as team,
        nullif(trim(s.payload ->> 'service'), '') as service,
        utc_ts(s.payload ->> 'created_at') as created_at,
        utc_ts(s.payload ->> 'resolved_at') as resolved_at,
        s.payload ->> 'status' as original_status,
        nullif(trim(s.payload ->> 'priority'), '') as priority,
        nullif(trim(s.payload ->> 'kind'), '') as kind,
        nullif(trim(s.payload ->> 'url'), '') as url,
        s.payload ->> 'created_at' as raw_created_at,
        s.payload ->> 'resolved_at' as raw_resolved_at,
        'sql:tickets' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
),

final as (
    select
        * exclude (raw_created_at, raw_resolved_at),
        case
            when regexp_matches(lower(coalesce(original_status, '')), 'cancel|reject|duplicate|withdrawn')
                then 'CANCELED'
            when resolved_at is not null then 'RESOLVED'
            else 'OPEN'
        end as status,
        nullif(concat_ws('; ',
            case when is_blank(ticket_key) then 'ticket_id is blank' end,
            case when is_blank(raw_created_at) then 'created_at is blank'
                when created_at is null then 'created_at ' || raw_created_at || ' is not a time' end,
            case when not is_blank(raw_resolved_at) and resolved_at is null
                then 'resolved_at ' || raw_resolved_at || ' is not a time' end,
            case when is_blank(original_status) then 'status is blank' end,
            case when resolved_at < created_at then 'resolved_at is before created_at' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
