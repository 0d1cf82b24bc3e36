-- The SLOs: one row per SLO of the spec files, with its service's team and whether config/kpi.yaml
-- slos.platform makes it a platform SLO (platform_slo_attainment counts those).
with definitions as (
    select * from staging.stg_slo__definitions
),

platform as (
    select slo_id, matched_by from ops.slo_platform
),

renamed as (
    select
        d.slo_id,
        d.source,
        d.name,
        d.service,
        s.team,
        d.objective,
        d.time_window,
        d.budgeting_method,
        d.numerator,
        d.good_query,
        d.bad_query,
        d.total_query,
        d.query_mode,
        d.labels,
        p.slo_id is not null as is_platform,
        p.matched_by as platform_matched_by
    from definitions as d
    left join core.services as s on s.service = d.service
    left join platform as p on p.slo_id = d.slo_id
),

final as (
    select * from renamed
)

select * from final
