-- Hourly SLO samples from Prometheus, typed. A sample at ts holds the events of the hour ending at ts
-- (increase over [1h]), so it belongs to the hour starting at ts - 1 h: the sample at 1 Feb 00:00 is
-- 31 Jan 23:00-24:00 and counts in January.
with source as (
    select * from raw.prometheus__slo_samples
),

renamed as (
    select
        slo_id,
        series,
        to_timestamp(try_cast(ts as double))::timestamp - interval 1 hour as hour_start,
        try_cast(value as double) as value,
        ts as raw_ts,
        value as raw_value,
        _origin,
        _line
    from source
),

final as (
    select
        * exclude (raw_ts, raw_value),
        nullif(concat_ws('; ',
            case when hour_start is null then 'timestamp ' || coalesce(raw_ts, '(missing)') || ' is not a Unix time' end,
            case when value is null or isnan(value) or isinf(value)
                then 'value ' || coalesce(raw_value, '(missing)') || ' is not a finite number'
                when value < 0 then 'value ' || raw_value || ' is negative (events cannot be)' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
