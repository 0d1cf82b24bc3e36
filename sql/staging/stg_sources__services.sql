-- Services and their owning teams as named in sources.yaml (the services of the API sources).
with source as (
    select * from ops.source_services
),

renamed as (
    select
        service,
        team,
        tier,
        repo,
        'sources.yaml' as _file,
        cast(null as bigint) as _line
    from source
),

final as (
    select
        *,
        cast(null as varchar) as quarantine_reason
    from renamed
)

select * from final
