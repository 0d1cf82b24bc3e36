-- Confluence page versions (one row per version seen): each is an edit of the page. A page documents
-- the service its label service-<name> names, else the service sources.yaml maps its space to
-- (services[].confluence_spaces); a page labelled runbook is a runbook.
with source as (
    select key, scope, payload from raw.confluence_pages__pages
    where scope in (select scope from ops.source_scopes where source = 'confluence_pages')
),

space_services as (
    select scope, min(service) as service
    from ops.source_service_map where source = 'confluence_pages' group by scope
),

renamed as (
    select
        s.key,
        s.scope as space_id,
        s.payload -> 'page' as page,
        list_transform(
            from_json(s.payload -> 'labels', '[{"id": "VARCHAR", "name": "VARCHAR", "prefix": "VARCHAR"}]'),
            lambda l: lower(l.name)
        ) as label_names,
        s.payload ->> 'base' as base,
        s.payload::varchar as _record
    from source as s
),

final as (
    select
        'confluence:doc:' || (page ->> 'id') as document_id,
        page ->> 'id' as doc_id,
        coalesce(
            list_filter(label_names, lambda n: n like 'service-%')[1][9:],
            m.service
        ) as service,
        utc_ts(page -> 'version' ->> 'createdAt') as updated_at,
        utc_ts(page ->> 'createdAt') as created_at,
        case when list_contains(label_names, 'runbook') then 'runbook' else 'page' end as kind,
        page ->> 'title' as title,
        nullif(array_to_string(label_names, ';'), '') as labels,
        coalesce(base, '') || (page -> '_links' ->> 'webui') as url,
        'confluence' as source,
        'confluence_pages:pages' as _file,
        cast(null as bigint) as _line,
        _record,
        nullif(concat_ws('; ',
            case when list_filter(label_names, lambda n: n like 'service-%')[1] is null and m.service is null
                then 'no service for page ' || (page ->> 'id') || ' (label it service-<name>, or map space '
                    || space_id || ' in sources.yaml services[].confluence_spaces)' end,
            case when utc_ts(page -> 'version' ->> 'createdAt') is null then 'version.createdAt is missing' end
        ), '') as quarantine_reason
    from renamed as r
    left join space_services as m on m.scope = r.space_id
)

select * from final
