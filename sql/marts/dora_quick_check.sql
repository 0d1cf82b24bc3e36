-- DORA Quick Check scores per month for every service, team and the organisation: the five DORA
-- metrics on DORA's 0-10 scale (10 best), the throughput, stability and overall scores, and where a
-- score sits in the configured Quick Check benchmark (marts.quick_check_benchmarks).
-- DORA's metrics are meant per service: a service row scores the service's own KPI values of the
-- month; a team or org row is a roll-up, the median of its services' scores, with their spread.
-- Buckets (a value exactly at an edge falls in the slower bucket; 1 month = 30 days, 6 months = 180):
--   lead time, recovery time (hours): < 1 h -> 6; 1 h-1 day -> 5; 1 day-1 week -> 4;
--   1 week-1 month -> 3; 1-6 months -> 2; 6 months or more -> 1.
--   deployment frequency (D deployments in a month of N days): D > 24N (more than hourly) -> 6;
--   N < D <= 24N -> 5; N/7 < D <= N -> 4; 1 < D <= N/7 -> 3; D = 1, or D = 0 with a deployment in
--   the five months before -> 2; none in those six months -> 1.
--   (The month in progress counts its deployments so far against all its days: read full months.)
-- score = (bucket - 1) x 2; change fail and rework (ratio r, p = 100 r): score = 10 - p/10.
with source as (
    select month, scope_type, scope, kpi_id, value
    from marts.kpi_monthly
    where kpi_id in (
        'lead_time_for_changes_p50_hours',
        'deployment_frequency',
        'failed_deployment_recovery_time_p50_hours',
        'change_failure_rate',
        'rework_rate'
    )
),

services as (
    select service, team from core.services
),

benchmarks as (
    select edition, cut_type, cut, kpi_id, mean, sd from marts.quick_check_benchmarks
),

renamed as (
    select
        s.month,
        s.scope as service,
        v.team,
        s.kpi_id as metric,
        s.value,
        day(last_day(s.month)) as days_in_month,
        -- The KPI spine is dense (every month of every service), so six rows are six months.
        sum(s.value) over (
            partition by s.scope, s.kpi_id order by s.month rows between 5 preceding and current row
        ) as value_6_months
    from source as s
    join services as v on v.service = s.scope
    where s.scope_type = 'service'
),

bucketed as (
    select
        *,
        case
            when value is null then null
            when metric in ('lead_time_for_changes_p50_hours', 'failed_deployment_recovery_time_p50_hours') then
                case
                    when value < 1 then 6
                    when value < 24 then 5
                    when value < 168 then 4
                    when value < 720 then 3
                    when value < 4320 then 2
                    else 1
                end
            when metric = 'deployment_frequency' then
                case
                    when value > 24 * days_in_month then 6
                    when value > days_in_month then 5
                    when value * 7 > days_in_month then 4
                    when value > 1 then 3
                    when value = 1 or value_6_months > 0 then 2
                    else 1
                end
        end as bucket
    from renamed
),

metric_scores as (
    select
        month,
        service,
        team,
        metric,
        value,
        bucket,
        case
            when bucket is not null then (bucket - 1) * 2.0
            when metric in ('change_failure_rate', 'rework_rate') then 10 - value * 10
        end as score
    from bucketed
),

-- A composite is the mean of the metric scores the service has that month (a month without failed
-- deployments has no recovery time: throughput is then the mean of the other two).
composite_scores as (
    select month, service, team, 'throughput' as metric, avg(score) as score
    from metric_scores
    where metric in ('lead_time_for_changes_p50_hours', 'deployment_frequency', 'failed_deployment_recovery_time_p50_hours')
    group by all
    union all
    select month, service, team, 'stability', avg(score)
    from metric_scores
    where metric in ('change_failure_rate', 'rework_rate')
    group by all
    union all
    select month, service, team, 'overall', avg(score)
    from metric_scores
    group by all
),

service_scores as (
    select month, service, team, metric, value, bucket, score from metric_scores
    union all
    select month, service, team, metric, null, null, score from composite_scores
),

scope_values as (
    select month, scope_type, scope, kpi_id as metric, value
    from source
    where scope_type in ('team', 'org')
),

rolled as (
    select
        month,
        'service' as scope_type,
        service as scope,
        metric,
        value,
        bucket,
        score,
        (score is not null)::integer as services,
        score as score_min,
        score as score_p25,
        score as score_p75,
        score as score_max
    from service_scores
    union all
    select
        month,
        'team',
        team,
        metric,
        null,
        null,
        quantile_cont(score, 0.5),
        count(score),
        min(score),
        quantile_cont(score, 0.25),
        quantile_cont(score, 0.75),
        max(score)
    from service_scores
    group by month, team, metric
    union all
    select
        month,
        'org',
        'all',
        metric,
        null,
        null,
        quantile_cont(score, 0.5),
        count(score),
        min(score),
        quantile_cont(score, 0.25),
        quantile_cont(score, 0.75),
        max(score)
    from service_scores
    group by month, metric
),

-- Position in a benchmark row: Phi((score - mean) / sd) x 100, the normal distribution's CDF (the
-- Quick Check publishes mean and sd only; normality is our assumption). erf by Abramowitz-Stegun
-- 7.1.26 (absolute error below 1.5e-7).
positioned as (
    select
        r.*,
        b.edition as benchmark_edition,
        b.cut as industry,
        b.mean as industry_mean,
        b.sd as industry_sd,
        (r.score - b.mean) / b.sd as industry_z,
        o.cut as org_size,
        o.mean as org_size_mean,
        o.sd as org_size_sd,
        (r.score - o.mean) / o.sd as org_size_z
    from rolled as r
    left join benchmarks as b on b.kpi_id = r.metric and b.cut_type = 'industry'
    left join benchmarks as o on o.kpi_id = r.metric and o.cut_type = 'org_size'
),

tails as (
    select
        *,
        1 / (1 + 0.3275911 * abs(industry_z) / sqrt(2)) as t1,
        1 / (1 + 0.3275911 * abs(org_size_z) / sqrt(2)) as t2
    from positioned
),

final as (
    select
        p.month,
        p.scope_type,
        p.scope,
        p.metric,
        coalesce(p.value, v.value) as value,
        p.bucket,
        p.score,
        p.services,
        p.score_min,
        p.score_p25,
        p.score_p75,
        p.score_max,
        p.benchmark_edition,
        p.industry,
        p.industry_mean,
        p.industry_sd,
        50 * (1 + sign(p.industry_z) * (1 - (
            0.254829592 * p.t1 - 0.284496736 * p.t1 ^ 2 + 1.421413741 * p.t1 ^ 3
            - 1.453152027 * p.t1 ^ 4 + 1.061405429 * p.t1 ^ 5
        ) * exp(-(p.industry_z ^ 2) / 2))) as industry_percentile,
        p.org_size,
        p.org_size_mean,
        p.org_size_sd,
        50 * (1 + sign(p.org_size_z) * (1 - (
            0.254829592 * p.t2 - 0.284496736 * p.t2 ^ 2 + 1.421413741 * p.t2 ^ 3
            - 1.453152027 * p.t2 ^ 4 + 1.061405429 * p.t2 ^ 5
        ) * exp(-(p.org_size_z ^ 2) / 2))) as org_size_percentile
    from tails as p
    left join scope_values as v using (month, scope_type, scope, metric)
    order by p.month, p.scope_type, p.scope, p.metric
)

select * from final
