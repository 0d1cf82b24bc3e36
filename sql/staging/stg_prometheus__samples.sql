-- Prometheus query_range samples of the four utilization series (cpu_usage, cpu_request in cores;
-- memory_usage, memory_request in bytes) per cluster and namespace, typed. Each sample stands for one
-- step of time (step_sec), so value x step is its core-seconds (byte-seconds).
with source as (
    select * from raw.prometheus__samples
),

renamed as (
    select
        series,
        coalesce(nullif(trim(cluster), ''), 'default') as cluster,
        nullif(trim(namespace), '') as namespace,
        to_timestamp(try_cast(ts as double))::timestamp as sampled_at,
        try_cast(value as double) as value,
        try_cast(step_sec as double) as step_sec,
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
            case when sampled_at is null then 'timestamp ' || coalesce(raw_ts, '(missing)') || ' is not a Unix time' end,
            case when value is null or isnan(value) or isinf(value)
                then 'value ' || coalesce(raw_value, '(missing)') || ' is not a finite number' end,
            case when namespace is null then 'series has no namespace label' end,
            case when series not in ('cpu_usage', 'cpu_request', 'memory_usage', 'memory_request')
                then 'unknown series ' || coalesce(series, '(missing)') end
        ), '') as quarantine_reason
    from renamed
)

select * from final
