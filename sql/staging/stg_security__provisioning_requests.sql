-- Standard-environment provisioning requests with their service.
with source as (
    select * from raw.security__provisioning_requests
),

services as (
    select distinct service from staging.stg_security__services
),

renamed as (
    select
        'provisioning:' || s.request_id as request_id,
        s.service,
        s.requested_at,
        s.ready_at,
        s._file,
        s._line,
        case when k.service is null then 'unknown service ' || s.service end as quarantine_reason
    from source as s
    left join services as k on k.service = s.service
)

select * from renamed
