-- The services the security reports may name, with their repositories: the services file's and
-- sources.yaml's (as core.services takes them; staging cannot read core), and the GitHub repositories
-- sources.yaml gives a service whole (not a path of a shared repository). Repository names are matched
-- case-insensitively, so GitHub alerts (repository from their url) find their service. A repository
-- shared by several services maps to none of them (its alerts are quarantined as unknown).
with named as (
    select service, repo from staging.stg_files__services where quarantine_reason is null
    union all
    select service, repo from staging.stg_sources__services where quarantine_reason is null
),

repos as (
    select service, lower(trim(repo)) as repo from named where nullif(trim(repo), '') is not null
    union
    select service, lower(scope) from ops.source_service_map where source = 'github' and path is null
),

unshared as (
    select repo, any_value(service) as service from repos group by repo having count(distinct service) = 1
),

final as (
    select s.service, u.repo
    from (select distinct service from named) as s
    left join unshared as u using (service)
)

select * from final
