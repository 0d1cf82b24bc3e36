-- materialized: table
-- Services and their owning team, from the canonical services file.

-- A table rather than the usual staging view: every other staging model looks services up.
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

checked as (
    select
        *,
        coalesce(service, '') = '' as no_service,
        coalesce(team, '') = '' as no_team,
        row_number() over (partition by service order by _file, _line) > 1 as is_duplicate
    from renamed
),

final as (
    select
        * exclude (no_service, no_team, is_duplicate),
        -- Reasons are spelled out only for the few bad rows: building strings for every row is costly.
        case when no_service or no_team or is_duplicate then concat_ws('; ',
            case when no_service then 'service is blank' end,
            case when no_team then 'team is blank' end,
            case when is_duplicate and not no_service then 'duplicate service ' || service end
        ) end as quarantine_reason
    from checked
)

select * from final
