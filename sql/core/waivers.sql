-- Every waiver (an approved exception to a policy): the register's entries, and the GitHub alerts
-- dismissed as an accepted risk (tolerable_risk, "won't fix"), which never expire. A waiver is active
-- from created_at until it expires or is closed; one past its expiry and not closed is still in force
-- without approval (expired_waivers_still_active).
with register as (
    select waiver_id, 'register' as source, policy, service, reason, approver, created_at, expires_at, closed_at
    from staging.stg_security__waivers
    where quarantine_reason is null
),

accepted_risks as (
    select
        'risk:' || finding_id as waiver_id,
        tool as source,
        rule as policy,
        service,
        dismissed_reason as reason,
        cast(null as varchar) as approver,
        dismissed_at as created_at,
        cast(null as timestamp) as expires_at,
        cast(null as timestamp) as closed_at
    from staging.stg_github__security_alerts
    where quarantine_reason is null and resolution = 'risk_accepted' and dismissed_at is not null
),

unioned as (
    select * from register
    union all
    select * from accepted_risks
),

final as (
    select u.*, v.team
    from unioned as u
    join core.services as v using (service)
)

select * from final
