-- OpenCost allocations (GET /allocation, one per window step and aggregate key, e.g. cluster/namespace),
-- typed, with core-hours and byte-hours derived from the averages over the window's minutes. OpenCost's
-- own __idle__ / __unallocated__ entries have no requests and are kept out (is_idle).
with source as (
    select * from raw.opencost__allocations
),

renamed as (
    select
        'opencost:allocation:' || coalesce(cluster, '') || '/' || coalesce(namespace, name, '') || '/' || window_start
            as allocation_id,
        name,
        coalesce(nullif(trim(cluster), ''), 'default') as cluster,
        nullif(trim(namespace), '') as namespace,
        starts_with(name, '__') or contains(name, '/__') as is_idle,
        utc_ts(window_start) as window_start,
        utc_ts(window_end) as window_end,
        try_cast(minutes as double) as minutes,
        try_cast(cpu_core_usage_average as double) as cpu_core_usage_average,
        try_cast(cpu_core_request_average as double) as cpu_core_request_average,
        try_cast(ram_byte_usage_average as double) as ram_byte_usage_average,
        try_cast(ram_byte_request_average as double) as ram_byte_request_average,
        try_cast(total_cost as double) as total_cost,
        window_start as raw_window_start,
        minutes as raw_minutes,
        _origin,
        _line
    from source
),

final as (
    select
        * exclude (raw_window_start, raw_minutes),
        cpu_core_usage_average * minutes / 60.0 as cpu_core_hours_used,
        cpu_core_request_average * minutes / 60.0 as cpu_core_hours_requested,
        ram_byte_usage_average * minutes / 60.0 as ram_byte_hours_used,
        ram_byte_request_average * minutes / 60.0 as ram_byte_hours_requested,
        nullif(concat_ws('; ',
            case when window_start is null then 'window start ' || coalesce(raw_window_start, '(missing)') || ' is not a time' end,
            case when minutes is null then 'minutes ' || coalesce(raw_minutes, '(missing)') || ' is not a number' end,
            case when namespace is null and not is_idle then 'namespace is blank (aggregate by namespace)' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
