-- Alerts read from Opsgenie, one row per alert: status, priority, times to acknowledge and close.
-- Kept for alert-level analysis; domain incidents come from Opsgenie incidents.
with source as (
    select key, payload
    from raw.opsgenie__alerts
    where exists (select 1 from ops.source_scopes where source = 'opsgenie')
),

final as (
    select
        'opsgenie:alert:' || key as alert_id,
        key as alert_key,
        'opsgenie' as source,
        payload ->> 'tinyId' as tiny_id,
        payload ->> 'status' as status,
        coalesce((payload ->> 'acknowledged')::boolean, false) as acknowledged,
        payload ->> 'priority' as priority,
        (payload ->> 'count')::bigint as occurrences,
        from_json(coalesce(payload -> 'tags', '[]'), '["varchar"]') as tags,
        utc_ts(payload ->> 'createdAt') as created_at,
        utc_ts(payload ->> 'updatedAt') as updated_at,
        (payload -> 'report' ->> 'ackTime')::bigint / 1000.0 as ack_sec,
        (payload -> 'report' ->> 'closeTime')::bigint / 1000.0 as close_sec
    from source
)

select * from final
