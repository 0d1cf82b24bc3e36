-- Architecture (design) reviews read from Jira Cloud (sources.yaml jira.entities.reviews), one row per
-- issue: requested when the issue was created, completed when it reached Jira's "done" status category
-- (its resolution date, or when it entered that category in workflows that set no resolution); the
-- resolution is the outcome. Team and service come from the fields sources.yaml names.
with source as (
    select key, payload from raw.jira__reviews
    where scope in (select scope from ops.source_scopes where source = 'jira')
),

fields as (
    select
        max(field) filter (where role = 'team') as team_field,
        coalesce(max(field) filter (where role = 'service'), 'components') as service_field
    from ops.source_fields
    where source = 'jira'
),

renamed as (
    select
        'jira:review:' || s.key as review_id,
        s.key as review_key,
        'jira' as source,
        nullif(trim(json_label(json_extract(s.payload -> 'fields', '$."' || f.team_field || '"'))), '') as team,
        nullif(trim(json_label(json_extract(s.payload -> 'fields', '$."' || f.service_field || '"'))), '')
            as service,
        utc_ts(s.payload -> 'fields' ->> 'created') as requested_at,
        case when s.payload -> 'fields' -> 'status' -> 'statusCategory' ->> 'key' = 'done'
            then utc_ts(coalesce(
                s.payload -> 'fields' ->> 'resolutiondate', s.payload -> 'fields' ->> 'statuscategorychangedate'
            )) end as completed_at,
        coalesce(s.payload -> 'fields' -> 'resolution' ->> 'name', s.payload -> 'fields' -> 'status' ->> 'name')
            as outcome,
        s.payload -> 'fields' ->> 'summary' as title,
        regexp_replace(s.payload ->> 'self', '/rest/api/.*$', '') || '/browse/' || s.key as url,
        s.payload -> 'fields' -> 'status' -> 'statusCategory' ->> 'key' as status_category,
        s.payload -> 'fields' ->> 'created' as raw_created_at,
        'jira:reviews' as _file,
        cast(null as bigint) as _line,
        s.payload::varchar as _record
    from source as s
    cross join fields as f
),

final as (
    select
        * exclude (status_category, raw_created_at),
        nullif(concat_ws('; ',
            case when is_blank(review_key) then 'issue key is missing' end,
            case when is_blank(raw_created_at) then 'fields.created is missing'
                when requested_at is null then 'fields.created ' || raw_created_at || ' is not a time' end,
            case when status_category is null then 'fields.status.statusCategory.key is missing' end,
            case when status_category = 'done' and completed_at is null
                then 'a done issue has neither fields.resolutiondate nor fields.statuscategorychangedate' end,
            case when completed_at < requested_at then 'completed before it was requested' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
