-- Every merged change (pull/merge request) with its first commit and merge time, and the deployment
-- that shipped it when the source names one.
-- Every source's staging model, files and APIs alike; a row without a source column came from files.
-- The pull-request flow (opened, ready for review, first human review, first approval, size) is known
-- when the source gives it (pr_flow_known): a file without those columns says nothing about reviews.
with source as (
    select * from staging.stg_files__changes where quarantine_reason is null
    union all by name
    select * from staging.stg_github__changes where quarantine_reason is null
    union all by name
    select * from staging.stg_gitlab__changes where quarantine_reason is null
),

services as (
    select service, team from core.services
),

renamed as (
    select
        s.change_id,
        coalesce(s.source, 'files') as source,
        s.service,
        v.team,
        s.first_commit_at,
        s.merged_at,
        s.deployment_id,
        s.opened_at,
        s.ready_at,
        s.first_review_at,
        s.approved_at,
        s.additions,
        s.deletions,
        s.commits,
        s.url,
        coalesce(s.pr_flow_known, false) as pr_flow_known
    from source as s
    join services as v using (service)
),

final as (
    select * from renamed
)

select * from final
