-- materialized: view
-- Observations of the SLO KPIs in the shape of marts.kpi_observations plus a weight w: month-end
-- states, one row per SLO per month (marts.slo_monthly) observed at the month's last instant.
--   platform_slo_met: platform SLOs only, x = 1 when the month met its objective with enough data.
--   slo_attainment / slo_error_budget_remaining: every SLO with events that month, x = its value.
with months as (
    select *, month + interval 1 month - interval 1 microsecond as observed_at,
        slo_id || '@' || strftime(month, '%Y-%m') as subject_id
    from marts.slo_monthly
),

final as (
    select 'platform_slo_met' as measure, subject_id, service, team, observed_at, is_met::double as x,
        1.0::double as w
    from months
    where is_platform
    union all
    select 'slo_attainment', subject_id, service, team, observed_at, slo_attainment, 1.0::double
    from months
    where slo_attainment is not null
    union all
    select 'slo_error_budget_remaining', subject_id, service, team, observed_at, slo_error_budget_remaining,
        1.0::double
    from months
    where slo_error_budget_remaining is not null
)

select * from final
