-- Alerts read from Opsgenie, one row per alert: status, priority, times to acknowledge and close, and
-- who did: Opsgenie user names are e-mail addresses, so an acknowledgedBy / closedBy with an '@' is a
-- person; anything else (an integration's name, "System") closed it automatically. Service as the
-- incidents map theirs (sources.yaml services' opsgenie_services): a tag, responder (id or name) or
-- the integration (id or name) naming a mapped Opsgenie service, else a tag `service:<service>`
-- naming a service of sources.yaml. The alert payload names no incident.
with source as (
    select key, payload
    from raw.opsgenie__alerts
    where exists (select 1 from ops.source_scopes where source = 'opsgenie')
),

-- Every name an alert carries that may name its service.
names as (
    select key, unnest(from_json(coalesce(payload -> 'tags', '[]'), '["varchar"]')) as name from source
    union
    select key, unnest(from_json(coalesce(payload -> 'responders', '[]'), '[{"id": "varchar", "name": "varchar"}]')).id
    from source
    union
    select key, unnest(from_json(coalesce(payload -> 'responders', '[]'), '[{"id": "varchar", "name": "varchar"}]')).name
    from source
    union
    select key, payload -> 'integration' ->> 'id' from source
    union
    select key, payload -> 'integration' ->> 'name' from source
),

attributed as (
    select n.key, min(m.service) as service
    from names as n
    join ops.source_service_map as m on m.source = 'opsgenie' and m.scope = n.name
    group by n.key
),

tagged as (
    select n.key, min(v.service) as service
    from names as n
    join ops.source_services as v on n.name = 'service:' || v.service
    group by n.key
),

renamed as (
    select
        'opsgenie:alert:' || s.key as alert_id,
        s.key as alert_key,
        'opsgenie' as source,
        coalesce(a.service, t.service) as service,
        s.payload ->> 'tinyId' as tiny_id,
        s.payload ->> 'status' as status,
        coalesce((s.payload ->> 'acknowledged')::boolean, false) as acknowledged,
        s.payload ->> 'priority' as priority,
        s.payload ->> 'priority' as original_severity,
        (s.payload ->> 'count')::bigint as occurrences,
        from_json(coalesce(s.payload -> 'tags', '[]'), '["varchar"]') as tags,
        utc_ts(s.payload ->> 'createdAt') as created_at,
        utc_ts(s.payload ->> 'updatedAt') as updated_at,
        (s.payload -> 'report' ->> 'ackTime')::bigint / 1000.0 as ack_sec,
        (s.payload -> 'report' ->> 'closeTime')::bigint / 1000.0 as close_sec,
        s.payload -> 'report' ->> 'acknowledgedBy' as original_acknowledged_by,
        s.payload -> 'report' ->> 'closedBy' as original_resolved_by,
        coalesce(nullif(s.payload ->> 'source', ''), s.payload -> 'integration' ->> 'name') as alert_source,
        cast(null as varchar) as incident_id,
        s.payload ->> 'createdAt' as raw_created_at,
        'opsgenie:v2/alerts' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    left join attributed as a using (key)
    left join tagged as t using (key)
),

final as (
    select
        * exclude (raw_created_at),
        -- ackTime and closeTime are milliseconds from the alert's creation
        case when acknowledged then created_at + to_milliseconds(cast(ack_sec * 1000 as bigint)) end
            as acknowledged_at,
        acknowledged and coalesce(original_acknowledged_by like '%@%', false) as acknowledged_by_person,
        case when status = 'closed' then created_at + to_milliseconds(cast(close_sec * 1000 as bigint)) end
            as resolved_at,
        status = 'closed' and not coalesce(original_resolved_by like '%@%', false) as auto_resolved,
        nullif(concat_ws('; ',
            case when alert_key = 'None' or is_blank(alert_key) then 'id is missing' end,
            case when service is null then 'no service mapped for the tags, responders or integration (sources.yaml services)' end,
            case when is_blank(raw_created_at) then 'createdAt is missing'
                when created_at is null then 'createdAt ' || raw_created_at || ' is not an ISO-8601 time' end,
            case when status is null then 'status is missing'
                when status not in ('open', 'closed') then 'unknown alert status ' || status end,
            case when priority not in ('P1', 'P2', 'P3', 'P4', 'P5') then 'unknown alert priority ' || priority end,
            case when status = 'closed' and close_sec is null then 'report.closeTime is missing on a closed alert' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
