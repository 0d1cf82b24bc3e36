-- GitHub Dependabot and code-scanning alerts with their service (the repository of services.csv or
-- sources.yaml), normalized severity and how a dismissal counts: false positives (Dependabot
-- inaccurate, not_used, auto-dismissed; code scanning "false positive", "used in tests") leave the SLA
-- KPIs, risk acceptances (tolerable_risk, "won't fix") are waivers, other dismissals are not fixes.
-- The latest copy of an alert wins (a file and an API sync may both hold it).
with source as (
    select *
    from raw.security__github_alerts
    qualify row_number() over (
        partition by tool, lower(repo), number order by updated_at desc nulls last, _file desc
    ) = 1
),

services as (
    select service, repo from staging.stg_security__services where repo is not null
),

renamed as (
    select
        s.tool || ':' || lower(s.repo) || ':' || s.number as finding_id,
        s.tool,
        k.service,
        s.repo,
        s.number,
        s.rule,
        lower(s.severity) as severity,
        s.state,
        s.created_at,
        s.fixed_at,
        s.dismissed_at,
        s.dismissed_reason,
        case
            when s.state = 'fixed' then 'fixed'
            when s.state = 'auto_dismissed' then 'false_positive'
            when s.state = 'dismissed' and lower(s.dismissed_reason) in ('inaccurate', 'not_used', 'false positive', 'used in tests')
                then 'false_positive'
            when s.state = 'dismissed' and lower(s.dismissed_reason) in ('tolerable_risk', 'won''t fix')
                then 'risk_accepted'
            when s.state = 'dismissed' then 'dismissed'
            else 'open'
        end as resolution,
        s.html_url,
        s._file,
        s._position,
        case
            when k.service is null then 'unknown repository ' || s.repo
                || ' (no service of services.csv or sources.yaml has this repo)'
            when s.state = 'fixed' and s.fixed_at is null then 'state fixed without fixed_at'
        end as quarantine_reason
    from source as s
    left join services as k on k.repo = lower(s.repo)
)

select * from renamed
