-- AWS Cost Explorer GetCostAndUsage groups (one per day, service tag value and AWS service), typed
-- into the FOCUS-like shape of stg_focus__costs. Amounts arrive as strings. Cost Explorer does not
-- say the charge category: the service "Tax" is a Tax charge, everything else counts as Usage.
with source as (
    select * from raw.aws_ce__costs
),

renamed as (
    select
        'aws_ce:cost:' || period_start || ':' || coalesce(tag_value, '') || ':' || service_name as cost_id,
        'AWS' as provider,
        'AWS' as publisher,
        cast(null as varchar) as billing_account_id,
        service_name,
        case when service_name = 'Tax' then 'Tax' else 'Usage' end as charge_category,
        cast(null as varchar) as original_charge_category,
        utc_ts(period_start) as charge_period_start,
        utc_ts(period_end) as charge_period_end,
        upper(trim(coalesce(effective_unit, billed_unit))) as billing_currency,
        try_cast(trim(billed_cost) as double) as billed_cost,
        try_cast(trim(effective_cost) as double) as effective_cost,
        case when is_blank(tag_value) then '{}' else json_object(tag_key, tag_value)::varchar end as tags,
        parse_bool(estimated) as is_estimated,
        effective_cost as raw_effective_cost,
        period_start as raw_period_start,
        'aws_cost_explorer page ' || _page as _file,
        _line
    from source
),

final as (
    select
        * exclude (raw_effective_cost, raw_period_start),
        nullif(concat_ws('; ',
            case when charge_period_start is null then 'TimePeriod.Start ' || coalesce(raw_period_start, '') || ' is not a date' end,
            case when charge_period_end is null or charge_period_end < charge_period_start
                then 'TimePeriod.End is missing or before Start' end,
            case when effective_cost is null then 'amount ' || coalesce(raw_effective_cost, '(missing)') || ' is not a number' end,
            case when is_blank(billing_currency) then 'Unit (currency) is blank' end,
            case when is_blank(service_name) then 'SERVICE group key is blank' end
        ), '') as quarantine_reason
    from renamed
)

select * from final
