-- Observations of the cost and cluster-efficiency KPIs, in the shape of marts.kpi_observations plus a
-- weight w (the denominator of ratio KPIs). Cost lines are summed per month, team, service, provider
-- service and kind (marts.cost_monthly and core.costs hold what is behind each); builds and
-- deployments carry w = 1.
-- Costs in a currency without a rate are left out (listed in marts.cost_currency_flags), and builds or
-- deployments only count in months the cost data covers, so a month without cost data has no value.
with costs as (
    select * from marts.cost_monthly where fx_rate is not null
),

covered_months as (
    select distinct month from marts.cost_monthly
),

cost_lines as (
    select
        month,
        service,
        team,
        provider,
        service_name,
        cost_kind,
        sum(effective_cost_reporting) filter (where in_unit_costs) as unit_cost,
        sum(effective_cost_reporting) filter (where in_cloud_cost) as cloud_cost,
        'cost:' || strftime(month, '%Y-%m') || ':' || coalesce(team, '-') || ':' || coalesce(service, '-') || ':'
            || coalesce(provider, '-') || ':' || coalesce(service_name, '-') || ':' || cost_kind as subject_id
    from costs
    group by all
),

builds as (
    select b.build_id, b.service, b.team, b.finished_at
    from core.cicd_builds as b
    join covered_months as m on m.month = date_trunc('month', b.finished_at)::date
    where b.finished_at is not null
),

deployments as (
    select d.deployment_id, d.service, d.team, d.finished_at
    from core.deployment_outcomes as d
    join covered_months as m on m.month = date_trunc('month', d.finished_at)::date
),

utilization as (
    select * from core.cluster_utilization
),

final as (
    select 'cost_per_build' as measure, subject_id, service, team, month::timestamp as observed_at,
        unit_cost as x, 0.0 as w
    from cost_lines
    where cost_kind = 'ci_compute' and unit_cost is not null
    union all
    select 'cost_per_build', build_id, service, team, finished_at, 0.0, 1.0
    from builds
    union all
    select 'cost_per_deploy', subject_id, service, team, month::timestamp, unit_cost, 0.0
    from cost_lines
    where cost_kind = 'deployment' and unit_cost is not null
    union all
    select 'cost_per_deploy', deployment_id, service, team, finished_at, 0.0, 1.0
    from deployments
    union all
    select 'cloud_cost', subject_id, service, team, month::timestamp, cloud_cost, 1.0
    from cost_lines
    where cloud_cost is not null
    union all
    select 'cluster_cpu_efficiency', utilization_id, service, team, day::timestamp,
        cpu_core_hours_used, cpu_core_hours_requested
    from utilization
    where cpu_core_hours_used is not null and cpu_core_hours_requested is not null
    union all
    select 'cluster_memory_efficiency', utilization_id, service, team, day::timestamp,
        ram_byte_hours_used, ram_byte_hours_requested
    from utilization
    where ram_byte_hours_used is not null and ram_byte_hours_requested is not null
)

select * from final
