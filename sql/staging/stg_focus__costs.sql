-- FOCUS cost-and-usage rows, typed: amounts as numbers, charge periods as UTC times, ChargeCategory
-- normalized to the FOCUS spelling (raw kept as original_charge_category), each bad row given a reason.
-- Instants in the exports' usual form (2026-01-31T00:00:00Z) take a fast path; any other ISO-8601
-- form goes through utc_ts.
with source as (
    select * from raw.focus__costs
),

renamed as (
    select
        'focus:cost:' || _file || ':' || _line as cost_id,
        provider_name as provider,
        publisher_name as publisher,
        billing_account_id,
        billing_account_name,
        sub_account_id,
        sub_account_name,
        service_name,
        service_category,
        service_subcategory,
        region_id,
        resource_id,
        resource_name,
        resource_type,
        case lower(trim(charge_category))
            when 'usage' then 'Usage'
            when 'purchase' then 'Purchase'
            when 'tax' then 'Tax'
            when 'credit' then 'Credit'
            when 'adjustment' then 'Adjustment'
        end as charge_category,
        charge_category as original_charge_category,
        charge_class,
        charge_description,
        charge_frequency,
        coalesce(try_strptime(charge_period_start, '%Y-%m-%dT%H:%M:%SZ'), utc_ts(charge_period_start)) as charge_period_start,
        coalesce(try_strptime(charge_period_end, '%Y-%m-%dT%H:%M:%SZ'), utc_ts(charge_period_end)) as charge_period_end,
        coalesce(try_strptime(billing_period_start, '%Y-%m-%dT%H:%M:%SZ'), utc_ts(billing_period_start)) as billing_period_start,
        coalesce(try_strptime(billing_period_end, '%Y-%m-%dT%H:%M:%SZ'), utc_ts(billing_period_end)) as billing_period_end,
        upper(trim(billing_currency)) as billing_currency,
        try_cast(trim(billed_cost) as double) as billed_cost,
        try_cast(trim(effective_cost) as double) as effective_cost,
        try_cast(trim(list_cost) as double) as list_cost,
        try_cast(trim(contracted_cost) as double) as contracted_cost,
        try_cast(trim(pricing_quantity) as double) as pricing_quantity,
        pricing_unit,
        case when is_blank(tags) then '{}' else tags end as tags,
        invoice_id,
        focus_version,
        charge_period_start as raw_charge_period_start,
        charge_period_end as raw_charge_period_end,
        billed_cost as raw_billed_cost,
        effective_cost as raw_effective_cost,
        tags as raw_tags,
        _file,
        _line
    from source
),

final as (
    select
        * exclude (raw_charge_period_start, raw_charge_period_end, raw_billed_cost, raw_effective_cost, raw_tags),
        nullif(concat_ws('; ',
            case when is_blank(raw_charge_period_start) then 'ChargePeriodStart is blank'
                when charge_period_start is null
                then 'ChargePeriodStart ' || raw_charge_period_start || ' is not an ISO-8601 time' end,
            case when is_blank(raw_charge_period_end) then 'ChargePeriodEnd is blank'
                when charge_period_end is null
                then 'ChargePeriodEnd ' || raw_charge_period_end || ' is not an ISO-8601 time' end,
            case when charge_period_end < charge_period_start then 'ChargePeriodEnd is before ChargePeriodStart' end,
            case when is_blank(raw_effective_cost) then 'EffectiveCost is blank'
                when effective_cost is null then 'EffectiveCost ' || raw_effective_cost || ' is not a number' end,
            case when not is_blank(raw_billed_cost) and billed_cost is null
                then 'BilledCost ' || raw_billed_cost || ' is not a number' end,
            case when is_blank(billing_currency) then 'BillingCurrency is blank'
                when not regexp_full_match(billing_currency, '[A-Z]{3}')
                then 'BillingCurrency ' || billing_currency || ' is not an ISO 4217 code' end,
            case when is_blank(original_charge_category) then 'ChargeCategory is blank'
                when charge_category is null then 'unknown ChargeCategory ' || original_charge_category end,
            case when not is_blank(raw_tags) and coalesce(case when json_valid(raw_tags) then json_type(raw_tags::json) end, '') <> 'OBJECT'
                then 'Tags is not a JSON object' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
