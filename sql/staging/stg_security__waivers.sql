-- The waiver register with its services; a waiver for an unknown service, or an id given twice, is
-- quarantined (the first entry of an id is kept).
with source as (
    select * from raw.security__waivers
),

services as (
    select distinct service from staging.stg_security__services
),

renamed as (
    select
        'register:' || s.waiver_id as waiver_id,
        s.waiver_id as waiver_key,
        s.policy,
        s.service,
        s.reason,
        s.approver,
        s.created_at,
        s.expires_at,
        s.closed_at,
        s._file,
        s._position,
        case
            when k.service is null then 'unknown service ' || s.service
            when row_number() over (partition by s.waiver_id order by s._file, s._position) > 1
                then 'waiver id ' || s.waiver_id || ' given twice'
        end as quarantine_reason
    from source as s
    left join services as k on k.service = s.service
)

select * from renamed
