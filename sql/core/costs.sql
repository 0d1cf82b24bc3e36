-- Every cost row of every cost source at the grain the source gives it (a FOCUS row; a Cost Explorer
-- day x tag x service group), attributed to a service and team from its tags, classified as CI
-- compute, deployment infrastructure or other (ops.cost_rules), and converted to the reporting
-- currency (ops.fx_rates; NULL when the currency has no rate: such rows are never summed).
with focus as (
    select * exclude (quarantine_reason), 'focus' as source
    from staging.stg_focus__costs
    where quarantine_reason is null
),

aws_ce as (
    select * exclude (quarantine_reason, is_estimated), 'aws_cost_explorer' as source
    from staging.stg_aws_ce__costs
    where quarantine_reason is null
),

unioned as (
    select * from focus
    union all by name
    select * from aws_ce
),

settings as (
    select
        coalesce((select list(tag_key order by rank) from ops.cost_tag_keys where role = 'service'), []) as service_keys,
        coalesce((select list(tag_key order by rank) from ops.cost_tag_keys where role = 'team'), []) as team_keys,
        coalesce((
            select list({'kind': kind, 'field': field, 'tag_key': tag_key, 'pattern': pattern} order by priority)
            from ops.cost_rules
        ), []) as rules,
        exists (select 1 from ops.cost_rules where field = 'resource_id') as has_resource_rules
),

-- Attribution depends only on tags and a few columns that repeat across millions of rows: decide it
-- once per distinct combination, then join back.
rule_keys as (
    select distinct
        u.tags,
        u.sub_account_id,
        u.service_name,
        u.service_category,
        u.provider,
        case when t.has_resource_rules then u.resource_id end as rule_resource_id
    from unioned as u
    cross join settings as t
),

decided as (
    select
        k.*,
        -- The first configured tag key present on the row names its service (resp. team).
        list_filter(
            list_transform(t.service_keys, lambda x: json_extract_string(k.tags, '$."' || x || '"')),
            lambda v: not is_blank(v)
        )[1] as service_tag,
        list_filter(
            list_transform(t.team_keys, lambda x: json_extract_string(k.tags, '$."' || x || '"')),
            lambda v: not is_blank(v)
        )[1] as team_tag,
        -- Rules are ordered CI compute first, then deployment: the first that matches decides.
        list_filter(t.rules, lambda r: coalesce(case r.field
            when 'tag' then json_extract_string(k.tags, '$."' || r.tag_key || '"') glob r.pattern
            when 'sub_account_id' then k.sub_account_id glob r.pattern
            when 'service_name' then k.service_name glob r.pattern
            when 'service_category' then k.service_category glob r.pattern
            when 'provider' then k.provider glob r.pattern
            when 'resource_id' then k.rule_resource_id glob r.pattern
        end, false))[1].kind as matched_kind
    from rule_keys as k
    cross join settings as t
),

tagged as (
    select
        u.*,
        d.service_tag,
        d.team_tag,
        d.matched_kind
    from unioned as u
    cross join settings as t
    join decided as d
        on d.tags is not distinct from u.tags
        and d.sub_account_id is not distinct from u.sub_account_id
        and d.service_name is not distinct from u.service_name
        and d.service_category is not distinct from u.service_category
        and d.provider is not distinct from u.provider
        and d.rule_resource_id is not distinct from case when t.has_resource_rules then u.resource_id end
),

services as (
    select service, team from core.services
),

renamed as (
    select
        t.cost_id,
        t.source,
        t.provider,
        t.billing_account_id,
        t.sub_account_id,
        t.service_name,
        t.service_category,
        t.service_subcategory,
        t.region_id,
        t.resource_id,
        t.charge_category,
        t.charge_class,
        t.charge_period_start,
        t.charge_period_end,
        t.billing_currency,
        t.billed_cost,
        t.effective_cost,
        t.list_cost,
        t.tags,
        s.service,
        -- An explicit team tag wins over the tagged service's owner.
        coalesce(t.team_tag, s.team) as team,
        case
            when t.team_tag is not null or s.service is not null then null
            when t.service_tag is not null then 'unknown service ' || t.service_tag || ' (not in services) and no team tag'
            else 'no service or team tag'
        end as unattributed_reason,
        coalesce(t.matched_kind, 'other') as cost_kind,
        r.rate as fx_rate,
        t.effective_cost * r.rate as effective_cost_reporting,
        t.billed_cost * r.rate as billed_cost_reporting,
        t.focus_version,
        t._file,
        t._line
    from tagged as t
    left join services as s on s.service = t.service_tag
    left join ops.fx_rates as r on r.currency = t.billing_currency
),

final as (
    select * from renamed
)

select * from final
