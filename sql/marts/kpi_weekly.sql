-- The weekly KPI table (weeks start on Monday, UTC) for the KPIs read weekly: CI success, build
-- durations and deployment success.
with source as (
    select * from marts.kpi_values where grain = 'week'
),

renamed as (
    select
        period_start as week,
        scope_type,
        scope,
        kpi_id,
        value,
        unit,
        sample_size,
        target,
        target_met,
        target_kind,
        previous_value as previous_week_value
    from source
),

final as (
    select * from renamed order by week, scope_type, scope, kpi_id
)

select * from final
