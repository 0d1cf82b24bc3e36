"""The lean floor for `make bench`: the foundation KPIs straight from the CSV files in one DuckDB script.

What a competent engineer would write by hand to get the same numbers with nothing else: read the five
canonical files (services, deployments, changes, incidents, builds) with DuckDB's own CSV reader,
compute the 13 monthly and 4 weekly foundation KPIs at the org, team and service scopes, and write
them to a DuckDB file. No validation, no quarantine, no lineage, no history of runs, no Dagster: the
floor the full `kpi run --files` is measured against (issue #16: ≤ 2× this).

The definitions are those of bench/pandas_dora.py (the reference the pipeline's marts are tested
against), written as SQL; tests/bench/test_lean_duckdb.py checks both give the same rows. The files
are assumed clean (the benchmark generates them without bad rows).

    .venv/bin/python -m bench.lean_duckdb FILES_DIR OUT.duckdb
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb

from bench.pandas_dora import _STATUS_ALIASES, DEFAULT_LINK_WINDOW_HOURS

PRODUCTION = "(prod|production)([-_.].*)?"
TRUE = "('true', 't', '1', 'yes', 'y')"
FALSE = "('false', 'f', '0', 'no', 'n')"

_STATUS_ROWS = ", ".join(
    f"('{alias}', '{status}')" for status, aliases in _STATUS_ALIASES.items() for alias in aliases
)


def _read(files: Path, name: str, timestamps: tuple[str, ...]) -> str:
    types = ", ".join(f"'{c}': 'timestamptz'" for c in timestamps)
    return f"read_csv('{files / (name + '.csv')}', header = true, all_varchar = true, types = {{{types}}})"


def _scoped(select: str, kpis: list[tuple[str, str]]) -> str:
    """One row per period, scope (org, team, service) and KPI from ``select`` (rows with period, team,
    service and the measures); sample size = the rows of the group. Rows without a team (or service)
    count for the org only."""
    values = ", ".join(f"{{'kpi_id': '{k}', 'value': ({v})::double}}" for k, v in kpis)
    return f"""
        select * from (
            select period,
                   case when grouping(team) = 0 then 'team' when grouping(service) = 0 then 'service'
                        else 'org' end as scope_type,
                   case when grouping(team) = 0 then team when grouping(service) = 0 then service
                        else 'all' end as scope,
                   unnest([{values}], recursive := true),
                   count(*) as sample_size
            from ({select}) as facts
            group by grouping sets ((period), (period, team), (period, service))
        ) where scope is not null
    """


SCRIPT = """
set TimeZone = 'UTC';
set preserve_insertion_order = false;
create temp table status_map(alias varchar, status varchar);
insert into status_map values {status_rows};
create temp table services as
    select service, any_value(team) as team from {services} group by service;
create temp table deployments as
    select d.deployment_id, d.service, s.team, m.status,
           coalesce(regexp_full_match(lower(trim(d.environment)), '{production}'), false) as is_production,
           d.finished_at::timestamp as finished_at,
           coalesce(lower(trim(d.is_rollback)) in {true}, false) as is_rollback,
           coalesce(lower(trim(d.is_hotfix)) in {true}, false) as is_hotfix
    from {deployments} as d
    left join status_map as m on m.alias = lower(trim(d.status))
    left join services as s on s.service = d.service;
create temp table incidents as
    select i.incident_id, i.service, s.team, i.created_at::timestamp as created_at,
           i.resolved_at::timestamp as resolved_at, i.caused_by_deployment_id
    from {incidents} as i left join services as s on s.service = i.service;
create temp table spd as
    select deployment_id, service, team, finished_at, is_rollback, is_hotfix,
           coalesce(lead(is_rollback) over w, false) as failed_by_rollback,
           case when lead(is_rollback) over w then lead(finished_at) over w end as rollback_recovered_at,
           lag(deployment_id) over w as previous_id
    from deployments
    where status = 'SUCCESS' and is_production and finished_at is not null
    window w as (partition by service order by finished_at, deployment_id);
create temp table links as
    select i.caused_by_deployment_id as deployment_id, i.resolved_at
    from incidents as i semi join spd on spd.deployment_id = i.caused_by_deployment_id
    union all
    select latest.deployment_id, i.resolved_at
    from incidents as i
    asof join (select service, finished_at, max(deployment_id) as deployment_id from spd group by all) as latest
      on latest.service = i.service and latest.finished_at <= i.created_at
    where i.caused_by_deployment_id is null and i.created_at - latest.finished_at <= interval {window} hour;
create temp table spd_outcomes as
    select spd.*, spd.failed_by_rollback or l.deployment_id is not null as failed,
           least(spd.rollback_recovered_at, case when not l.any_unresolved then l.latest_resolved_at end) as recovered_at,
           spd.is_rollback or (spd.is_hotfix and exists (
               select 1 from incidents as i
               where i.service = spd.service and i.created_at <= spd.finished_at
                 and (i.caused_by_deployment_id = spd.previous_id
                      or i.created_at >= spd.finished_at - interval {window} hour))) as is_rework
    from spd
    left join (select deployment_id, max(resolved_at) as latest_resolved_at,
                      bool_or(resolved_at is null) as any_unresolved
               from links group by deployment_id) as l using (deployment_id);
create temp table lead_times as
    select c.service, s.team, d.finished_at as deployed_at,
           epoch(d.finished_at - c.first_commit_at::timestamp) / 3600 as hours
    from {changes} as c join spd as d on d.deployment_id = c.deployment_id
    left join services as s on s.service = c.service
    union all
    select c.service, s.team, d.finished_at, epoch(d.finished_at - c.first_commit_at::timestamp) / 3600
    from (select * from {changes} where deployment_id is null and merged_at is not null and service is not null) as c
    asof join (select service, finished_at from spd) as d on d.service = c.service and d.finished_at >= c.merged_at::timestamp
    left join services as s on s.service = c.service;
create temp table builds as
    select b.service, s.team, m.status = 'SUCCESS' as succeeded, b.finished_at::timestamp as finished_at,
           epoch(b.finished_at - b.started_at) as duration_sec,
           coalesce(case when lower(trim(b.is_default_branch)) in {true} then true
                         when lower(trim(b.is_default_branch)) in {false} then false end,
                    trim(b.branch) in ('main', 'master')) as is_default
    from {builds} as b
    join status_map as m on m.alias = lower(trim(b.status)) and m.status in ('SUCCESS', 'FAILURE')
    left join services as s on s.service = b.service
    where b.finished_at is not null;
create temp table outcomes as
    select service, team, finished_at, status = 'SUCCESS' as succeeded from deployments
    where is_production and finished_at is not null and status in ('SUCCESS', 'FAILURE');
"""

MONTHLY = [
    (
        "select date_trunc('month', finished_at) as period, team, service, * exclude (team, service) from spd_outcomes",
        [
            ("deployment_frequency", "count(*)"),
            ("change_failure_rate", "avg(failed::int)"),
            ("rework_rate", "avg(is_rework::int)"),
            ("rollback_frequency", "sum(is_rollback::int)"),
        ],
    ),
    (
        "select date_trunc('month', deployed_at) as period, team, service, hours from lead_times where hours is not null",
        [
            ("lead_time_for_changes_p50_hours", "quantile_cont(hours, 0.5)"),
            ("lead_time_for_changes_p90_hours", "quantile_cont(hours, 0.9)"),
        ],
    ),
    (
        "select date_trunc('month', resolved_at) as period, team, service, "
        "epoch(resolved_at - created_at) / 3600 as hours from incidents "
        "where resolved_at is not null and created_at is not null",
        [("mttr_hours", "avg(hours)"), ("time_to_restore_p50_hours", "quantile_cont(hours, 0.5)")],
    ),
    (
        "select date_trunc('month', finished_at) as period, team, service, "
        "epoch(recovered_at - finished_at) / 3600 as hours from spd_outcomes "
        "where failed and recovered_at is not null",
        [("failed_deployment_recovery_time_p50_hours", "quantile_cont(hours, 0.5)")],
    ),
]


def _platform(unit: str) -> list[tuple[str, list[tuple[str, str]]]]:
    period = f"date_trunc('{unit}', finished_at) as period, team, service"
    return [
        (f"select {period}, succeeded from outcomes", [("deployment_success_rate", "avg(succeeded::int)")]),
        (
            f"select {period}, succeeded from builds where is_default",
            [("ci_pipeline_success_rate", "avg(succeeded::int)")],
        ),
        (
            f"select {period}, duration_sec from builds where duration_sec is not null",
            [
                ("build_duration_p50_sec", "quantile_cont(duration_sec, 0.5)"),
                ("build_duration_p95_sec", "quantile_cont(duration_sec, 0.95)"),
            ],
        ),
    ]


def compute(files: Path, out: Path) -> dict[str, int]:
    """Write ``kpi_monthly`` and ``kpi_weekly`` (period, scope_type, scope, kpi_id, value, sample_size)
    to ``out``; returns their row counts."""
    files = files.resolve()
    script = SCRIPT.format(
        status_rows=_STATUS_ROWS,
        production=PRODUCTION,
        true=TRUE,
        false=FALSE,
        window=int(DEFAULT_LINK_WINDOW_HOURS),
        services=_read(files, "services", ()),
        deployments=_read(files, "deployments", ("started_at", "finished_at")),
        incidents=_read(files, "incidents", ("created_at", "resolved_at")),
        changes=_read(files, "changes", ("first_commit_at", "merged_at")),
        builds=_read(files, "builds", ("started_at", "finished_at")),
    )
    out.unlink(missing_ok=True)
    with duckdb.connect(str(out)) as con:
        con.execute(script)
        counts = {}
        for table, parts in (
            ("kpi_monthly", MONTHLY + _platform("month")),
            ("kpi_weekly", _platform("week")),
        ):
            union = " union all ".join(_scoped(select, kpis) for select, kpis in parts)
            con.execute(f"create table {table} as {union}")
            counts[table] = con.execute(f"select count(*) from {table}").fetchone()[0]
    return counts


if __name__ == "__main__":  # python -m bench.lean_duckdb FILES_DIR OUT.duckdb
    started = time.perf_counter()
    counts = compute(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{time.perf_counter() - started:.2f}s {counts}")
