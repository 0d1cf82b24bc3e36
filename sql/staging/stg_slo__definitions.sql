-- SLO definitions from the OpenSLO and Sloth spec files, typed: the objective as a ratio and which
-- side of the SLI the numerator counts (good, or bad with good = total - bad).
with source as (
    select * from raw.slo__definitions
),

renamed as (
    select
        slo_id,
        source,
        name,
        trim(service) as service,
        try_cast(objective as double) as objective,
        time_window,
        budgeting_method,
        case when good_query is not null then 'good' else 'bad' end as numerator,
        good_query,
        bad_query,
        total_query,
        query_mode,
        labels,
        _file,
        _position
    from source
),

final as (
    select * from renamed
)

select * from final
