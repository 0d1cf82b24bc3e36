-- Every known service and the team that owns it. The scope list for team and service KPIs.
-- Services come from the files and from sources.yaml (API sources); a service named by both keeps the file's row.
with source as (
    select *
    from (
        select *, 'files' as source from staging.stg_files__services where quarantine_reason is null
        union all by name
        select *, 'sources.yaml' as source from staging.stg_sources__services where quarantine_reason is null
    )
    qualify row_number() over (partition by service order by source = 'files' desc) = 1
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
