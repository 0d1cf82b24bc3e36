-- Every deployed change with the successful production deployment that shipped it and its lead time
-- (deployment finished_at minus first commit). A change names its deployment, or else is shipped by the
-- first successful production deployment of its service finishing at or after its merge.
-- Changes not (yet) deployed to production have no row.
--
-- The lead time's stages (the pull-request flow), in seconds:
--   coding  first commit -> PR/MR opened (-> merged when the source gives no opening time; 0 when the
--           first commit is dated after the opening, e.g. history rewritten after opening)
--   pickup  opened, or for a draft the time it was marked ready for review -> first review by someone
--           other than the author, bots excluded (0 when that review came while it was a draft)
--   review  first review -> first approval, or merged when nobody approved
--   deploy  merged -> the production deployment that shipped it
-- pickup and review are NULL for a change merged without review (and when the source says nothing
-- about reviews). Commits pushed after the first review (a force-push) change none of these: the first
-- review stays the first review. Time from approval to merge, and from opening to ready, is in no stage.
with source as (
    select * from core.changes
),

production_deployments as (
    select deployment_id, service, finished_at
    from core.deployments
    where is_production and status = 'SUCCESS' and finished_at is not null
),

explicit as (
    select
        c.change_id,
        c.service,
        c.team,
        c.first_commit_at,
        c.merged_at,
        d.deployment_id,
        'explicit' as link_type,
        d.finished_at as deployed_at
    from source as c
    join production_deployments as d on d.deployment_id = c.deployment_id
),

inferred as (
    select
        c.change_id,
        c.service,
        c.team,
        c.first_commit_at,
        c.merged_at,
        d.deployment_id,
        'inferred' as link_type,
        d.finished_at as deployed_at
    from (select * from source where deployment_id is null) as c
    asof join production_deployments as d
        on d.service = c.service
        and d.finished_at >= c.merged_at
),

linked as (
    select * from explicit
    union all
    select * from inferred
),

final as (
    select
        l.*,
        date_diff('second', l.first_commit_at, l.deployed_at) as lead_time_sec,
        c.opened_at,
        c.ready_at,
        c.first_review_at,
        c.approved_at,
        c.additions,
        c.deletions,
        c.commits,
        c.url,
        c.pr_flow_known,
        case
            when c.opened_at is null then date_diff('second', l.first_commit_at, l.merged_at)
            else greatest(date_diff('second', l.first_commit_at, c.opened_at), 0)
        end as coding_time_sec,
        -- (greatest() skips NULLs: a change without review must stay NULL, not 0)
        case when c.first_review_at is not null and c.opened_at is not null then
            greatest(date_diff('second', coalesce(c.ready_at, c.opened_at), c.first_review_at), 0)
        end as pickup_time_sec,
        case when c.first_review_at is not null and c.opened_at is not null then
            greatest(date_diff('second', c.first_review_at, coalesce(c.approved_at, l.merged_at)), 0)
        end as review_time_sec,
        date_diff('second', l.merged_at, l.deployed_at) as deploy_time_sec
    from linked as l
    join source as c using (change_id)
)

select * from final
