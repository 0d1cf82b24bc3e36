-- Platform support requests read from ServiceNow (sources.yaml servicenow.entities.tickets: any task
-- table, e.g. sc_req_item or incident), one row per record in its latest state. Every field arrives as
-- {display_value, value} (sysparm_display_value=all): times and state codes are read from the value
-- (UTC, the codes the database holds), names from the display value. State codes follow the table's
-- state model: incident 1 New, 2 In Progress, 3 On Hold, 6 Resolved, 7 Closed, 8 Canceled; other task
-- tables 1 Open, 2 Work in Progress, 3 Closed Complete, 4 Closed Incomplete, 7 Closed Skipped. RESOLVED:
-- resolved or closed complete, at the resolution (else closing) time; CANCELED: canceled, closed
-- incomplete or skipped; else OPEN. A reopened record carries its last resolution.
with source as (
    select key, payload from raw.servicenow__tickets
    where scope in (select scope from ops.source_scopes where source = 'servicenow')
),

fields as (
    select
        max(field) filter (where role = 'team') as team_field,
        coalesce(max(field) filter (where role = 'service'), 'cmdb_ci') as service_field
    from ops.source_fields
    where source = 'servicenow'
),

renamed as (
    select
        'servicenow:ticket:' || s.key as ticket_id,
        s.key as ticket_key,
        'servicenow' as source,
        nullif(trim(json_label(json_extract(s.payload, '$."' || f.team_field || '"'))), '') as team,
        nullif(trim(json_label(json_extract(s.payload, '$."' || f.service_field || '"'))), '') as service,
        coalesce(s.payload -> 'sys_class_name' ->> 'value', 'task') as table_name,
        s.payload -> 'state' ->> 'value' as state_code,
        utc_ts(s.payload -> 'opened_at' ->> 'value') as created_at,
        utc_ts(coalesce(
            nullif(s.payload -> 'resolved_at' ->> 'value', ''), s.payload -> 'closed_at' ->> 'value'
        )) as done_at,
        s.payload -> 'state' ->> 'display_value' as original_status,
        s.payload -> 'priority' ->> 'display_value' as priority,
        s.payload -> 'sys_class_name' ->> 'display_value' as kind,
        cast(null as varchar) as url,
        s.payload -> 'opened_at' ->> 'value' as raw_created_at,
        'servicenow:tickets' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    cross join fields as f
),

classified as (
    select
        *,
        case
            when table_name = 'incident' then
                case state_code when '6' then 'RESOLVED' when '7' then 'RESOLVED' when '8' then 'CANCELED'
                    when '1' then 'OPEN' when '2' then 'OPEN' when '3' then 'OPEN' end
            else
                case state_code when '3' then 'RESOLVED' when '4' then 'CANCELED' when '7' then 'CANCELED'
                    when '-5' then 'OPEN' when '1' then 'OPEN' when '2' then 'OPEN' end
        end as status
    from renamed
),

final as (
    select
        ticket_id, ticket_key, source, team, service, created_at,
        case when status = 'RESOLVED' then done_at end as resolved_at,
        coalesce(status, 'OPEN') as status, original_status, priority, kind, url, _file, _line, _record,
        nullif(concat_ws('; ',
            case when is_blank(ticket_key) or ticket_key = 'None' then 'number is missing' end,
            case when is_blank(raw_created_at) then 'opened_at is missing'
                when created_at is null then 'opened_at ' || raw_created_at || ' is not a time' end,
            case when state_code is null then 'state is missing'
                when status is null then 'unknown ' || table_name || ' state ' || state_code
                    || coalesce(' (' || original_status || ')', '') end,
            case when status = 'RESOLVED' and done_at is null then 'resolved without resolved_at or closed_at' end,
            case when status = 'RESOLVED' and done_at < created_at then 'resolved before it was opened' end
        ), '') as quarantine_reason
    from classified
)

select * from final
