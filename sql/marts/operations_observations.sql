-- materialized: view
-- The operations and experience observations (platform support, architecture reviews) behind their
-- KPIs, in the shape of marts.kpi_observations: a resolved support ticket in the month it was
-- resolved (x: hours from creation to resolution), a completed review in the month it was completed
-- (x: business days from request to completion), a survey response in the month it was submitted
-- (x: its satisfaction score, or +100/0/-100 for a promoter/passive/detractor). Canceled and open
-- tickets are not observations.
with final as (
    select 'support_resolution_time_hours' as measure, ticket_id as subject_id, service, team,
        resolved_at as observed_at, resolution_time_sec / 3600.0 as x, 1.0::double as w
    from core.tickets
    where status = 'RESOLVED'
    union all
    select 'architecture_review_cycle_time_days', review_id, service, team, completed_at,
        cycle_business_days, 1.0::double
    from core.reviews
    where completed_at is not null
    union all
    -- survey responses in the month they were submitted, for the team (no service)
    select 'developer_satisfaction', response_id, null, team, submitted_at, satisfaction, 1.0::double
    from core.survey_responses
    where satisfaction is not null
    union all
    -- +100 a promoter (9-10), -100 a detractor (0-6), 0 a passive: the mean is the NPS
    select 'developer_nps', response_id, null, team, submitted_at,
        case nps_category when 'promoter' then 100.0 when 'detractor' then -100.0 else 0.0 end, 1.0::double
    from core.survey_responses
    where nps is not null
)

select * from final
