"""The operations and experience section of the monthly report: how long platform support takes to
resolve a ticket and an architecture review to complete, how developers rate the platform, and how
far enablement reached, for the organisation and each team.

``operations_section(warehouse, month)`` returns report blocks read from marts.kpi_monthly (the KPIs
of the catalog's ``operations`` group) and core.tickets; the report inserts them before its
appendices. Pure Python: no Dagster.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from platform_kpi.catalog import change, format_value, read_groups
from platform_kpi.markup import md_escape
from platform_kpi.reporting.alerts import KPIS as ALERT_KPIS
from platform_kpi.reporting.blocks import Block
from platform_kpi.reporting.slos import SLO_KPIS
from platform_kpi.warehouse import read_connection, table_names

SAMPLE_WORDS = {
    "support_resolution_time_p50_hours": "tickets resolved",
    "architecture_review_cycle_time_p50_days": "reviews completed",
    "developer_satisfaction": "respondents",
    "developer_nps": "respondents",
    "enablement_reach": "teams",
    "enablement_sessions_held": "sessions",
    "enablement_unique_attendees": "attendees",
}
#: the per-team table's columns (the rest are in the bullets: a PDF page holds about five)
TEAM_COLUMNS = (
    "support_resolution_time_p50_hours",
    "architecture_review_cycle_time_p50_days",
    "developer_satisfaction",
    "developer_nps",
    "enablement_reach",
)
#: the domain tables this section reads; with all of them empty it says what to load
SOURCES = ("core.tickets", "core.reviews", "core.survey_responses", "core.enablement_sessions")


def operations_section(warehouse: Path, month: dt.date) -> list[Block]:
    """The report blocks of the operations section for ``month`` (a note when nothing is loaded)."""
    blocks = [Block("heading", "Operations and experience")]
    with read_connection(warehouse) as con:
        groups = read_groups(con)
        # alert noise and platform incidents, and the SLOs, have their own parts (reporting.alerts, .slos)
        kpis = [k for k in groups.get("operations", ()) if k not in ALERT_KPIS + SLO_KPIS]
        tables = table_names(con)
        loaded = sum(con.execute(f"select count(*) from {t}").fetchone()[0] for t in SOURCES if t in tables)
        if not kpis or not loaded:
            blocks.append(
                Block(
                    "paragraph",
                    "No support tickets, architecture reviews, survey responses or enablement sessions are "
                    "loaded (sources.yaml `sql`, `jira` or `servicenow`; survey_responses.csv and "
                    "enablement_sessions.csv among the files), so these KPIs have no values.",
                )
            )
            return blocks
        rows = con.execute(
            "select k.kpi_id, d.name, d.unit, d.better, k.scope_type, k.scope, k.value, k.previous_month_value, "
            "k.sample_size from marts.kpi_monthly as k join marts.kpi_definitions as d using (kpi_id) "
            "where k.month = ? and k.kpi_id in ? and k.scope_type in ('org', 'team') order by k.scope",
            [month, kpis],
        ).fetchall()
        open_tickets = (
            con.execute("select count(*) from core.tickets where status = 'OPEN'").fetchone()[0]
            if "core.tickets" in tables
            else 0
        )
    org = {r[0]: r for r in rows if r[4] == "org"}
    items = []
    for kid in kpis:
        if kid not in org:
            continue
        _, name, unit, better, _, _, value, before, n = org[kid]
        if value is None:  # a survey KPI of too few respondents, or nothing observed
            continue
        moved = change(value, before, unit)
        words = moved.words(better) if moved else None
        items.append(
            f"{md_escape(name)}: **{format_value(value, unit)}**"
            + (f", {words} vs previous month" if words else "")
            + f" ({n:,} {SAMPLE_WORDS.get(kid, 'observations')})"
        )
    blocks.append(Block("bullets", items=items))
    blocks.append(
        Block("paragraph", f"{open_tickets:,} support tickets are open as of the warehouse's last refresh.")
    )
    columns = [k for k in kpis if k in TEAM_COLUMNS]
    teams = sorted({r[5] for r in rows if r[4] == "team"})
    by = {(r[0], r[5]): r for r in rows if r[4] == "team"}
    table_rows = []
    for team in teams:
        cells = [md_escape(team)]
        for kid in columns:
            r = by.get((kid, team))
            cells.append("n/a" if r is None or not r[8] else f"{format_value(r[6], r[2])} (n={r[8]})")
        table_rows.append(cells)
    names = {r[0]: r[1] for r in rows}
    blocks.append(Block("table", header=["Team", *(names.get(k, k) for k in columns)], rows=table_rows))
    return blocks
