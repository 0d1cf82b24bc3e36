-- Service catalog entities from the catalog_entities file: one row per entity per catalog snapshot,
-- each bad row given a reason. Kind, type and lifecycle are normalized to lower case (the file's
-- spelling kept in original_*); the owner reference is reduced to the group's name.
with source as (
    select * from raw.files__catalog_entities
),

time_window as (
    select earliest_event_at, latest_event_at from ops.kpi_settings
),

renamed as (
    select
        snapshot_at,
        lower(trim(kind)) as kind,
        kind as original_kind,
        trim(name) as name,
        coalesce(nullif(trim(namespace), ''), 'default') as namespace,
        nullif(lower(trim(type)), '') as type,
        nullif(lower(trim(lifecycle)), '') as lifecycle,
        lifecycle as original_lifecycle,
        -- group:default/payments -> payments (Backstage's entity reference; a bare name stays as it is)
        nullif(regexp_replace(trim(owner), '^([a-z]+:)?([^/]*/)?', ''), '') as owner,
        nullif(trim(system), '') as system,
        nullif(trim(repo), '') as repo,
        nullif(trim(source_template), '') as source_template,
        nullif(trim(techdocs_ref), '') as techdocs_ref,
        nullif(trim(pagerduty_service), '') as pagerduty_service,
        nullif(trim(runbook_url), '') as runbook_url,
        nullif(trim(tags), '') as tags,
        nullif(trim(url), '') as url,
        _file,
        _line
    from source
),

checked as (
    select
        r.*,
        coalesce(r.name, '') = '' as no_name,
        coalesce(r.kind, '') = '' as no_kind,
        r.snapshot_at is null as no_snapshot,
        r.snapshot_at < t.earliest_event_at or r.snapshot_at > t.latest_event_at as out_of_window,
        row_number() over (
            partition by r.snapshot_at, r.kind, r.namespace, r.name order by r._file, r._line
        ) > 1 as is_duplicate
    from renamed as r
    cross join time_window as t
),

final as (
    select
        'files:catalog_entity:' || coalesce(kind, '') || ':' || namespace || '/' || coalesce(name, '')
            as entity_ref,
        * exclude (no_name, no_kind, no_snapshot, out_of_window, is_duplicate),
        'files' as source,
        case when no_name or no_kind or no_snapshot or out_of_window or is_duplicate then concat_ws('; ',
            case when no_name then 'name is blank' end,
            case when no_kind then 'kind is blank' end,
            case when no_snapshot then 'snapshot_at is blank' end,
            case when out_of_window
                then 'snapshot_at ' || snapshot_at || ' is outside the allowed time window (earliest_event_date, run time + future_tolerance_hours)' end,
            case when is_duplicate and not no_name
                then 'duplicate entity ' || kind || ':' || namespace || '/' || name || ' in the snapshot of ' || snapshot_at end
        ) end as quarantine_reason
    from checked
)

select * from final
