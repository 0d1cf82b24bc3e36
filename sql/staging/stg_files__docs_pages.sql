-- Documentation edits from the docs_pages file: one row per known edit of a document, each bad row
-- given a reason. A document's service must be known (services file, sources.yaml or the catalog).
with source as (
    select * from raw.files__docs_pages
),

time_window as (
    select earliest_event_at, latest_event_at from ops.kpi_settings
),

known_services as (
    select service from staging.stg_files__services where quarantine_reason is null
    union
    select service from staging.stg_sources__services where quarantine_reason is null
    union
    select name from staging.stg_files__catalog_entities where quarantine_reason is null and kind = 'component'
),

renamed as (
    select
        trim(s.doc_id) as doc_id,
        trim(s.service) as service,
        s.updated_at,
        s.created_at,
        coalesce(nullif(lower(trim(s.kind)), ''), 'page') as kind,
        nullif(trim(s.title), '') as title,
        nullif(lower(trim(s.labels)), '') as labels,
        nullif(trim(s.url), '') as url,
        k.service is not null as service_known,
        s._file,
        s._line
    from source as s
    left join known_services as k on k.service = trim(s.service)
),

checked as (
    select
        r.*,
        coalesce(r.doc_id, '') = '' as no_key,
        coalesce(r.service, '') = '' as no_service,
        coalesce(r.service, '') <> '' and not r.service_known as unknown_service,
        r.updated_at is null as no_updated,
        least(r.updated_at, r.created_at) < t.earliest_event_at
            or greatest(r.updated_at, r.created_at) > t.latest_event_at as out_of_window,
        row_number() over (partition by r.doc_id, r.updated_at order by r._file, r._line) > 1 as is_duplicate
    from renamed as r
    cross join time_window as t
),

final as (
    select
        'files:doc:' || coalesce(doc_id, '') as document_id,
        * exclude (service_known, no_key, no_service, unknown_service, no_updated, out_of_window, is_duplicate),
        'files' as source,
        case when no_key or no_service or unknown_service or no_updated or out_of_window or is_duplicate
        then concat_ws('; ',
            case when no_key then 'doc_id is blank' end,
            case when no_service then 'service is blank' end,
            case when unknown_service then 'unknown service ' || service || ' (not in services or the catalog)' end,
            case when no_updated then 'updated_at is blank' end,
            case when out_of_window
                then 'a time is outside the allowed time window (earliest_event_date, run time + future_tolerance_hours)' end,
            case when is_duplicate and not no_key then 'duplicate edit of ' || doc_id || ' at ' || updated_at end
        ) end as quarantine_reason
    from checked
)

select * from final
