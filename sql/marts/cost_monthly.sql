-- Costs per calendar month (UTC) and cost line: provider, sub-account, provider service, charge
-- category, kind (CI compute, deployment, other), service and team, currency. A charge period that
-- crosses a month boundary is split pro rata by the hours on each side; a zero-length period belongs
-- to the month it starts in. The rows behind a line are in core.costs.
with costs as (
    select * from core.costs
),

bounds as (
    select
        c.*,
        date_trunc('month', c.charge_period_start) as first_month,
        date_trunc('month', greatest(c.charge_period_start, c.charge_period_end - interval 1 microsecond)) as last_month
    from costs as c
),

-- Almost every row (an hour, a day) lies inside one month: share 1, no series to unnest.
single_month as (
    select * exclude (first_month, last_month), first_month as month_start, 1.0::double as share
    from bounds
    where first_month = last_month
),

sliced as (
    select
        b.* exclude (first_month, last_month),
        unnest(generate_series(b.first_month, b.last_month, interval 1 month)) as month_start
    from bounds as b
    where b.first_month <> b.last_month
),

split as (
    select
        s.*,
        date_diff(
            'second',
            greatest(s.charge_period_start, s.month_start),
            least(s.charge_period_end, s.month_start + interval 1 month)
        ) / date_diff('second', s.charge_period_start, s.charge_period_end) as share
    from sliced as s
),

shared as (
    select * from single_month
    union all
    select * from split
),

settings as (
    select reporting_currency, unit_cost_categories, cloud_cost_categories from ops.cost_settings
),

final as (
    select
        s.month_start::date as month,
        s.source,
        s.provider,
        s.sub_account_id,
        s.service_name,
        s.service_category,
        s.charge_category,
        s.cost_kind,
        s.service,
        s.team,
        s.unattributed_reason,
        list_contains(t.unit_cost_categories, s.charge_category) as in_unit_costs,
        list_contains(t.cloud_cost_categories, s.charge_category) as in_cloud_cost,
        s.billing_currency,
        t.reporting_currency,
        s.fx_rate,
        count(*) as cost_rows,
        count(*) filter (where s.share < 1) as split_rows,
        sum(s.effective_cost * s.share) as effective_cost,
        sum(s.billed_cost * s.share) as billed_cost,
        sum(s.effective_cost_reporting * s.share) as effective_cost_reporting,
        sum(s.billed_cost_reporting * s.share) as billed_cost_reporting
    from shared as s
    cross join settings as t
    group by all
)

select * from final
