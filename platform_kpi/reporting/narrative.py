"""The report as blocks (headings, sentences, tables, charts): the executive summary's sentences,
the KPI tables, the movers and the appendices, in the order a reader meets them. Written once and
rendered three ways (reporting.render), so the PDF, the HTML and the Markdown say the same thing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from platform_kpi.catalog import change, format_value
from platform_kpi.markup import md_escape
from platform_kpi.quick_check import CAUTION, quick_check_table
from platform_kpi.reporting.blocks import Block
from platform_kpi.reporting.data import ReportData


def _prev_label(month: dt.date) -> str:
    return f"{(pd.Timestamp(month) - pd.DateOffset(months=1)):%B %Y}"


def _move(
    value: float, before: float, unit: str, better: str, *, compact: bool = False
) -> tuple[float, str] | None:
    """(size used to rank movers, phrase like 'up 12% (worse)'); None when there is no baseline."""
    moved = change(value, before, unit)
    phrase = moved.words(better, compact=compact) if moved else None
    return (moved.size, phrase) if phrase else None


def _tier_text(tier: object, year: int | None = None) -> str:
    """'elite tier, DORA 2024': tiers are the clusters of one report year, named with it."""
    if not isinstance(tier, str):
        return "no DORA tier"
    return f"{tier} tier, DORA {year}" if year else f"{tier} tier"


def _tier_header(data: ReportData) -> str:
    return f"Tier (DORA {data.tier_year})" if data.tier_year else "Tier"


GROUP_NAMES = {"throughput": "Throughput", "instability": "Instability"}


def quick_check_blocks(data: ReportData) -> list[Block]:
    """The Quick Check section: the organisation's scores with their spread and DORA's caution."""
    frame = data.quick_check
    blocks = [Block("heading", "Throughput and instability: DORA Quick Check scores")]
    if frame is None or frame.empty:
        return [
            *blocks,
            Block("paragraph", "No Quick Check scores in this warehouse (rebuild it to add them)."),
        ]
    bench = frame.dropna(subset=["benchmark_edition"])
    where = (
        f"DORA's {int(bench['benchmark_edition'].iloc[0])} Quick Check benchmark, industry "
        f"{bench['industry'].iloc[0]}"
        + (f", organisation size {bench['org_size'].iloc[0]}" if bench["org_size"].notna().any() else "")
        if len(bench)
        else "no benchmark"
    )
    blocks.append(
        Block(
            "paragraph",
            f"{CAUTION} Scores use DORA's 0-10 scale (10 best); the benchmark position compares the score "
            f"with {where}, assuming a normal distribution of its mean and standard deviation.",
        )
    )
    names = dict(zip(data.definitions["kpi_id"], data.definitions["name"], strict=True))
    header, rows = quick_check_table(frame, names)
    blocks.append(Block("table", header=header, rows=rows))
    return blocks


def _target_text(row: pd.Series) -> str:
    if pd.isna(row["target_met"]):
        return ""
    target = format_value(row["target"], row["unit"])
    return f"target {target} {'met' if row['target_met'] else 'missed'}"


def _key_sentence(r: pd.Series, data: ReportData, month: str, prev: str) -> str:
    if int(r["sample_size"]) == 0 and r["unit"] != "deployments":
        return f"{r['name']}: no value in {month} (nothing to measure)."
    mom = _move(r["value"], r["previous_month_value"], r["unit"], r["better"])
    target = _target_text(r)
    return (
        f"{r['name']} was **{format_value(r['value'], r['unit'])}** in {month} "
        f"({_tier_text(r['tier'], data.tier_year)}"
        f"{', ' + target if target else ''}), "
        + (f"{mom[1]} on {prev}" if mom else f"with no value for {prev} to compare")
        + f"; n = {int(r['sample_size']):,}."
    )


def summary_sentences(data: ReportData) -> list[str]:
    """The executive summary in plain sentences, generated from the numbers."""
    org = data.org.set_index("kpi_id")
    month, prev = f"{data.month:%B %Y}", _prev_label(data.month)
    out = []
    for group in ("throughput", "instability"):
        for kid in data.groups[group]:
            if kid in org.index:
                out.append(f"{GROUP_NAMES[group]}: " + _key_sentence(org.loc[kid], data, month, prev))
    met = data.org.dropna(subset=["target_met"])
    if len(met):
        missed = met[~met["target_met"].astype(bool)]
        sentence = (
            f"{int(met['target_met'].astype(bool).sum())} of {len(met)} KPIs with a target met it in {month}"
        )
        if len(missed):
            sentence += "; missed: " + "; ".join(
                f"{r['name']} ({format_value(r['value'], r['unit'])} against {format_value(r['target'], r['unit'])})"
                for _, r in missed.iterrows()
            )
        out.append(sentence + ".")
    for label, column, when in (
        ("month over month", "previous_month_value", f"since {prev}"),
        (
            "year over year",
            "previous_year_value",
            f"since {(pd.Timestamp(data.month) - pd.DateOffset(years=1)):%B %Y}",
        ),
    ):
        moves = []
        for _, r in data.org.iterrows():
            change = _move(r["value"], r[column], r["unit"], r["better"])
            if change and change[0] > 0:
                moves.append((change[0], f"{r['name']} {change[1]}"))
        moves.sort(key=lambda m: -m[0])
        if moves:
            out.append(f"Biggest movers {label} ({when}): " + "; ".join(m[1] for m in moves[:3]) + ".")
        else:
            out.append(f"No {label} comparison: the warehouse has no values {when.replace('since', 'for')}.")
    tiers = data.teams[data.teams["kpi_id"].isin(data.dora)].dropna(subset=["tier"])
    if len(tiers):
        best = (
            tiers.groupby("scope")["tier"].apply(lambda s: (s == "elite").sum()).sort_values(ascending=False)
        )
        worst = (
            tiers.groupby("scope")["tier"].apply(lambda s: (s == "low").sum()).sort_values(ascending=False)
        )
        parts = []
        if best.iloc[0] > 0:
            top = best[best == best.iloc[0]].index.tolist()
            count = "all four" if best.iloc[0] == 4 else f"{best.iloc[0]} of the four"
            parts.append(
                f"{', '.join(map(md_escape, top))} {'is' if len(top) == 1 else 'are'} elite on {count} tiered "
                f"DORA metrics (DORA {data.tier_year} clusters)"
            )
        if worst.iloc[0] > 0:
            low = worst[worst == worst.iloc[0]].index.tolist()
            count = "all four" if worst.iloc[0] == 4 else f"{worst.iloc[0]} of the four"
            parts.append(
                f"{', '.join(map(md_escape, low))} {'is' if len(low) == 1 else 'are'} low on {count}"
            )
        if parts:
            out.append("Across teams, " + "; ".join(parts) + ".")
    return out


def build_blocks(data: ReportData, charts: dict[str, Path]) -> list[Block]:
    month = f"{data.month:%B %Y}"
    blocks = [Block("heading", f"Platform KPI report — {month}", level=1)]
    generated = f"{data.as_of:%Y-%m-%d %H:%M} UTC" if data.as_of is not None else "unknown"
    blocks.append(
        Block(
            "paragraph",
            f"Month {data.month:%Y-%m} (UTC). Data as of the pipeline run at {generated}. "
            "Every number is read from marts.kpi_monthly; production deployments only.",
        )
    )
    blocks.append(Block("heading", "Executive summary"))
    blocks.append(Block("bullets", items=summary_sentences(data)))
    blocks += quick_check_blocks(data)
    if "dora_trends" in charts:
        blocks.append(
            Block(
                "image",
                "DORA's five metrics, last 12 months (organisation): throughput above, instability below",
                image=charts["dora_trends"],
            )
        )

    blocks.append(Block("heading", "All KPIs (organisation)"))
    rows = []
    for _, r in data.org.iterrows():
        target = format_value(r["target"], r["unit"]) if pd.notna(r["target"]) else "—"
        met = "—" if pd.isna(r["target_met"]) else ("met" if r["target_met"] else "missed")
        mom = _move(r["value"], r["previous_month_value"], r["unit"], r["better"], compact=True)
        rows.append(
            [
                r["name"],
                format_value(r["value"], r["unit"]),
                r["tier"] if isinstance(r["tier"], str) else "—",
                target,
                met,
                mom[1].split(" (")[0] if mom else "—",
                f"{int(r['sample_size']):,}",
            ]
        )
    blocks.append(
        Block(
            "table",
            header=["KPI", "Value", _tier_header(data), "Target", "Met", "vs prev. month", "Sample"],
            rows=rows,
        )
    )

    blocks.append(Block("heading", "Teams"))
    if "team_tiers" in charts:
        blocks.append(
            Block(
                "image",
                f"DORA tier by team, {month} (DORA {data.tier_year} clusters)",
                image=charts["team_tiers"],
            )
        )
    for team, part in data.teams.groupby("scope", sort=True):
        blocks.append(Block("heading", team, level=3))
        part = part.set_index("kpi_id")
        sentences = []
        for kid in data.dora:
            if kid in part.index:
                r = part.loc[kid]
                mom = _move(r["value"], r["previous_month_value"], r["unit"], r["better"], compact=True)
                sentences.append(
                    f"{r['name']} {format_value(r['value'], r['unit'])} ({_tier_text(r['tier'], data.tier_year)}"
                    + (f", {mom[1]}" if mom else "")
                    + ")"
                )
        blocks.append(Block("paragraph", "; ".join(sentences) + "."))
        rows = []
        for kid in dict.fromkeys((*data.dora, *data.groups["team_comparison"])):
            if kid in part.index:
                r = part.loc[kid]
                met = "—" if pd.isna(r["target_met"]) else ("met" if r["target_met"] else "missed")
                rows.append(
                    [
                        r["name"],
                        format_value(r["value"], r["unit"]),
                        format_value(r["previous_month_value"], r["unit"]),
                        r["tier"] if isinstance(r["tier"], str) else "—",
                        met,
                        f"{int(r['sample_size']):,}",
                    ]
                )
        blocks.append(
            Block(
                "table",
                header=["KPI", "Value", "Prev. month", _tier_header(data), "Target", "Sample"],
                rows=rows,
            )
        )

    blocks.append(Block("heading", "Appendix: data quality"))
    blocks.append(Block("heading", "Sources and freshness", level=3))
    if data.sync_state is None or data.sync_state.empty:
        blocks.append(
            Block(
                "paragraph",
                "No source connector has synced into this warehouse (ops.sync_state is "
                f"{'absent' if data.sync_state is None else 'empty'}): the data came from file imports.",
            )
        )
    else:
        cols = list(data.sync_state.columns)
        blocks.append(
            Block(
                "table",
                header=cols,
                rows=[[_cell(v) for v in row] for row in data.sync_state.itertuples(index=False)],
            )
        )
    month_end = pd.Timestamp(data.month) + pd.DateOffset(months=1)
    rows = []
    for _, r in data.sources.iterrows():
        newest = r["newest_event"]
        fresh = (
            "no rows"
            if pd.isna(newest)
            else (
                "covers the whole month"
                if newest >= month_end - pd.Timedelta(days=1)
                else f"ends {(month_end - newest).days} days before month end"
            )
        )
        rows.append([r["table_name"], r["source"], f"{int(r['rows']):,}", _cell(newest), fresh])
    blocks.append(Block("table", header=["Table", "Source", "Rows", "Newest event", "Freshness"], rows=rows))
    blocks.append(Block("heading", "Quarantined input rows", level=3))
    total = int(data.quarantine["rows"].sum()) if len(data.quarantine) else 0
    blocks.append(Block("paragraph", f"Quarantined input rows (not counted in any KPI): {total}."))
    if total:
        blocks.append(
            Block(
                "table",
                header=["Entity", "Reason", "Rows"],
                rows=[
                    [r["entity"], r["reason"], str(int(r["rows"]))]
                    for _, r in data.quarantine.head(30).iterrows()
                ],
            )
        )
    blocks.append(Block("heading", "Data checks", level=3))
    failed = data.checks[~data.checks["success"].astype(bool)] if len(data.checks) else data.checks
    blocks.append(
        Block("paragraph", f"Data checks: {len(data.checks) - len(failed)} of {len(data.checks)} passed.")
    )
    if len(failed):
        blocks.append(
            Block(
                "table",
                header=["Asset", "Expectation", "Column", "Unexpected"],
                rows=[
                    [r["asset"], r["expectation"], _cell(r["column_name"]), _cell(r["unexpected_count"])]
                    for _, r in failed.iterrows()
                ],
            )
        )

    blocks.append(Block("heading", "Appendix: definitions"))
    blocks.append(
        Block(
            "bullets",
            items=[
                f"**{r['name']}** ({r['kpi_id']}, {r['unit']}): {r['definition']}"
                for _, r in data.definitions.iterrows()
            ],
        )
    )
    return blocks


def _cell(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, pd.Timestamp | dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value)
