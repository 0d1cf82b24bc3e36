-- Daily (UTC) CPU and memory usage against requests per cluster and namespace, attributed to a
-- service (the namespace's name, or attribution.namespace_services in config/costs.yaml) and its team.
-- OpenCost allocations win; Prometheus fills the cluster/namespace/days OpenCost does not cover.
with opencost as (
    select
        'opencost' as source,
        cluster,
        namespace,
        date_trunc('day', window_start)::date as day,
        sum(cpu_core_hours_used) as cpu_core_hours_used,
        sum(cpu_core_hours_requested) as cpu_core_hours_requested,
        sum(ram_byte_hours_used) as ram_byte_hours_used,
        sum(ram_byte_hours_requested) as ram_byte_hours_requested,
        sum(total_cost) as opencost_total_cost
    from staging.stg_opencost__allocations
    where quarantine_reason is null and not is_idle
    group by all
),

prometheus as (
    select
        'prometheus' as source,
        cluster,
        namespace,
        date_trunc('day', sampled_at)::date as day,
        sum(value * step_sec) filter (where series = 'cpu_usage') / 3600.0 as cpu_core_hours_used,
        sum(value * step_sec) filter (where series = 'cpu_request') / 3600.0 as cpu_core_hours_requested,
        sum(value * step_sec) filter (where series = 'memory_usage') / 3600.0 as ram_byte_hours_used,
        sum(value * step_sec) filter (where series = 'memory_request') / 3600.0 as ram_byte_hours_requested,
        cast(null as double) as opencost_total_cost
    from staging.stg_prometheus__samples
    where quarantine_reason is null
    group by all
),

combined as (
    select * from opencost
    union all
    select p.*
    from prometheus as p
    anti join opencost as o using (cluster, namespace, day)
),

services as (
    select service, team from core.services
),

renamed as (
    select
        c.source || ':utilization:' || c.cluster || '/' || c.namespace || '/' || strftime(c.day, '%Y-%m-%d')
            as utilization_id,
        c.source,
        c.cluster,
        c.namespace,
        s.service,
        s.team,
        c.day,
        c.cpu_core_hours_used,
        c.cpu_core_hours_requested,
        c.ram_byte_hours_used,
        c.ram_byte_hours_requested,
        c.opencost_total_cost
    from combined as c
    left join ops.namespace_services as m on m.namespace = c.namespace
    left join services as s on s.service = coalesce(m.service, c.namespace)
),

final as (
    select * from renamed
)

select * from final
