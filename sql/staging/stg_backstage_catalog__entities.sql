-- The Backstage catalog at each sync: every entity a snapshot lists (raw.backstage_catalog__snapshots),
-- read from the version of it stored then (raw.backstage_catalog__entities, key uid@etag). Repository
-- from the github.com/project-slug or gitlab.com/project-slug annotation (else the
-- backstage.io/source-location URL), template from backstage.io/source-template, on-call from
-- pagerduty.com/service-id or integration-key, runbook from a link titled or typed runbook.
with snapshots as (
    select
        s.key as snapshot_key,
        utc_ts(s.payload ->> 'snapshot_at') as snapshot_at,
        unnest(from_json(s.payload -> 'entities', '[{"uid": "VARCHAR", "etag": "VARCHAR"}]'), recursive := true)
    from raw.backstage_catalog__snapshots as s
    where exists (select 1 from ops.source_scopes where source = 'backstage_catalog')
),

entities as (
    select key, payload from raw.backstage_catalog__entities
),

joined as (
    select
        s.snapshot_key,
        s.snapshot_at,
        s.uid,
        s.etag,
        e.payload,
        e.payload -> 'metadata' as meta,
        e.payload -> 'metadata' -> 'annotations' as ann,
        e.payload -> 'spec' as spec
    from snapshots as s
    left join entities as e on e.key = s.uid || '@' || coalesce(s.etag, 'None')
),

renamed as (
    select
        snapshot_at,
        lower(payload ->> 'kind') as kind,
        payload ->> 'kind' as original_kind,
        meta ->> 'name' as name,
        coalesce(nullif(meta ->> 'namespace', ''), 'default') as namespace,
        nullif(lower(spec ->> 'type'), '') as type,
        nullif(lower(spec ->> 'lifecycle'), '') as lifecycle,
        spec ->> 'lifecycle' as original_lifecycle,
        nullif(regexp_replace(coalesce(spec ->> 'owner', ''), '^([a-z]+:)?([^/]*/)?', ''), '') as owner,
        nullif(regexp_replace(coalesce(spec ->> 'system', ''), '^([a-z]+:)?([^/]*/)?', ''), '') as system,
        coalesce(
            nullif(ann ->> 'github.com/project-slug', ''),
            nullif(ann ->> 'gitlab.com/project-slug', ''),
            nullif(regexp_extract(ann ->> 'backstage.io/source-location', '^url:https?://[^/]+/([^/]+/[^/]+?)(\.git)?(/|$)', 1), '')
        ) as repo,
        nullif(ann ->> 'backstage.io/source-template', '') as source_template,
        nullif(ann ->> 'backstage.io/techdocs-ref', '') as techdocs_ref,
        coalesce(
            nullif(ann ->> 'pagerduty.com/service-id', ''), nullif(ann ->> 'pagerduty.com/integration-key', '')
        ) as pagerduty_service,
        list_filter(
            from_json(meta -> 'links', '[{"url": "VARCHAR", "title": "VARCHAR", "type": "VARCHAR"}]'),
            lambda l: lower(coalesce(l.title, '')) like '%runbook%' or lower(coalesce(l.type, '')) = 'runbook'
        )[1].url as runbook_url,
        nullif(array_to_string(from_json(meta -> 'tags', '["VARCHAR"]'), ';'), '') as tags,
        nullif(ann ->> 'backstage.io/view-url', '') as url,
        uid,
        etag,
        'backstage_catalog:snapshot ' || snapshot_key as _file,
        cast(null as bigint) as _line,
        coalesce(payload::varchar, '{"uid": "' || uid || '"}') as _record
    from joined
),

final as (
    select
        'backstage:catalog_entity:' || coalesce(kind, '') || ':' || namespace || '/' || coalesce(name, '') as entity_ref,
        * exclude (uid, etag),
        'backstage' as source,
        nullif(concat_ws('; ',
            case when _record not like '{"apiVersion%' and kind is null
                then 'the snapshot lists entity ' || uid || '@' || coalesce(etag, '') || ', whose version was not stored' end,
            case when kind is not null and is_blank(name) then 'metadata.name is missing' end,
            case when snapshot_at is null then 'snapshot_at is missing' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
