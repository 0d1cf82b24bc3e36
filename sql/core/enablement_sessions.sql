-- Enablement sessions held (workshops, trainings, office hours), one row per session, with the team it
-- was for (NULL: the whole organisation) and its attendees as hashes (no one is named).
with source as (
    select * from staging.stg_files__enablement_sessions where quarantine_reason is null
),

renamed as (
    select
        session_id,
        'files' as source,
        held_at,
        topic,
        team,
        attendee_hashes,
        attendee_count
    from source
),

final as (
    select * from renamed
)

select * from final
