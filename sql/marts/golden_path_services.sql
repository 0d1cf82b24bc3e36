-- Every catalog component of every month, as the catalog snapshot in force at the month's end saw it
-- (the latest snapshot taken before the next month began), with each golden-path criterion and the CI
-- scan of its repository in force at the month's end. is_counted marks the active services the
-- platform adoption KPIs count (a service type of platform_adoption, lifecycle not excluded).
-- Months run from the first catalog snapshot or CI scan to the last snapshot, scan or document edit.
with settings as (
    select * from ops.platform_settings
),

catalog_times as (
    select distinct snapshot_at from core.catalog_entities
),

bounds as (
    select
        coalesce(
            (select min(snapshot_at) from core.catalog_entities),
            (select min(scanned_at) from core.ci_template_refs)
        ) as first_at,
        greatest(
            (select max(snapshot_at) from core.catalog_entities),
            (select max(scanned_at) from core.ci_template_refs),
            (select max(updated_at) from core.documents)
        ) as last_at
),

months as (
    select cast(unnest(generate_series(
        date_trunc('month', first_at), date_trunc('month', last_at), interval 1 month
    )) as date) as month
    from bounds
    where first_at is not null
),

month_ends as (
    select month, month + interval 1 month as month_end from months
),

catalog_in_force as (
    select m.month, m.month_end, max(c.snapshot_at) as snapshot_at
    from month_ends as m
    join catalog_times as c on c.snapshot_at < m.month_end
    group by all
),

components as (
    select f.month, f.month_end, e.*
    from catalog_in_force as f
    join core.catalog_entities as e using (snapshot_at)
    where e.kind = 'component'
),

templates as (
    select unnest(pipeline_templates, recursive := true) from settings
),

scan_times as (
    select distinct repo, scanned_at from core.ci_template_refs
),

scan_in_force as (
    select m.month, t.repo, max(t.scanned_at) as scanned_at
    from month_ends as m
    join scan_times as t on t.scanned_at < m.month_end
    group by all
),

-- References of the scan in force that an approved template's pattern matches, with how many releases
-- newer than their pin were out by the month's end (a release with a date counts from that day, one
-- without from the start; NULL: a version the template's releases do not list, or no pin).
approved_refs as (
    select
        f.month,
        r.repo,
        t.name as template_name,
        r.version,
        list_position(list_transform(t.releases, lambda x: x.version), r.version) as position
    from scan_in_force as f
    join core.ci_template_refs as r using (repo, scanned_at)
    join templates as t on r.reference glob t.pattern
),

approved_pins as (
    select
        a.month,
        a.repo,
        a.template_name,
        a.version,
        case when a.position is not null then len(list_filter(
            t.releases[1:a.position - 1],
            lambda x: x.released is null or x.released < a.month + interval 1 month
        )) end as releases_behind
    from approved_refs as a
    join templates as t on t.name = a.template_name
),

repo_ci as (
    select
        f.month,
        f.repo,
        f.scanned_at,
        count(a.template_name) > 0 as uses_approved_template,
        coalesce(bool_or(a.releases_behind > (select max_releases_behind from settings)), false)
            as template_drifted,
        string_agg(distinct a.template_name || coalesce('@' || a.version, ''), ', ' order by a.template_name || coalesce('@' || a.version, ''))
            as templates_used
    from scan_in_force as f
    left join approved_pins as a using (month, repo)
    group by f.month, f.repo, f.scanned_at
),

criteria as (
    select
        c.month,
        c.month_end,
        c.snapshot_at,
        c.name as service,
        coalesce(s.team, c.owner) as team,
        c.type,
        c.lifecycle,
        c.owner,
        c.repo,
        c.url as catalog_url,
        coalesce(list_contains(st.service_types, c.type), false)
            and not list_contains(st.excluded_lifecycles, coalesce(c.lifecycle, '')) as is_counted,
        coalesce(len(list_filter(st.approved_scaffolder_templates, lambda p: c.source_template glob p)) > 0, false)
            as scaffolded,
        coalesce(ci.uses_approved_template, false) as ci_template,
        c.owner is not null as has_owner,
        c.techdocs_ref is not null as techdocs,
        c.pagerduty_service is not null or c.runbook_url is not null as runbook,
        ci.scanned_at as ci_scanned_at,
        coalesce(ci.template_drifted, false) as template_drifted,
        ci.templates_used,
        st.golden_path_criteria
    from components as c
    cross join settings as st
    left join core.services as s on s.service = c.name
    left join repo_ci as ci on ci.month = c.month and ci.repo = c.repo
),

final as (
    select
        month,
        month_end - interval 1 microsecond as observed_at,
        snapshot_at,
        service,
        team,
        type,
        lifecycle,
        owner,
        repo,
        catalog_url,
        is_counted,
        scaffolded,
        ci_template,
        has_owner,
        techdocs,
        runbook,
        (not list_contains(golden_path_criteria, 'scaffolded') or scaffolded)
            and (not list_contains(golden_path_criteria, 'ci_template') or ci_template)
            and (not list_contains(golden_path_criteria, 'owner') or has_owner)
            and (not list_contains(golden_path_criteria, 'techdocs') or techdocs)
            and (not list_contains(golden_path_criteria, 'runbook') or runbook) as on_golden_path,
        list_filter(golden_path_criteria, lambda k: not case k
            when 'scaffolded' then scaffolded
            when 'ci_template' then ci_template
            when 'owner' then has_owner
            when 'techdocs' then techdocs
            when 'runbook' then runbook
        end) as failing_criteria,
        -- Services of the month counted here that share the repository (a monorepo: more than one).
        case when repo is not null and is_counted
            then count(*) filter (where is_counted) over (partition by month, repo) end as repo_services,
        ci_scanned_at,
        template_drifted,
        templates_used
    from criteria
)

select * from final order by month, service
