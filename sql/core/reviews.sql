-- Architecture (design) reviews, one row per review, with the requesting team (as the source names
-- it, else the team owning the review's service) and its cycle time in business days: the time from
-- request to completion that falls on Monday to Friday and not on a configured holiday
-- (ops.holidays), in days of 24 hours. A review requested Friday 10:00 and completed Tuesday 10:00
-- with Monday a holiday took 1 business day.
with source as (
    select * from staging.stg_sql__reviews where quarantine_reason is null
    union all by name
    select * from staging.stg_jira__reviews where quarantine_reason is null
),

services as (
    select service, team from core.services
),

-- Each completed review's calendar days, with the part of the review that falls on each.
review_days as (
    select
        review_id,
        requested_at,
        completed_at,
        unnest(generate_series(date_trunc('day', requested_at), date_trunc('day', completed_at), interval 1 day))
            as day_start
    from source
    where completed_at is not null
),

business_seconds as (
    select
        d.review_id,
        sum(
            case when isodow(d.day_start) <= 5 and h.holiday is null
                then greatest(0, date_diff('millisecond',
                    greatest(d.requested_at, d.day_start),
                    least(d.completed_at, d.day_start + interval 1 day)))
                else 0
            end
        ) / 1000.0 as seconds
    from review_days as d
    left join ops.holidays as h on h.holiday = d.day_start::date
    group by d.review_id
),

renamed as (
    select
        s.review_id,
        s.source,
        v.service,
        coalesce(s.team, v.team) as team,
        s.requested_at,
        s.completed_at,
        s.outcome,
        s.title,
        s.url,
        case when s.completed_at is not null then coalesce(b.seconds, 0) / 86400.0 end as cycle_business_days
    from source as s
    left join services as v on v.service = s.service
    left join business_seconds as b using (review_id)
),

final as (
    select * from renamed
)

select * from final
