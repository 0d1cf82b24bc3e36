-- Every known service and the team that owns it. The scope list for team and service KPIs.
-- Services come from the files, from sources.yaml (API sources) and from the service catalog (the
-- components of a platform_adoption service type in each catalog source's latest snapshot, owned by
-- their owner group); a service named by more than one keeps the file's row, then sources.yaml's.
with catalog as (
    select name as service, owner as team, repo, cast(null as varchar) as tier, 'catalog' as source
    from core.catalog_entities
    where kind = 'component'
        and owner is not null
        and list_contains((select service_types from ops.platform_settings), type)
    qualify snapshot_at = max(snapshot_at) over (partition by source)
),

source as (
    select *
    from (
        select *, 'files' as source from staging.stg_files__services where quarantine_reason is null
        union all by name
        select *, 'sources.yaml' as source from staging.stg_sources__services where quarantine_reason is null
        union all by name
        select * from catalog
    )
    qualify row_number() over (
        partition by service order by case source when 'files' then 0 when 'sources.yaml' then 1 else 2 end, team
    ) = 1
),

renamed as (
    select
        service,
        team,
        repo,
        tier,
        source
    from source
),

final as (
    select * from renamed
)

select * from final
