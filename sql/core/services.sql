-- Every known service and the team that owns it. The scope list for team and service KPIs.
with source as (
    select * from staging.stg_files__services where quarantine_reason is null
),

renamed as (
    select
        service,
        team,
        repo,
        tier,
        'files' as source
    from source
),

final as (
    select * from renamed
)

select * from final
