"""The alert-noise and platform-incident part of the monthly report: how much of the on-call's paging
was actionable, how often each team was paged, which alert sources made the most noise, and how the
platform's own incidents (severity-weighted) and their MTTR moved, each against its target.

``alerts_section(warehouse, month)`` returns report blocks read from marts.kpi_monthly, core.alerts and
marts.alerts_observations; the report inserts them after the operations section. Pure Python: no
Dagster.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from platform_kpi.catalog import change, format_value
from platform_kpi.markup import md_escape
from platform_kpi.reporting.blocks import Block
from platform_kpi.warehouse import read_connection, table_names

KPIS = (
    "alert_actionable_ratio",
    "alerts_per_oncall_week",
    "platform_incident_rate",
    "platform_incident_mttr_hours",
)
SAMPLE_WORDS = {
    "alert_actionable_ratio": "alerts",
    "alerts_per_oncall_week": "team-months",
    "platform_incident_rate": "incidents",
    "platform_incident_mttr_hours": "incidents resolved",
}


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def alerts_section(warehouse: Path, month: dt.date) -> list[Block]:
    """The report blocks of the alert-noise and platform-incident part for ``month``."""
    blocks = [Block("heading", "Alert noise and platform incidents")]
    with read_connection(warehouse) as con:
        tables = table_names(con)
        if not {"core.alerts", "marts.kpi_monthly"} <= tables:
            blocks.append(Block("paragraph", "This warehouse was built without the alert tables."))
            return blocks
        rows = con.execute(
            "select k.kpi_id, d.name, d.unit, d.better, k.scope_type, k.scope, k.value, k.previous_month_value, "
            "k.sample_size, k.target, k.target_met from marts.kpi_monthly as k "
            "join marts.kpi_definitions as d using (kpi_id) "
            "where k.month = ? and k.kpi_id in ? and k.scope_type in ('org', 'team') order by k.scope",
            [month, list(KPIS)],
        ).fetchall()
        sources = con.execute(
            "select alert_source, count(*), count(*) filter (where not is_actionable), sum(occurrences) "
            "from core.alerts where created_at >= ? and created_at < ? "
            "group by alert_source order by 3 desc, 2 desc, 1 limit 5",
            [month, _next_month(month)],
        ).fetchall()
        incidents = con.execute(
            "select count(*), coalesce(sum(x), 0) from marts.alerts_observations "
            "where measure = 'platform_incident_rate' and observed_at >= ? and observed_at < ?",
            [month, _next_month(month)],
        ).fetchone()
    org = {r[0]: r for r in rows if r[4] == "org"}
    if not any(org.get(k) and org[k][8] for k in KPIS):
        blocks.append(
            Block(
                "paragraph",
                "No alerts or platform incidents in this month (alerts.csv, or PagerDuty / Opsgenie in "
                "sources.yaml), so these KPIs have no values.",
            )
        )
        return blocks
    items = []
    for kid in KPIS:
        if kid not in org or org[kid][6] is None:
            continue
        _, name, unit, better, _, _, value, before, n, target, met = org[kid]
        moved = change(value, before, unit)
        words = moved.words(better) if moved else None
        goal = "" if target is None else f"; target {format_value(target, unit)} {'met' if met else 'missed'}"
        items.append(
            f"{md_escape(name)}: **{format_value(value, unit)}**"
            + (f", {words} vs previous month" if words else "")
            + f" ({n:,} {SAMPLE_WORDS[kid]}{goal})"
        )
    blocks.append(Block("bullets", items=items))
    blocks.append(
        Block(
            "paragraph",
            f"{incidents[0]:,} incidents were opened on platform services this month, weighing "
            f"{incidents[1]:,.1f} by severity.",
        )
    )
    by = {(r[0], r[5]): r for r in rows if r[4] == "team"}
    teams = sorted({r[5] for r in rows if r[4] == "team" and r[0] == "alert_actionable_ratio" and r[8]})
    table_rows = []
    for team in teams:
        cells = [md_escape(team)]
        for kid in ("alert_actionable_ratio", "alerts_per_oncall_week"):
            r = by.get((kid, team))
            cells.append("n/a" if r is None or not r[8] else format_value(r[6], r[2]))
        table_rows.append(cells)
    if table_rows:
        blocks.append(
            Block("table", header=["Team", "Actionable alerts", "Alerts per on-call week"], rows=table_rows)
        )
    if sources:
        blocks.append(Block("paragraph", "The noisiest alert sources of the month:"))
        blocks.append(
            Block(
                "table",
                header=["Source", "Alerts", "Noise", "Occurrences"],
                rows=[[md_escape(s), f"{a:,}", f"{n:,} ({n / a:.0%})", f"{o:,}"] for s, a, n, o in sources],
            )
        )
    return blocks
