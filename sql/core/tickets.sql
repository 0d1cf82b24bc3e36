-- Platform support tickets, one row per ticket in its latest state, with the requesting team (as the
-- source names it, else the team owning the ticket's service) and the time to resolve it. A ticket
-- reopened and resolved again carries its last resolution: it counts once, when it was finally
-- resolved, from its creation. Jira says how often a ticket was reopened and when it was first
-- resolved (from its changelog); other sources leave those NULL.
with source as (
    select * from staging.stg_sql__tickets where quarantine_reason is null
    union all by name
    select * from staging.stg_jira__tickets where quarantine_reason is null
    union all by name
    select * from staging.stg_servicenow__tickets where quarantine_reason is null
),

services as (
    select service, team from core.services
),

renamed as (
    select
        s.ticket_id,
        s.source,
        v.service,
        coalesce(s.team, v.team) as team,
        s.created_at,
        s.resolved_at,
        s.status,
        s.original_status,
        s.priority,
        s.kind,
        s.url,
        s.reopen_count,
        s.first_resolved_at,
        case when s.status = 'RESOLVED' then date_diff('second', s.created_at, s.resolved_at) end
            as resolution_time_sec
    from source as s
    left join services as v on v.service = s.service
),

final as (
    select * from renamed
)

select * from final
