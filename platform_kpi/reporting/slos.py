"""The SLO part of the monthly report's operations section: the share of platform SLOs that met their
objective (platform_slo_attainment, against its target) and each platform SLO's attainment, remaining
error budget and data coverage for the month, from marts.kpi_monthly and marts.slo_monthly.

``slo_section(warehouse, month)`` returns report blocks (a note when no SLO is loaded). Pure Python:
no Dagster.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from platform_kpi.catalog import format_value
from platform_kpi.reporting.blocks import Block
from platform_kpi.warehouse import read_connection, table_names

#: the SLO KPIs of the operations group: this part reports them (the operations bullets and team table leave them out)
SLO_KPIS = ("platform_slo_attainment", "slo_attainment", "slo_error_budget_remaining")
STATUS_WORDS = {"met": "met", "breached": "breached", "insufficient_data": "too little data"}


def _pct(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def slo_section(warehouse: Path, month: dt.date) -> list[Block]:
    """The report blocks of the platform SLOs for ``month``."""
    blocks = [Block("heading", "Platform SLOs", level=3)]
    with read_connection(warehouse) as con:
        tables = table_names(con)
        if (
            "marts.slo_monthly" not in tables
            or not con.execute("select count(*) from core.slos").fetchone()[0]
        ):
            blocks.append(
                Block(
                    "paragraph",
                    "No SLOs are loaded (OpenSLO or Sloth spec files under `<files>/slos` or config `slos.paths`), "
                    "so platform_slo_attainment has no value.",
                )
            )
            return blocks
        kpi = con.execute(
            "select value, sample_size, target, target_met from marts.kpi_monthly "
            "where kpi_id = 'platform_slo_attainment' and scope_type = 'org' and month = ?",
            [month],
        ).fetchone()
        rows = con.execute(
            "select name, service, objective, slo_attainment, slo_error_budget_remaining, coverage, status "
            "from marts.slo_monthly where is_platform and month = ? "
            "order by slo_error_budget_remaining nulls first, name",
            [month],
        ).fetchall()
    if kpi is None or kpi[0] is None:
        blocks.append(Block("paragraph", f"No platform SLO has a result for {month:%B %Y}."))
        return blocks
    value, n, target, met = kpi
    target_words = ""
    if target is not None:
        target_words = f" against a target of {format_value(target, 'ratio')} ({'met' if met else 'missed'})"
    met_count = sum(1 for r in rows if r[6] == "met")
    blocks.append(
        Block(
            "paragraph",
            f"Platform SLO attainment: **{format_value(value, 'ratio')}** ({met_count} of {n} platform SLOs met "
            f"their objective){target_words}. Attainment counts good events over the month's hours with data; "
            "a month with too little data does not count as met.",
        )
    )
    blocks.append(
        Block(
            "table",
            header=["SLO", "Service", "Objective", "Attainment", "Error budget left", "Coverage", "Status"],
            rows=[
                [
                    name,
                    service or "",
                    _pct(objective),
                    _pct(attainment, 3),
                    _pct(budget, 0),
                    _pct(coverage, 0),
                    STATUS_WORDS.get(status, status),
                ]
                for name, service, objective, attainment, budget, coverage, status in rows
            ],
        )
    )
    return blocks
