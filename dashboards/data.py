"""Read-only queries the dashboard runs on the published warehouse. No Dagster, no writes.

Every KPI number comes from a published table (marts.kpi_monthly and the marts built for the
dashboard); the queries here only select and filter, with parameters. Results are cached per warehouse
file version (its modification time), so a newly published snapshot is picked up on the next
interaction and an unchanged one is never re-read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from platform_kpi.catalog import read_groups, read_tiers

# QueryError (and its QueryRefused) are what the SQL page catches: re-exported for it
from platform_kpi.readonly_query import QueryError, QueryRefused, QueryResult, run_query  # noqa: F401
from platform_kpi.settings import SqlLimits, load_settings
from platform_kpi.warehouse import read_connection

TTL = 600


def warehouse_path() -> Path:
    return Path(load_settings().warehouse)


def reports_dirs(warehouse: Path) -> list[Path]:
    """Where monthly reports may be: the configured reports folder, and `reports/` next to the warehouse."""
    out: list[Path] = []
    for candidate in (load_settings().reports_dir, warehouse.parent / "reports"):
        resolved = Path(candidate).resolve()
        if resolved not in out:
            out.append(resolved)
    return out


def warehouse_version(path: Path) -> float:
    return path.stat().st_mtime if path.exists() else 0.0


def query(path: Path | str, sql: str, params: list | None = None) -> pd.DataFrame:
    with read_connection(Path(path), external_access=False) as con:
        frame = con.execute(sql, params or []).df()
    if "month" in frame.columns:  # DATE arrives as datetime64 or date depending on nulls: make it one type
        frame["month"] = pd.to_datetime(frame["month"])
    return frame


# --- what the warehouse holds ---------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def table_rows(path: str, version: float) -> dict[str, int]:
    """Row count of every table of the published warehouse ({'core.deployments': 12522, ...})."""
    with read_connection(Path(path), external_access=False) as con:
        names = [
            f"{s}.{t}"
            for s, t in con.execute(
                "select schema_name, table_name from duckdb_tables() order by 1, 2"
            ).fetchall()
        ]
        counts = {}
        for name in names:
            counts[name] = con.execute(f"select count(*) from {name}").fetchone()[0]
    return counts


@st.cache_data(ttl=TTL, show_spinner=False)
def services(path: str, version: float) -> pd.DataFrame:
    return query(path, "select service, team, repo, tier from core.services order by team, service")


@st.cache_data(ttl=TTL, show_spinner=False)
def months(path: str, version: float) -> list[dt.date]:
    frame = query(path, "select distinct month from marts.kpi_monthly order by month")
    return [pd.Timestamp(m).date() for m in frame["month"]]


@st.cache_data(ttl=TTL, show_spinner=False)
def environments(path: str, version: float) -> pd.DataFrame:
    return query(
        path,
        "select environment, bool_or(is_production) as is_production, count(*) as deployments "
        "from core.deployments group by environment order by is_production desc, deployments desc",
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def kpi_groups(path: str, version: float) -> dict[str, tuple[str, ...]]:
    """The catalog's KPI groups the warehouse was built with: which KPIs each page shows, in order."""
    with read_connection(Path(path), external_access=False) as con:
        return read_groups(con)


@st.cache_data(ttl=TTL, show_spinner=False)
def tiers(path: str, version: float) -> tuple[str, ...]:
    """The DORA tiers of the warehouse's benchmarks, best first."""
    with read_connection(Path(path), external_access=False) as con:
        return read_tiers(con)


@st.cache_data(ttl=TTL, show_spinner=False)
def tier_year(path: str, version: float) -> int | None:
    """The DORA report year whose clusters give the tiers (tiers are always labelled with it)."""
    frame = query(path, "select max(benchmark_year) as year from marts.dora_benchmarks")
    year = frame["year"].iloc[0] if len(frame) else None
    return None if year is None or pd.isna(year) else int(year)


@st.cache_data(ttl=TTL, show_spinner=False)
def quick_check(path: str, version: float, scope_type: str, scope: str, month: dt.date) -> pd.DataFrame:
    """marts.dora_quick_check rows of one scope and month (empty for a warehouse built before it)."""
    if "marts.dora_quick_check" not in table_rows(path, version):
        return pd.DataFrame()
    return query(
        path,
        "select * from marts.dora_quick_check where scope_type = ? and scope = ? and month = ?",
        [scope_type, scope, month],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def definitions(path: str, version: float) -> pd.DataFrame:
    return query(path, "select * from marts.kpi_definitions").set_index("kpi_id", drop=False)


@st.cache_data(ttl=TTL, show_spinner=False)
def settings_row(path: str, version: float) -> dict:
    frame = query(path, "select * from ops.kpi_settings")
    return frame.iloc[0].to_dict() if len(frame) else {}


# --- KPI values -----------------------------------------------------------------------------

_KPI_SELECT = (
    "select k.month, k.scope_type, k.scope, k.kpi_id, k.value, k.unit, k.sample_size, k.tier, "
    "k.target, k.target_met, k.target_kind, k.previous_month_value, k.previous_year_value, "
    "d.name, d.definition, d.better "
    "from marts.kpi_monthly k join marts.kpi_definitions d using (kpi_id) "
)


@st.cache_data(ttl=TTL, show_spinner=False)
def kpi_series(
    path: str, version: float, scope_type: str, scope: str, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Every KPI of one scope for the months start..end (inclusive)."""
    return query(
        path,
        _KPI_SELECT + "where k.scope_type = ? and k.scope = ? and k.month between ? and ? "
        "order by k.kpi_id, k.month",
        [scope_type, scope, start, end],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def team_kpis(path: str, version: float, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Every KPI of every team for the months start..end."""
    return query(
        path,
        _KPI_SELECT
        + "where k.scope_type = 'team' and k.month between ? and ? order by k.scope, k.kpi_id, k.month",
        [start, end],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def service_kpis(path: str, version: float, month: dt.date, team: str | None) -> pd.DataFrame:
    """Every KPI of every service (of one team, or all) for one month."""
    return query(
        path,
        _KPI_SELECT + "join core.services s on s.service = k.scope "
        "where k.scope_type = 'service' and k.month = ? and (? is null or s.team = ?) "
        "order by k.scope, k.kpi_id",
        [month, team, team],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def targets_met(path: str, version: float, scope_type: str, month: dt.date) -> pd.DataFrame:
    """Per scope of a type: KPIs that met their target in the month, of those with a target and a value."""
    return query(
        path,
        "select scope, count(*) filter (where target_met) as met, count(target_met) as with_target "
        "from marts.kpi_monthly where scope_type = ? and month = ? group by scope order by scope",
        [scope_type, month],
    )


# --- delivery -------------------------------------------------------------------------------


def _scope_clause(team: str | None, service: str | None, env: str | None = None) -> tuple[str, list]:
    clause = "(? is null or team = ?) and (? is null or service = ?)"
    params: list = [team, team, service, service]
    if env is not None:
        clause += " and environment = ?"
        params.append(env)
    return clause, params


@st.cache_data(ttl=TTL, show_spinner=False)
def deployments_by_environment(
    path: str,
    version: float,
    team: str | None,
    service: str | None,
    env: str | None,
    start: dt.date,
    end: dt.date,
) -> pd.DataFrame:
    clause, params = _scope_clause(team, service, env)
    return query(
        path,
        "select month, environment, bool_or(is_production) as is_production, sum(attempts) as attempts, "
        "sum(successful) as successful, sum(failed) as failed, sum(rollbacks) as rollbacks, "
        "sum(hotfixes) as hotfixes from marts.deployments_by_environment "
        f"where {clause} and month between ? and ? group by month, environment order by month, environment",
        [*params, start, end],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def lead_time_stages(
    path: str, version: float, scope_type: str, scope: str, start: dt.date, end: dt.date
) -> pd.DataFrame:
    return query(
        path,
        "select month, stage, stage_order, p50_hours, p90_hours, n from marts.lead_time_stages "
        "where scope_type = ? and scope = ? and month between ? and ? order by month, stage_order",
        [scope_type, scope, start, end],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def slowest_changes(
    path: str, version: float, scope_type: str, scope: str, month: dt.date, limit: int = 20
) -> pd.DataFrame:
    """The changes deployed in ``month`` with the longest lead time, with their stages (hours) and a
    link to the pull/merge request (only an http(s) address: the link is rendered)."""
    return query(
        path,
        """
        select change_id, service, team, deployed_at,
            lead_time_sec / 3600.0 as lead_hours, coding_time_sec / 3600.0 as coding_hours,
            pickup_time_sec / 3600.0 as pickup_hours, review_time_sec / 3600.0 as review_hours,
            deploy_time_sec / 3600.0 as deploy_hours, additions + deletions as size_lines,
            case when regexp_full_match(url, 'https?://[^\\s<>"]+') then url end as url
        from core.change_lead_times
        where deployed_at >= ? and deployed_at < ?
            and (? = 'org' or (? = 'team' and team = ?) or (? = 'service' and service = ?))
        order by lead_time_sec desc, change_id
        limit ?
        """,
        [month, _month_after(month), scope_type, scope_type, scope, scope_type, scope, limit],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def lead_time_buckets(path: str, version: float, scope_type: str, scope: str, month: dt.date) -> pd.DataFrame:
    return query(
        path,
        "select bucket, bucket_order, changes from marts.lead_time_buckets "
        "where scope_type = ? and scope = ? and month = ? order by bucket_order",
        [scope_type, scope, month],
    )


# --- stability ------------------------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def incidents(
    path: str,
    version: float,
    team: str | None,
    service: str | None,
    env: str | None,
    start: dt.date,
    end: dt.date,
) -> pd.DataFrame:
    """Incidents created in the months start..end with the deployments they are linked to."""
    return query(
        path,
        """
        select
            i.incident_id, i.service, i.team, i.severity, i.created_at, i.resolved_at,
            round(i.time_to_restore_sec / 3600.0, 2) as hours_to_restore,
            l.deployment_id, l.link_type, d.environment, d.finished_at as deployment_finished_at,
            o.failure_reason
        from core.incidents i
        left join core.incident_links l using (incident_id)
        left join core.deployments d on d.deployment_id = l.deployment_id
        left join core.deployment_outcomes o on o.deployment_id = l.deployment_id
        where (? is null or i.team = ?) and (? is null or i.service = ?)
            and (? is null or d.environment = ?)
            and i.created_at >= ? and i.created_at < ?
        order by i.created_at desc
        """,
        [team, team, service, service, env, env, start, _month_after(end)],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def deployments(
    path: str,
    version: float,
    team: str | None,
    service: str | None,
    env: str | None,
    start: dt.date,
    end: dt.date,
) -> pd.DataFrame:
    """Deployments finished in the months start..end, newest first, with their failure verdict."""
    return query(
        path,
        """
        select d.deployment_id, d.service, d.team, d.environment, d.is_production, d.status,
            d.finished_at, d.is_rollback, d.is_hotfix, o.is_failed, o.failure_reason, o.recovered_at
        from core.deployments d
        left join core.deployment_outcomes o using (deployment_id)
        where (? is null or d.team = ?) and (? is null or d.service = ?) and (? is null or d.environment = ?)
            and d.finished_at >= ? and d.finished_at < ?
        order by d.finished_at desc
        limit 500
        """,
        [team, team, service, service, env, env, start, _month_after(end)],
    )


# --- CI -------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def ci_pipelines(
    path: str, version: float, team: str | None, service: str | None, month: dt.date
) -> pd.DataFrame:
    clause, params = _scope_clause(team, service)
    return query(
        path,
        "select service as pipeline, team, builds, default_branch_builds, default_branch_success_rate, "
        "duration_p50_sec, duration_p95_sec, failures, flaky_failures, flaky_rate "
        f"from marts.ci_pipeline_stats where {clause} and month = ? order by service",
        [*params, month],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def support_tickets(
    path: str, version: float, team: str | None, service: str | None, month: dt.date
) -> pd.DataFrame:
    """Support tickets resolved in ``month`` (the observations behind support_resolution_time_p50_hours)."""
    clause, params = _scope_clause(team, service)
    return query(
        path,
        "select ticket_id, team, service, kind, priority, original_status as status, created_at, resolved_at, "
        "round(resolution_time_sec / 3600.0, 1) as hours_to_resolve, url "
        f"from core.tickets where {clause} and status = 'RESOLVED' and resolved_at >= ? and resolved_at < ? "
        "order by resolution_time_sec desc",
        [*params, month, _month_after(month)],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def open_tickets(path: str, version: float, team: str | None, service: str | None) -> int:
    clause, params = _scope_clause(team, service)
    frame = query(path, f"select count(*) as n from core.tickets where {clause} and status = 'OPEN'", params)
    return int(frame["n"].iloc[0])


@st.cache_data(ttl=TTL, show_spinner=False)
def architecture_reviews(
    path: str, version: float, team: str | None, service: str | None, month: dt.date
) -> pd.DataFrame:
    """Reviews completed in ``month`` and reviews still open, longest first."""
    clause, params = _scope_clause(team, service)
    return query(
        path,
        "select review_id, title, team, service, requested_at, completed_at, outcome, "
        "round(cycle_business_days, 2) as business_days, url "
        f"from core.reviews where {clause} and ((completed_at >= ? and completed_at < ?) or completed_at is null) "
        "order by completed_at is null desc, cycle_business_days desc",
        [*params, month, _month_after(month)],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def enablement_sessions(path: str, version: float, team: str | None, month: dt.date) -> pd.DataFrame:
    """Enablement sessions held in ``month`` (for ``team``, or all of them), newest first; attendees
    only as a count (the warehouse holds them as hashes)."""
    return query(
        path,
        "select held_at, topic, coalesce(team, '(everyone)') as audience, attendee_count as attendees "
        "from core.enablement_sessions where (? is null or team = ?) and held_at >= ? and held_at < ? "
        "order by held_at desc",
        [team, team, month, _month_after(month)],
    )


# --- data health ----------------------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def sync_state(path: str, version: float) -> pd.DataFrame | None:
    """ops.sync_state (source connectors' last syncs), or None when no connector is configured."""
    if "ops.sync_state" not in table_rows(path, version):
        return None
    return query(path, "select * from ops.sync_state order by 1, 2")


@st.cache_data(ttl=TTL, show_spinner=False)
def domain_freshness(path: str, version: float) -> pd.DataFrame:
    """Per domain table and source: rows and the newest event time, the data's own freshness."""
    parts = []
    for table, column in (
        ("core.services", None),
        ("core.deployments", "finished_at"),
        ("core.changes", "merged_at"),
        ("core.incidents", "created_at"),
        ("core.cicd_builds", "finished_at"),
        ("core.tickets", "created_at"),
        ("core.reviews", "requested_at"),
        ("core.alerts", "created_at"),
    ):
        newest = f"max({column})" if column else "cast(null as timestamp)"
        parts.append(
            f"select '{table}' as table_name, source, count(*) as rows, {newest} as newest_event from {table} group by source"
        )
    return query(path, " union all ".join(parts) + " order by table_name, source")


@st.cache_data(ttl=TTL, show_spinner=False)
def check_results(path: str, version: float) -> pd.DataFrame | None:
    if "ops.check_results" not in table_rows(path, version):
        return None
    return query(
        path,
        "select asset, check_name, expectation, column_name, success, unexpected_count, sample, checked_at "
        "from ops.check_results order by success, asset, expectation, column_name",
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def file_accounting(path: str, version: float) -> pd.DataFrame | None:
    """ops.file_accounting (each input file: lines, records, loaded, quarantined), or None when the
    warehouse predates it."""
    if "ops.file_accounting" not in table_rows(path, version):
        return None
    return query(
        path,
        "select entity, file, status, records, loaded, quarantined, lines, header_lines, blank_lines, "
        "continuation_lines, lines_balanced and records_balanced as adds_up, repaired, ignored_columns, note "
        "from ops.file_accounting "
        "order by list_position(['services', 'deployments', 'changes', 'incidents', 'builds'], entity) nulls last, file",
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def quarantine(path: str, version: float) -> pd.DataFrame:
    return query(
        path,
        "select source, entity, file, line, record_key, reason, record from ops.quarantine order by entity, file, line",
    )


# --- SQL page -------------------------------------------------------------------------------


def sql_limits() -> SqlLimits:
    """Time, memory and row limits of one SQL-page query (KPI_SQL_* settings)."""
    return load_settings().sql


def run_readonly_sql(
    path: Path | str, sql: str, on_wait: Callable[[float], None] | None = None
) -> QueryResult:
    """Run one read-only query of the SQL page in a capped process of its own.

    Never on this process's shared DuckDB instance: a runaway query is killed at its limits without
    anyone else noticing. ``on_wait(seconds)`` runs while it waits; when it raises (Streamlit stopping
    the session's script: a rerun, a closed tab) the query's process is killed.
    """
    return run_query(path, sql, sql_limits(), on_wait=on_wait, keep_spare=True)


def _month_after(month: dt.date) -> dt.date:
    return (pd.Timestamp(month) + pd.offsets.MonthBegin(1)).date()
