-- Services and their owning team, from the canonical services file.
with source as (
    select * from raw.files__services
),

renamed as (
    select
        service,
        team,
        nullif(repo, '') as repo,
        nullif(tier, '') as tier,
        _file,
        _line
    from source
),

final as (
    select
        *,
        nullif(concat_ws('; ',
            case when is_blank(service) then 'service is blank' end,
            case when is_blank(team) then 'team is blank' end,
            case when row_number() over (partition by service order by _file, _line) > 1
                then 'duplicate service ' || service end
        ), '') as quarantine_reason
    from renamed
)

select * from final
