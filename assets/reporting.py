"""The monthly KPI report (Markdown and HTML) for a month, from the published warehouse.

Every number comes from marts.kpi_monthly and every definition from marts.kpi_definitions, so the
report can never disagree with the dashboard or an architect's SQL. Pure Python: no Dagster.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.catalog import DORA_KEYS, format_value
from pipelines.warehouse import read_connection


@dataclass
class ReportData:
    month: dt.date
    org: pd.DataFrame
    teams: pd.DataFrame
    definitions: pd.DataFrame
    quarantine: pd.DataFrame
    checks: pd.DataFrame


def parse_month(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError as exc:
        raise ValueError(f"month {text!r} is not in the form YYYY-MM (e.g. 2026-10)") from exc


def last_full_month(today: dt.date | None = None) -> dt.date:
    today = today or dt.datetime.now(dt.UTC).date()
    first = today.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


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
            "join marts.kpi_definitions d using (kpi_id) where k.month = ? and k.scope_type = ?"
        )
        org = con.execute(base + " order by k.kpi_id", [month, "org"]).df()
        teams = con.execute(base + " order by k.scope, k.kpi_id", [month, "team"]).df()
        definitions = con.execute("select kpi_id, name, unit, definition from marts.kpi_definitions").df()
        quarantine = con.execute(
            "select entity, reason, count(*) as rows from ops.quarantine group by all order by rows desc, entity"
        ).df()
        tables = {
            r[0]
            for r in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
            ).fetchall()
        }
        checks = (
            con.execute(
                "select asset, check_name, expectation, column_name, success, unexpected_count from ops.check_results"
            ).df()
            if "ops.check_results" in tables
            else pd.DataFrame(
                columns=["asset", "check_name", "expectation", "column_name", "success", "unexpected_count"]
            )
        )
    return ReportData(month, org, teams, definitions, quarantine, checks)


def _change_sentence(row: pd.Series) -> str:
    prev = row.get("previous_month_value")
    if prev is None or pd.isna(prev) or pd.isna(row["value"]):
        return "no previous month to compare"
    if prev == 0:
        return "up from 0" if row["value"] > 0 else "unchanged at 0"
    pct = (row["value"] - prev) / abs(prev) * 100
    direction = "up" if pct > 0 else "down" if pct < 0 else "unchanged"
    good = (pct < 0) == (row["better"] == "lower") if pct else None
    verdict = "" if good is None else (" (better)" if good else " (worse)")
    return f"{direction} {abs(pct):.0f}% vs previous month{verdict}"


def render_markdown(data: ReportData) -> str:
    org = data.org.set_index("kpi_id")
    lines = [f"# Platform KPI report — {data.month:%B %Y}", ""]
    lines += ["## Executive summary", ""]
    for kid in DORA_KEYS:
        if kid not in org.index:
            continue
        r = org.loc[kid]
        tier = f", {r['tier']} tier" if isinstance(r["tier"], str) else ""
        met = "" if pd.isna(r["target_met"]) else (", target met" if r["target_met"] else ", target missed")
        lines.append(
            f"- **{r['name']}**: {format_value(r['value'], r['unit'])}{tier}{met}; {_change_sentence(r)} "
            f"(n = {int(r['sample_size'])})."
        )
    met = data.org["target_met"].dropna()
    lines += ["", f"Targets met: {int(met.sum())} of {len(met)} KPIs with a target this month.", ""]
    lines += [
        "## All KPIs (organisation)",
        "",
        "| KPI | Value | Tier | Target | Met | Sample |",
        "|---|---|---|---|---|---|",
    ]
    for _, r in data.org.iterrows():
        target = format_value(r["target"], r["unit"]) if pd.notna(r["target"]) else "—"
        metc = "—" if pd.isna(r["target_met"]) else ("yes" if r["target_met"] else "no")
        lines.append(
            f"| {r['name']} | {format_value(r['value'], r['unit'])} | {r['tier'] if isinstance(r['tier'], str) else '—'} "
            f"| {target} | {metc} | {int(r['sample_size'])} |"
        )
    lines += ["", "## Teams", ""]
    for team, rows in data.teams.groupby("scope", sort=True):
        lines += [f"### {team}", "", "| KPI | Value | Tier | Sample |", "|---|---|---|---|"]
        for _, r in rows[rows["kpi_id"].isin(DORA_KEYS)].iterrows():
            lines.append(
                f"| {r['name']} | {format_value(r['value'], r['unit'])} | "
                f"{r['tier'] if isinstance(r['tier'], str) else '—'} | {int(r['sample_size'])} |"
            )
        lines.append("")
    lines += ["## Data quality", ""]
    total = int(data.quarantine["rows"].sum()) if len(data.quarantine) else 0
    lines.append(f"Quarantined input rows (not counted in any KPI): {total}.")
    for _, r in data.quarantine.head(20).iterrows():
        lines.append(f"- {r['entity']}: {r['reason']} ({int(r['rows'])})")
    failed = data.checks[~data.checks["success"].astype(bool)] if len(data.checks) else data.checks
    lines.append(f"\nData checks: {len(data.checks) - len(failed)} of {len(data.checks)} passed.")
    lines += ["", "## Definitions", ""]
    for _, r in data.definitions.iterrows():
        lines.append(f"- **{r['name']}** (`{r['kpi_id']}`, {r['unit']}): {r['definition']}")
    return "\n".join(lines) + "\n"


def render_html(markdown_text: str, title: str) -> str:
    """A self-contained HTML page from the report's Markdown (headings, lists, tables, bold)."""
    import re

    out = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#1f2937}"
        "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d1d5db;padding:.3rem .6rem}"
        "th{background:#f3f4f6}</style></head><body>",
    ]
    in_table = in_list = False
    for line in markdown_text.splitlines():
        text = html.escape(line)
        text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
        text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
        if line.startswith("|"):
            cells = [c.strip() for c in text.strip("|").split("|")]
            if set(line.replace("|", "").strip()) <= {"-"}:
                continue
            if not in_table:
                out.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in cells) + "</tr>")
                in_table = True
            else:
                out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{text[2:]}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{text[level:].strip()}</h{level}>")
        elif line.strip():
            out.append(f"<p>{text}</p>")
    if in_table:
        out.append("</table>")
    if in_list:
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report(warehouse: Path, month: dt.date, reports_dir: Path) -> dict[str, Path]:
    """Write reports/YYYY-MM/report.md and report.html; re-running a month replaces them atomically."""
    data = load_report_data(warehouse, month)
    markdown_text = render_markdown(data)
    out_dir = reports_dir / f"{month:%Y-%m}"
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, content in (
        ("report.md", markdown_text),
        ("report.html", render_html(markdown_text, f"Platform KPI report {month:%Y-%m}")),
    ):
        tmp = out_dir / f".{name}.tmp"
        tmp.write_text(content)
        os.replace(tmp, out_dir / name)
        paths[name] = out_dir / name
    return paths
