-- The monthly KPI table: every catalog KPI for every month (first day), scope and team/service.
-- The contract architects, the dashboard and the monthly report read.
with source as (
    select * from marts.kpi_values where grain = 'month'
),

renamed as (
    select
        period_start as month,
        scope_type,
        scope,
        kpi_id,
        value,
        unit,
        sample_size,
        tier,
        target,
        target_met,
        target_kind,
        previous_value as previous_month_value,
        previous_year_value
    from source
),

final as (
    select * from renamed order by month, scope_type, scope, kpi_id
)

select * from final
