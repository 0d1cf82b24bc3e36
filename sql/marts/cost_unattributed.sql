-- Costs no service or team could be attributed to, per month and where they come from (provider,
-- sub-account, provider service, kind) and why. They count in org-scope KPIs only: tag them (see
-- attribution in config/costs.yaml) to bring them into team and service views.
with costs as (
    select * from marts.cost_monthly where unattributed_reason is not null
),

final as (
    select
        month,
        source,
        provider,
        sub_account_id,
        service_name,
        cost_kind,
        charge_category,
        unattributed_reason,
        billing_currency,
        reporting_currency,
        sum(cost_rows) as cost_rows,
        sum(effective_cost) as effective_cost,
        sum(effective_cost_reporting) as effective_cost_reporting
    from costs
    group by all
    order by month, effective_cost_reporting desc nulls last
)

select * from final
