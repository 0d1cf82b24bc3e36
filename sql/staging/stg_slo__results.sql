-- Daily SLO results from <files>/slos/results.csv, typed, each bad row given a reason. slo_id may be
-- the SLO's id or its name; a row for an SLO no spec file defines is quarantined.
with source as (
    select * from raw.slo__results
),

definitions as (
    select slo_id, name from staging.stg_slo__definitions
),

renamed as (
    select
        coalesce(d_id.slo_id, d_name.slo_id) as slo_id,
        s.slo_id as slo_key,
        try_cast(s.day as date) as day,
        try_cast(nullif(trim(s.good_events), '') as double) as good_in,
        try_cast(nullif(trim(s.bad_events), '') as double) as bad_in,
        try_cast(nullif(trim(s.total_events), '') as double) as total_events,
        try_cast(nullif(trim(s.hours_with_data), '') as double) as hours_with_data,
        s.day as raw_day,
        s._file,
        s._line
    from source as s
    left join definitions as d_id on d_id.slo_id = trim(s.slo_id)
    left join definitions as d_name on d_name.name = trim(s.slo_id)
),

final as (
    select
        slo_id,
        slo_key,
        day,
        coalesce(good_in, total_events - bad_in) as good_events,
        total_events,
        hours_with_data,
        _file,
        _line,
        nullif(concat_ws('; ',
            case when slo_id is null then 'no SLO spec defines ' || coalesce(slo_key, '(missing)') end,
            case when day is null then 'day ' || coalesce(raw_day, '(missing)') || ' is not a date' end,
            case when total_events is null or total_events < 0 then 'total_events is not a number >= 0' end,
            case when coalesce(good_in, total_events - bad_in) is null then 'neither good_events nor bad_events is a number'
                when coalesce(good_in, total_events - bad_in) not between 0 and total_events
                then 'good events are not between 0 and total_events' end,
            case when hours_with_data is null or hours_with_data not between 0 and 24
                then 'hours_with_data is not a number from 0 to 24' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
