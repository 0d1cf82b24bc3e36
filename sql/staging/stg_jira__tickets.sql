-- Platform support tickets read from Jira Cloud (sources.yaml jira.entities.tickets), one row per
-- issue in its latest state. A ticket is RESOLVED when its status is in Jira's "done" category, at its
-- resolution date (or, in workflows that set no resolution, when it entered that category); CANCELED
-- when its resolution says it was not done (won't do, duplicate, declined, cannot reproduce ...);
-- else OPEN. A reopened ticket carries its last resolution; the changelog tells how often it was
-- reopened (its resolution cleared) and when it was first resolved. Team and service come from the
-- fields sources.yaml names (jira.team_field, jira.service_field: default components).
with source as (
    select key, payload from raw.jira__tickets
    where scope in (select scope from ops.source_scopes where source = 'jira')
),

fields as (
    select
        max(field) filter (where role = 'team') as team_field,
        coalesce(max(field) filter (where role = 'service'), 'components') as service_field
    from ops.source_fields
    where source = 'jira'
),

histories as (
    select key, unnest(from_json(payload -> 'changelog' -> 'histories', '["json"]')) as history
    from source
),

changes as (
    select key, utc_ts(history ->> 'created') as changed_at, unnest(from_json(history -> 'items', '["json"]')) as item
    from histories
),

-- the resolution set is a resolution; cleared, a reopening
resolution_changes as (
    select
        key,
        count(*) filter (where is_blank(item ->> 'to') and not is_blank(item ->> 'from')) as reopen_count,
        min(changed_at) filter (where not is_blank(item ->> 'to')) as first_resolved_at
    from changes
    where item ->> 'field' = 'resolution'
    group by key
),

renamed as (
    select
        'jira:ticket:' || s.key as ticket_id,
        s.key as ticket_key,
        'jira' as source,
        nullif(trim(json_label(json_extract(s.payload -> 'fields', '$."' || f.team_field || '"'))), '') as team,
        nullif(trim(json_label(json_extract(s.payload -> 'fields', '$."' || f.service_field || '"'))), '')
            as service,
        utc_ts(s.payload -> 'fields' ->> 'created') as created_at,
        s.payload -> 'fields' -> 'status' -> 'statusCategory' ->> 'key' as status_category,
        utc_ts(coalesce(
            s.payload -> 'fields' ->> 'resolutiondate', s.payload -> 'fields' ->> 'statuscategorychangedate'
        )) as done_at,
        s.payload -> 'fields' -> 'status' ->> 'name' as original_status,
        s.payload -> 'fields' -> 'resolution' ->> 'name' as resolution,
        s.payload -> 'fields' -> 'priority' ->> 'name' as priority,
        s.payload -> 'fields' -> 'issuetype' ->> 'name' as kind,
        regexp_replace(s.payload ->> 'self', '/rest/api/.*$', '') || '/browse/' || s.key as url,
        coalesce(c.reopen_count, 0) as reopen_count,
        c.first_resolved_at,
        s.payload -> 'fields' ->> 'created' as raw_created_at,
        'jira:tickets' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    cross join fields as f
    left join resolution_changes as c on c.key = s.key
),

final as (
    select
        ticket_id, ticket_key, source, team, service, created_at,
        case when status_category = 'done' then done_at end as resolved_at,
        original_status, priority, kind, url, reopen_count, first_resolved_at, _file, _line, _record,
        case
            when status_category = 'done'
                and regexp_matches(lower(coalesce(resolution, '')), 'won''t|wont|cancel|duplicate|declin|reject|withdrawn|cannot reproduce')
                then 'CANCELED'
            when status_category = 'done' then 'RESOLVED'
            else 'OPEN'
        end as status,
        nullif(concat_ws('; ',
            case when is_blank(ticket_key) then 'issue key is missing' end,
            case when is_blank(raw_created_at) then 'fields.created is missing'
                when created_at is null then 'fields.created ' || raw_created_at || ' is not a time' end,
            case when status_category is null then 'fields.status.statusCategory.key is missing'
                when status_category not in ('new', 'indeterminate', 'done')
                then 'unknown status category ' || status_category end,
            case when status_category = 'done' and done_at is null
                then 'a done issue has neither fields.resolutiondate nor fields.statuscategorychangedate' end,
            case when status_category = 'done' and done_at < created_at then 'resolved before it was created' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
