-- The services the security reports may name, with their repository: the services file's and
-- sources.yaml's (as core.services takes them; staging cannot read core). Repository names are
-- matched case-insensitively, so GitHub alerts (repo from their url) find their service.
with source as (
    select service, repo from staging.stg_files__services where quarantine_reason is null
    union all
    select service, repo from staging.stg_sources__services where quarantine_reason is null
),

final as (
    select service, lower(nullif(trim(max(repo)), '')) as repo
    from source
    group by service
)

select * from final
