-- Services the service catalog describes differently from the services file or sources.yaml (which win:
-- their team and repository are the ones every KPI uses): a different owner, or a different repository,
-- in the latest snapshot of each catalog source. Shown on Data health so either side can be fixed.
with latest as (
    select * from core.catalog_entities
    where kind = 'component'
    qualify snapshot_at = max(snapshot_at) over (partition by source)
),

declared as (
    select service, team, repo, 'files' as declared_in
    from staging.stg_files__services where quarantine_reason is null
    union all
    select service, team, repo, 'sources.yaml'
    from staging.stg_sources__services where quarantine_reason is null
),

final as (
    select
        d.service,
        d.declared_in,
        d.team as declared_team,
        c.owner as catalog_owner,
        d.repo as declared_repo,
        c.repo as catalog_repo,
        c.source as catalog_source,
        c.snapshot_at,
        concat_ws('; ',
            case when c.owner is not null and c.owner <> d.team
                then 'the catalog says owner ' || c.owner || ', ' || d.declared_in || ' says team ' || d.team end,
            case when c.repo is not null and d.repo is not null and c.repo <> d.repo
                then 'the catalog says repository ' || c.repo || ', ' || d.declared_in || ' says ' || d.repo end
        ) as conflict
    from declared as d
    join latest as c on c.name = d.service
    where (c.owner is not null and c.owner <> d.team)
        or (c.repo is not null and d.repo is not null and c.repo <> d.repo)
)

select * from final order by service, declared_in, catalog_source
