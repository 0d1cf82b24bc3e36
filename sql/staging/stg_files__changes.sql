-- Changes (merged pull/merge requests) from the canonical changes file, with each bad row given a reason.
-- The pull-request flow columns are optional: opened_at (the PR/MR was created), ready_at (a draft was
-- marked ready for review), first_review_at (first review by someone other than the author, bots
-- excluded), approved_at (first approval), additions/deletions/commits, url. A review or approval after
-- the merge did not review what was merged: such a row is quarantined, as is one out of order.
-- (Times arrive parsed to UTC; a time that does not parse is a load error, see raw.files__load_errors;
-- one outside the allowed window, see time_window, is quarantined here.)
with source as (
    select * from raw.files__changes
),

-- Ids seen more than once, and where each was first seen: every later row with the id is a duplicate.
-- Grouping finds them cheaply at millions of rows (numbering rows in a window sorts them all), and
-- reading the raw table here, not the source CTE, keeps DuckDB from materializing that CTE.
repeated_ids as (
    select r.change_id, min({'file': r._file, 'line': r._line}) as first_seen
    from raw.files__changes as r
    semi join (
        select change_id from raw.files__changes group by change_id having count(*) > 1
    ) as repeated using (change_id)
    group by r.change_id
),

-- The times a record may carry (ops.kpi_settings): not before earliest_event_date, not after the run
-- time plus future_tolerance_hours. A year-2999 typo would otherwise stretch every KPI series to 2999.
time_window as (
    select earliest_event_at, latest_event_at from ops.kpi_settings
),

known_services as (
    select service from staging.stg_files__services where quarantine_reason is null
),

known_deployments as (
    select deployment_key from staging.stg_files__deployments where quarantine_reason is null
),

renamed as (
    select
        'files:change:' || s.change_id as change_id,
        s.change_id as change_key,
        s.service,
        s.first_commit_at,
        s.merged_at,
        case when coalesce(s.deployment_id, '') <> '' then 'files:deployment:' || s.deployment_id end as deployment_id,
        s.deployment_id as raw_deployment_id,
        s.opened_at,
        s.ready_at,
        -- an approval is a review: a blank first_review_at with an approval is that approval
        coalesce(s.first_review_at, s.approved_at) as first_review_at,
        s.approved_at,
        try_cast(trim(s.additions) as bigint) as additions,
        try_cast(trim(s.deletions) as bigint) as deletions,
        try_cast(trim(s.commits) as bigint) as commits,
        nullif(trim(s.url), '') as url,
        s.opened_at is not null as pr_flow_known,
        s.additions as raw_additions,
        s.deletions as raw_deletions,
        s.commits as raw_commits,
        k.service is not null as service_known,
        d.deployment_key is not null as deployment_known,
        s._file,
        s._line,
        dup.first_seen
    from source as s
    left join known_services as k on k.service = s.service
    left join repeated_ids as dup on dup.change_id = s.change_id
    left join known_deployments as d on d.deployment_key = s.deployment_id
),

checked as (
    select
        *,
        coalesce(change_key, '') = '' as no_key,
        coalesce(service, '') = '' as no_service,
        coalesce(service, '') <> '' and not service_known as unknown_service,
        first_commit_at is null as no_first_commit,
        merged_at is null as no_merge,
        merged_at < first_commit_at as merged_before_first_commit,
        least(first_commit_at, merged_at) < earliest_event_at as too_early,
        greatest(first_commit_at, merged_at) > latest_event_at as too_late,
        coalesce(raw_deployment_id, '') <> '' and not deployment_known as unknown_deployment,
        coalesce(trim(raw_additions), '') <> '' and coalesce(additions < 0, true) as bad_additions,
        coalesce(trim(raw_deletions), '') <> '' and coalesce(deletions < 0, true) as bad_deletions,
        coalesce(trim(raw_commits), '') <> '' and coalesce(commits < 0, true) as bad_commits,
        -- the dashboard links to it: only a web address, never javascript: or a file path
        url is not null and not regexp_matches(url, '^https?://[^\s]+$') as bad_url,
        opened_at is null and coalesce(ready_at, first_review_at, approved_at) is not null as flow_without_opened,
        ready_at < opened_at or first_review_at < opened_at or approved_at < first_review_at
            or merged_at < opened_at or merged_at < ready_at as flow_out_of_order,
        first_review_at > merged_at or approved_at > merged_at as reviewed_after_merge,
        least(opened_at, ready_at, first_review_at, approved_at) < earliest_event_at
            or greatest(opened_at, ready_at, first_review_at, approved_at) > latest_event_at as flow_out_of_window,
        coalesce(change_key, '') <> ''
            and first_seen is not null
            and {'file': _file, 'line': _line} <> first_seen as is_duplicate
    from renamed
    cross join time_window
),

final as (
    select
        * exclude (
            first_seen, earliest_event_at, latest_event_at,
            raw_deployment_id, service_known, deployment_known, no_key, no_service, unknown_service,
            no_first_commit, no_merge, merged_before_first_commit, too_early, too_late, unknown_deployment,
            is_duplicate, raw_additions, raw_deletions, raw_commits, bad_additions, bad_deletions,
            bad_commits, bad_url, flow_without_opened, flow_out_of_order, reviewed_after_merge,
            flow_out_of_window
        ),
        -- Reasons are spelled out only for the few bad rows: building strings for every row is costly.
        case when no_key or no_service or unknown_service or no_first_commit or no_merge
            or merged_before_first_commit or too_early or too_late or unknown_deployment or is_duplicate
            or bad_additions or bad_deletions or bad_commits or bad_url
            or coalesce(flow_without_opened or flow_out_of_order or reviewed_after_merge or flow_out_of_window, false)
        then concat_ws('; ',
            case when no_key then 'change_id is blank' end,
            case when no_service then 'service is blank' end,
            case when unknown_service then 'unknown service ' || service || ' (not in services)' end,
            case when no_first_commit then 'first_commit_at is blank' end,
            case when no_merge then 'merged_at is blank' end,
            case when merged_before_first_commit then 'merged_at is before first_commit_at' end,
            case when first_commit_at < earliest_event_at
                then 'first_commit_at ' || first_commit_at || ' is before ' || strftime(earliest_event_at, '%Y-%m-%d') || ' (earliest_event_date)' end,
            case when first_commit_at > latest_event_at
                then 'first_commit_at ' || first_commit_at || ' is in the future (after ' || strftime(latest_event_at, '%Y-%m-%d %H:%M') || ' UTC, the run time + future_tolerance_hours)' end,
            case when merged_at < earliest_event_at
                then 'merged_at ' || merged_at || ' is before ' || strftime(earliest_event_at, '%Y-%m-%d') || ' (earliest_event_date)' end,
            case when merged_at > latest_event_at
                then 'merged_at ' || merged_at || ' is in the future (after ' || strftime(latest_event_at, '%Y-%m-%d %H:%M') || ' UTC, the run time + future_tolerance_hours)' end,
            case when unknown_deployment then 'deployment_id ' || raw_deployment_id || ' is not a valid deployment' end,
            case when is_duplicate then 'duplicate change_id ' || change_key end,
            case when bad_additions then 'additions ' || raw_additions || ' is not a whole number >= 0' end,
            case when bad_deletions then 'deletions ' || raw_deletions || ' is not a whole number >= 0' end,
            case when bad_commits then 'commits ' || raw_commits || ' is not a whole number >= 0' end,
            case when bad_url then 'url ' || url || ' is not an http(s) address' end,
            case when flow_without_opened then 'ready_at, first_review_at or approved_at given without opened_at' end,
            case when ready_at < opened_at then 'ready_at is before opened_at' end,
            case when first_review_at < opened_at then 'first_review_at is before opened_at' end,
            case when approved_at < first_review_at then 'approved_at is before first_review_at (an approval is a review)' end,
            case when merged_at < opened_at then 'merged_at is before opened_at' end,
            case when merged_at < ready_at then 'merged_at is before ready_at' end,
            case when first_review_at > merged_at
                then 'first_review_at is after merged_at (a review after the merge reviewed nothing merged: leave it blank)' end,
            case when approved_at > merged_at
                then 'approved_at is after merged_at (leave it blank)' end,
            case when flow_out_of_window
                then 'opened_at, ready_at, first_review_at or approved_at is outside ' || strftime(earliest_event_at, '%Y-%m-%d')
                    || ' (earliest_event_date) .. ' || strftime(latest_event_at, '%Y-%m-%d %H:%M') || ' UTC (run time + future_tolerance_hours)' end
        ) end as quarantine_reason
    from checked
)

select * from final
