-- Costs in a currency with no rate to the reporting currency (fx_rates in config/costs.yaml), per month
-- and currency. They are never summed with other currencies: every cost KPI leaves them out until a
-- rate is configured, and the dashboard and report say so.
with costs as (
    select * from marts.cost_monthly where fx_rate is null
),

final as (
    select
        month,
        billing_currency,
        reporting_currency,
        'no rate from ' || billing_currency || ' to ' || reporting_currency || ' in fx_rates' as reason,
        sum(cost_rows) as cost_rows,
        sum(effective_cost) as effective_cost
    from costs
    group by all
    order by month, billing_currency
)

select * from final
