-- Standard-environment provisioning requests: request to ready, in hours (NULL while pending).
with source as (
    select * from staging.stg_security__provisioning_requests where quarantine_reason is null
),

final as (
    select
        s.request_id,
        s.service,
        v.team,
        s.requested_at,
        s.ready_at,
        date_diff('second', s.requested_at, s.ready_at) / 3600.0 as lead_time_hours
    from source as s
    join core.services as v using (service)
)

select * from final
