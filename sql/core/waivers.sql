-- Every waiver (an approved exception to a policy): the register's entries, the GitHub alerts
-- dismissed as an accepted risk (tolerable_risk, "won't fix"), which never expire, and the policy
-- exceptions the policy engines report: a Conftest exception (a rule an exception let through) in a
-- file of a service, or a Kyverno result skipped by a PolicyException for a resource. Such an exception
-- is in force from the first evaluation that shows it until the first later evaluation of the same
-- file (resource) that no longer does (closed_at); it has no expiry and no named approver. A waiver is
-- active from created_at until it expires or is closed; one past its expiry and not closed is still in
-- force without approval (expired_waivers_still_active).
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

-- policy engine results: every evaluation of a subject (Conftest: a service's file; Kyverno: a
-- resource), and the policies excepted in it
evaluations as (
    select 'conftest' as tool, service, filename as subject, evaluated_at, unnest(
        case when len(exception_rules) = 0 then [cast(null as varchar)] else exception_rules end
    ) as policy
    from staging.stg_conftest__results
    where quarantine_reason is null
    union all
    select 'kyverno', service, namespace || '/' || resource_kind || '/' || resource_name, evaluated_at,
        case when is_exception then policy || '/' || rule end
    from staging.stg_kyverno__results
),

exceptions as (
    select tool, service, subject, policy, min(evaluated_at) as first_seen, max(evaluated_at) as last_seen
    from evaluations
    where policy is not null
    group by all
),

policy_exceptions as (
    select
        'exception:' || e.tool || ':' || e.service || ':' || e.subject || ':' || e.policy as waiver_id,
        e.tool as source,
        e.policy,
        e.service,
        'policy exception reported by ' || e.tool || ' for ' || e.subject as reason,
        cast(null as varchar) as approver,
        e.first_seen as created_at,
        cast(null as timestamp) as expires_at,
        (
            select min(v.evaluated_at) from evaluations as v
            where v.tool = e.tool and v.service = e.service and v.subject = e.subject
                and v.evaluated_at > e.last_seen
        ) as closed_at
    from exceptions as e
),

unioned as (
    select * from register
    union all
    select * from accepted_risks
    union all
    select * from policy_exceptions
),

final as (
    select u.*, v.team
    from unioned as u
    join core.services as v using (service)
)

select * from final
