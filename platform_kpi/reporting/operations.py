"""The operations and experience section of the monthly report: how long platform support takes to
resolve a ticket and an architecture review to complete, for the organisation and each team.

``operations_section(warehouse, month)`` returns report blocks read from marts.kpi_monthly (the KPIs
of the catalog's ``operations`` group) and core.tickets; the report inserts them before its
appendices. Pure Python: no Dagster.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from platform_kpi.catalog import change, format_value, read_groups
from platform_kpi.markup import md_escape
from platform_kpi.reporting.blocks import Block
from platform_kpi.warehouse import read_connection

SAMPLE_WORDS = {
    "support_resolution_time_p50_hours": "tickets resolved",
    "architecture_review_cycle_time_p50_days": "reviews completed",
    "developer_satisfaction": "respondents",
    "developer_nps": "respondents",
}


def operations_section(warehouse: Path, month: dt.date) -> list[Block]:
    """The report blocks of the operations section for ``month`` (a note when nothing is loaded)."""
    blocks = [Block("heading", "Operations and experience")]
    with read_connection(warehouse) as con:
        groups = read_groups(con)
        kpis = list(groups.get("operations", ()))
        tables = {
            r[0]
            for r in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
            ).fetchall()
        }
        loaded = (
            con.execute(
                "select (select count(*) from core.tickets) + (select count(*) from core.reviews)"
            ).fetchone()[0]
            if {"core.tickets", "core.reviews"} <= tables
            else 0
        )
        if not kpis or not loaded:
            blocks.append(
                Block(
                    "paragraph",
                    "No support tickets or architecture reviews are loaded (sources.yaml `sql` with a tickets "
                    "or reviews query), so these KPIs have no values.",
                )
            )
            return blocks
        rows = con.execute(
            "select k.kpi_id, d.name, d.unit, d.better, k.scope_type, k.scope, k.value, k.previous_month_value, "
            "k.sample_size from marts.kpi_monthly as k join marts.kpi_definitions as d using (kpi_id) "
            "where k.month = ? and k.kpi_id in ? and k.scope_type in ('org', 'team') order by k.scope",
            [month, kpis],
        ).fetchall()
        open_tickets = con.execute("select count(*) from core.tickets where status = 'OPEN'").fetchone()[0]
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
    teams = sorted({r[5] for r in rows if r[4] == "team"})
    by = {(r[0], r[5]): r for r in rows if r[4] == "team"}
    table_rows = []
    for team in teams:
        cells = [md_escape(team)]
        for kid in kpis:
            r = by.get((kid, team))
            cells.append("n/a" if r is None or not r[8] else f"{format_value(r[6], r[2])} (n={r[8]})")
        table_rows.append(cells)
    names = {r[0]: r[1] for r in rows}
    blocks.append(Block("table", header=["Team", *(names.get(k, k) for k in kpis)], rows=table_rows))
    return blocks
