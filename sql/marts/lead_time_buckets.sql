-- The lead time distribution per month and scope in the DORA benchmark's bands (under an hour, a
-- day, a week, a month, six months, longer): how many deployed changes fall in each band.
with source as (
    select * from core.change_lead_times
),

banded as (
    select
        service,
        team,
        date_trunc('month', deployed_at)::date as month,
        case
            when lead_time_sec < 3600 then 1
            when lead_time_sec < 86400 then 2
            when lead_time_sec < 7 * 86400 then 3
            when lead_time_sec < 30 * 86400 then 4
            when lead_time_sec < 182 * 86400 then 5
            else 6
        end as bucket_order
    from source
),

final as (
    select
        month,
        case
            when grouping(service) = 0 then 'service'
            when grouping(team) = 0 then 'team'
            else 'org'
        end as scope_type,
        coalesce(service, team, 'all') as scope,
        bucket_order,
        case bucket_order
            when 1 then '< 1 hour'
            when 2 then '1 hour – 1 day'
            when 3 then '1 day – 1 week'
            when 4 then '1 week – 1 month'
            when 5 then '1 – 6 months'
            else '> 6 months'
        end as bucket,
        count(*) as changes
    from banded
    group by grouping sets (
        (month, bucket_order),
        (month, bucket_order, team),
        (month, bucket_order, service)
    )
)

select * from final order by month, scope_type, scope, bucket_order
