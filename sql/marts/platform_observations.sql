-- Observations of the platform adoption KPIs in the shape of marts.kpi_observations plus a weight w.
-- They are month-end states: one row per subject per month, observed at the month's last instant.
--   golden_path_*: one row per counted service (marts.golden_path_services), x = 1 when it meets the
--     criterion (all configured criteria for the adoption rate).
--   pipeline_template_coverage / pipeline_template_drift_rate: a ratio over repositories. Each counted
--     service with a repository carries w = 1 / (counted services sharing the repository) so a
--     monorepo counts once in the organisation's value and is split evenly between its services'
--     teams; x = w when the repository's CI uses an approved template (drift: when it is pinned more
--     than max_releases_behind releases back, over covered repositories only).
--   documentation_freshness: one row per key document existing at the month's end, x = 1 when its
--     last edit before the month's end is within freshness_days (at or after month end - N days).
with settings as (
    select * from ops.platform_settings
),

services as (
    select * from marts.golden_path_services where is_counted
),

months as (
    select distinct month from marts.golden_path_services
    union
    -- Without a catalog or CI scans, documents alone set the months (their first to last edit).
    select cast(unnest(generate_series(
        date_trunc('month', min(updated_at)), date_trunc('month', max(updated_at)), interval 1 month
    )) as date)
    from core.documents
    having not exists (select 1 from marts.golden_path_services)
),

edits as (
    select document_id, service, kind, title, labels, url, updated_at from core.documents
    union all
    -- The creation is an edit too: a document created before the month's end exists then.
    select document_id, service, kind, title, labels, url, created_at from core.documents
    where created_at is not null
),

documents as (
    select
        m.month,
        m.month + interval 1 month as month_end,
        e.document_id,
        max_by(e.service, e.updated_at) as service,
        max_by(e.kind, e.updated_at) as kind,
        max_by(e.labels, e.updated_at) as labels,
        max(e.updated_at) as last_updated_at
    from months as m
    join edits as e on e.updated_at < m.month + interval 1 month
    group by all
),

-- Documents of services the catalog in force leaves out (deprecated, experimental, not a service).
excluded_services as (
    select month, service from marts.golden_path_services where not is_counted
),

key_documents as (
    select
        d.*,
        coalesce(s.team, g.team) as team,
        d.last_updated_at >= d.month_end - to_days(st.freshness_days) as is_fresh
    from documents as d
    cross join settings as st
    left join core.services as s on s.service = d.service
    left join (select distinct month, service, team from marts.golden_path_services) as g
        on g.month = d.month and g.service = d.service
    where (
        list_contains(st.key_doc_kinds, d.kind)
        or len(list_intersect(string_split(coalesce(d.labels, ''), ';'), st.key_doc_labels)) > 0
    )
    and not exists (
        select 1 from excluded_services as x where x.month = d.month and x.service = d.service
    )
),

repo_rows as (
    select *, 1.0 / repo_services as share from services where repo is not null
),

final as (
    select 'golden_path_adoption_rate' as measure, 'golden_path:' || service as subject_id, service, team,
        observed_at, on_golden_path::double as x, 1.0::double as w
    from services
    union all
    select 'golden_path_scaffolded_rate', 'golden_path:' || service, service, team, observed_at,
        scaffolded::double, 1.0
    from services
    union all
    select 'golden_path_ci_template_rate', 'golden_path:' || service, service, team, observed_at,
        ci_template::double, 1.0
    from services
    union all
    select 'golden_path_owner_rate', 'golden_path:' || service, service, team, observed_at,
        has_owner::double, 1.0
    from services
    union all
    select 'golden_path_techdocs_rate', 'golden_path:' || service, service, team, observed_at,
        techdocs::double, 1.0
    from services
    union all
    select 'golden_path_runbook_rate', 'golden_path:' || service, service, team, observed_at,
        runbook::double, 1.0
    from services
    union all
    select 'pipeline_template_coverage', 'repo:' || repo || ':' || service, service, team, observed_at,
        ci_template::double * share, share
    from repo_rows
    union all
    select 'pipeline_template_drift_rate', 'repo:' || repo || ':' || service, service, team, observed_at,
        template_drifted::double * share, share
    from repo_rows
    where ci_template
    union all
    select 'documentation_freshness', document_id, service, team, month_end - interval 1 microsecond,
        is_fresh::double, 1.0
    from key_documents
)

select * from final
