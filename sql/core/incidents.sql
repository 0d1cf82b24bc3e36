-- Every incident, with its service, team, time to restore and, when the source names it, the
-- deployment that caused it.
-- Every source's staging model, files and APIs alike; a row without a source column came from files.
with source as (
    select * from staging.stg_files__incidents where quarantine_reason is null
    union all by name
    select * from staging.stg_pagerduty__incidents where quarantine_reason is null
    union all by name
    select * from staging.stg_opsgenie__incidents where quarantine_reason is null
    union all by name
    select * from staging.stg_sql__incidents where quarantine_reason is null
    union all by name
    select * from staging.stg_servicenow__incidents where quarantine_reason is null
),

services as (
    select service, team from core.services
),

renamed as (
    select
        s.incident_id,
        coalesce(s.source, 'files') as source,
        s.service,
        v.team,
        s.severity,
        s.created_at,
        s.resolved_at,
        date_diff('second', s.created_at, s.resolved_at) as time_to_restore_sec,
        s.caused_by_deployment_id
    from source as s
    join services as v using (service)
),

final as (
    select * from renamed
)

select * from final
