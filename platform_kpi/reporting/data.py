"""What the monthly report says, read from the published warehouse: the month's KPI rows (organisation
and teams), twelve months of history, definitions, quarantine, checks, sources and sync state.

Every number comes from marts.kpi_monthly and every definition from marts.kpi_definitions, so the
report never disagrees with the dashboard or an architect's SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from platform_kpi.catalog import read_groups, read_tiers
from platform_kpi.warehouse import read_connection


@dataclass
class ReportData:
    month: dt.date
    org: pd.DataFrame  # kpi_monthly rows of the month, scope org, with name/definition/better
    teams: pd.DataFrame  # the same for every team
    history: pd.DataFrame  # org rows of the 12 months up to the month (charts)
    definitions: pd.DataFrame
    quarantine: pd.DataFrame  # entity, reason, rows
    checks: pd.DataFrame
    sources: pd.DataFrame  # table_name, source, rows, newest_event
    sync_state: pd.DataFrame | None  # ops.sync_state, or None when no connector is configured
    as_of: dt.datetime | None
    groups: dict[str, tuple[str, ...]]  # the catalog's KPI groups (marts.kpi_groups), e.g. "throughput"
    tiers: tuple[str, ...]  # the DORA tiers, best first
    tier_year: int | None = None  # the DORA report year whose clusters give the tiers
    quick_check: pd.DataFrame | None = None  # marts.dora_quick_check rows of the month, scope org

    @property
    def dora(self) -> tuple[str, ...]:
        """DORA's five metrics: the throughput group, then the instability group."""
        return (*self.groups["throughput"], *self.groups["instability"])


def parse_month(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError as exc:
        raise ValueError(f"month {text!r} is not in the form YYYY-MM (e.g. 2026-10)") from exc


def load_report_data(warehouse: Path, month: dt.date) -> ReportData:
    with read_connection(warehouse) as con:
        have = con.execute("select count(*) from marts.kpi_monthly where month = ?", [month]).fetchone()[0]
        if not have:
            months = [
                r[0].strftime("%Y-%m")
                for r in con.execute("select distinct month from marts.kpi_monthly order by 1").fetchall()
            ]
            raise ValueError(
                f"No KPI values for {month:%Y-%m} in {warehouse}. Months available: "
                f"{', '.join(months) if months else 'none (run the pipeline first)'}."
            )
        base = (
            "select k.*, d.name, d.definition, d.better from marts.kpi_monthly k "
            "join marts.kpi_definitions d using (kpi_id) "
        )
        org = con.execute(base + "where k.month = ? and k.scope_type = 'org' order by k.kpi_id", [month]).df()
        teams = con.execute(
            base + "where k.month = ? and k.scope_type = 'team' order by k.scope, k.kpi_id", [month]
        ).df()
        history = con.execute(
            base + "where k.scope_type = 'org' and k.month between ? and ? order by k.kpi_id, k.month",
            [(pd.Timestamp(month) - pd.DateOffset(months=11)).date(), month],
        ).df()
        definitions = con.execute("select kpi_id, name, unit, definition from marts.kpi_definitions").df()
        quarantine = con.execute(
            "select entity, reason, count(*) as rows from ops.quarantine group by all order by rows desc, entity, reason"
        ).df()
        tables = {
            r[0]
            for r in con.execute("select schema_name || '.' || table_name from duckdb_tables()").fetchall()
        }
        checks = (
            con.execute(
                "select asset, check_name, expectation, column_name, success, unexpected_count from ops.check_results "
                "order by success, asset, expectation"
            ).df()
            if "ops.check_results" in tables
            else pd.DataFrame(
                columns=["asset", "check_name", "expectation", "column_name", "success", "unexpected_count"]
            )
        )
        parts = []
        for table, column in (
            ("core.deployments", "finished_at"),
            ("core.changes", "merged_at"),
            ("core.incidents", "created_at"),
            ("core.cicd_builds", "finished_at"),
        ):
            if table in tables:
                parts.append(
                    f"select '{table}' as table_name, source, count(*) as rows, max({column}) as newest_event "
                    f"from {table} group by source"
                )
        sources = (
            con.execute(" union all ".join(parts) + " order by table_name, source").df()
            if parts
            else pd.DataFrame(columns=["table_name", "source", "rows", "newest_event"])
        )
        sync_state = con.execute("select * from ops.sync_state").df() if "ops.sync_state" in tables else None
        as_of = None
        if "ops.kpi_settings" in tables:
            row = con.execute("select max(as_of) from ops.kpi_settings").fetchone()
            as_of = row[0] if row else None
        groups, tiers = read_groups(con), read_tiers(con)
        tier_year = con.execute("select max(benchmark_year) from marts.dora_benchmarks").fetchone()[0]
        quick_check = (
            con.execute(
                "select * from marts.dora_quick_check where month = ? and scope_type = 'org'", [month]
            ).df()
            if "marts.dora_quick_check" in tables
            else None
        )
    for frame in (org, teams, history):
        frame["month"] = pd.to_datetime(frame["month"])
    return ReportData(
        month,
        org,
        teams,
        history,
        definitions,
        quarantine,
        checks,
        sources,
        sync_state,
        as_of,
        groups,
        tiers,
        tier_year,
        quick_check,
    )
