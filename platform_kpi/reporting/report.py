"""The monthly KPI report for leadership (PDF, HTML, Markdown) for a month, from the published warehouse.

Every number comes from marts.kpi_monthly and every definition from marts.kpi_definitions, so the
report can never disagree with the dashboard or an architect's SQL. The report is built once as a
list of blocks (headings, sentences, tables, charts) and rendered three ways from that one list, so
the PDF, the HTML and the Markdown say the same thing. Charts are static images drawn by matplotlib
(no browser). Pure Python: no Dagster.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from platform_kpi.catalog import change, format_value, read_groups, read_tiers
from platform_kpi.config import DeliveryConfig
from platform_kpi.markup import md_escape, report_tokens
from platform_kpi.reporting.blocks import Block
from platform_kpi.warehouse import read_connection

TIER_HEX = {"elite": "#15803d", "high": "#2563eb", "medium": "#d97706", "low": "#dc2626"}
REPORT_FILES = ("report.pdf", "report.html", "report.md")


# --- data -----------------------------------------------------------------------------------


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
    groups: dict[str, tuple[str, ...]]  # the catalog's KPI groups (marts.kpi_groups), e.g. "dora"
    tiers: tuple[str, ...]  # the DORA tiers, best first

    @property
    def dora(self) -> tuple[str, ...]:
        return self.groups["dora"]


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
    for frame in (org, teams, history):
        frame["month"] = pd.to_datetime(frame["month"])
    return ReportData(
        month, org, teams, history, definitions, quarantine, checks, sources, sync_state, as_of, groups, tiers
    )


# --- the report as blocks -------------------------------------------------------------------




def _prev_label(month: dt.date) -> str:
    return f"{(pd.Timestamp(month) - pd.DateOffset(months=1)):%B %Y}"


def _move(value: float, before: float, unit: str, better: str, *, compact: bool = False) -> tuple[float, str] | None:
    """(size used to rank movers, phrase like 'up 12% (worse)'); None when there is no baseline."""
    moved = change(value, before, unit)
    phrase = moved.words(better, compact=compact) if moved else None
    return (moved.size, phrase) if phrase else None


def _tier_text(tier: object) -> str:
    return f"{tier} tier" if isinstance(tier, str) else "no DORA tier"


def _target_text(row: pd.Series) -> str:
    if pd.isna(row["target_met"]):
        return ""
    target = format_value(row["target"], row["unit"])
    return f"target {target} {'met' if row['target_met'] else 'missed'}"


def summary_sentences(data: ReportData) -> list[str]:
    """The executive summary in plain sentences, generated from the numbers."""
    org = data.org.set_index("kpi_id")
    month, prev = f"{data.month:%B %Y}", _prev_label(data.month)
    out = []
    for kid in data.dora:
        if kid not in org.index:
            continue
        r = org.loc[kid]
        if int(r["sample_size"]) == 0 and r["unit"] != "deployments":
            out.append(f"{r['name']}: no value in {month} (nothing to measure).")
            continue
        mom = _move(r["value"], r["previous_month_value"], r["unit"], r["better"])
        target = _target_text(r)
        out.append(
            f"{r['name']} was **{format_value(r['value'], r['unit'])}** in {month} ({_tier_text(r['tier'])}"
            f"{', ' + target if target else ''}), "
            + (f"{mom[1]} on {prev}" if mom else f"with no value for {prev} to compare")
            + f"; n = {int(r['sample_size']):,}."
        )
    met = data.org.dropna(subset=["target_met"])
    if len(met):
        missed = met[~met["target_met"].astype(bool)]
        sentence = f"{int(met['target_met'].astype(bool).sum())} of {len(met)} KPIs with a target met it in {month}"
        if len(missed):
            sentence += "; missed: " + "; ".join(
                f"{r['name']} ({format_value(r['value'], r['unit'])} against {format_value(r['target'], r['unit'])})"
                for _, r in missed.iterrows()
            )
        out.append(sentence + ".")
    for label, column, when in (
        ("month over month", "previous_month_value", f"since {prev}"),
        ("year over year", "previous_year_value", f"since {(pd.Timestamp(data.month) - pd.DateOffset(years=1)):%B %Y}"),
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
        best = tiers.groupby("scope")["tier"].apply(lambda s: (s == "elite").sum()).sort_values(ascending=False)
        worst = tiers.groupby("scope")["tier"].apply(lambda s: (s == "low").sum()).sort_values(ascending=False)
        parts = []
        if best.iloc[0] > 0:
            top = best[best == best.iloc[0]].index.tolist()
            count = "all four" if best.iloc[0] == 4 else f"{best.iloc[0]} of the four"
            parts.append(f"{', '.join(map(md_escape, top))} {'is' if len(top) == 1 else 'are'} elite on {count} DORA keys")
        if worst.iloc[0] > 0:
            low = worst[worst == worst.iloc[0]].index.tolist()
            count = "all four" if worst.iloc[0] == 4 else f"{worst.iloc[0]} of the four"
            parts.append(f"{', '.join(map(md_escape, low))} {'is' if len(low) == 1 else 'are'} low on {count}")
        if parts:
            out.append("Across teams, " + "; ".join(parts) + ".")
    return out


def build_blocks(data: ReportData, charts: dict[str, Path]) -> list[Block]:
    month = f"{data.month:%B %Y}"
    blocks = [Block("heading", f"Platform KPI report — {month}", level=1)]
    generated = f"{data.as_of:%Y-%m-%d %H:%M} UTC" if data.as_of is not None else "unknown"
    blocks.append(
        Block("paragraph", f"Month {data.month:%Y-%m} (UTC). Data as of the pipeline run at {generated}. "
              "Every number is read from marts.kpi_monthly; production deployments only.")
    )
    blocks.append(Block("heading", "Executive summary"))
    blocks.append(Block("bullets", items=summary_sentences(data)))
    if "dora_trends" in charts:
        blocks.append(Block("image", "DORA keys, last 12 months (organisation)", image=charts["dora_trends"]))

    blocks.append(Block("heading", "All KPIs (organisation)"))
    rows = []
    for _, r in data.org.iterrows():
        target = format_value(r["target"], r["unit"]) if pd.notna(r["target"]) else "—"
        met = "—" if pd.isna(r["target_met"]) else ("met" if r["target_met"] else "missed")
        mom = _move(r["value"], r["previous_month_value"], r["unit"], r["better"], compact=True)
        rows.append([
            r["name"], format_value(r["value"], r["unit"]), r["tier"] if isinstance(r["tier"], str) else "—",
            target, met, mom[1].split(" (")[0] if mom else "—", f"{int(r['sample_size']):,}",
        ])
    blocks.append(Block("table", header=["KPI", "Value", "Tier", "Target", "Met", "vs prev. month", "Sample"], rows=rows))

    blocks.append(Block("heading", "Teams"))
    if "team_tiers" in charts:
        blocks.append(Block("image", f"DORA tier by team, {month}", image=charts["team_tiers"]))
    for team, part in data.teams.groupby("scope", sort=True):
        blocks.append(Block("heading", team, level=3))
        part = part.set_index("kpi_id")
        sentences = []
        for kid in data.dora:
            if kid in part.index:
                r = part.loc[kid]
                mom = _move(r["value"], r["previous_month_value"], r["unit"], r["better"], compact=True)
                sentences.append(
                    f"{r['name']} {format_value(r['value'], r['unit'])} ({_tier_text(r['tier'])}"
                    + (f", {mom[1]}" if mom else "") + ")"
                )
        blocks.append(Block("paragraph", "; ".join(sentences) + "."))
        rows = []
        for kid in (*data.dora, *data.groups["team_comparison"]):
            if kid in part.index:
                r = part.loc[kid]
                met = "—" if pd.isna(r["target_met"]) else ("met" if r["target_met"] else "missed")
                rows.append([
                    r["name"], format_value(r["value"], r["unit"]),
                    format_value(r["previous_month_value"], r["unit"]),
                    r["tier"] if isinstance(r["tier"], str) else "—", met, f"{int(r['sample_size']):,}",
                ])
        blocks.append(Block("table", header=["KPI", "Value", "Prev. month", "Tier", "Target", "Sample"], rows=rows))

    blocks.append(Block("heading", "Appendix: data quality"))
    blocks.append(Block("heading", "Sources and freshness", level=3))
    if data.sync_state is None or data.sync_state.empty:
        blocks.append(Block("paragraph", "No source connector has synced into this warehouse (ops.sync_state is "
                            f"{'absent' if data.sync_state is None else 'empty'}): the data came from file imports."))
    else:
        cols = list(data.sync_state.columns)
        blocks.append(Block("table", header=cols, rows=[[_cell(v) for v in row] for row in data.sync_state.itertuples(index=False)]))
    month_end = pd.Timestamp(data.month) + pd.DateOffset(months=1)
    rows = []
    for _, r in data.sources.iterrows():
        newest = r["newest_event"]
        fresh = "no rows" if pd.isna(newest) else (
            "covers the whole month" if newest >= month_end - pd.Timedelta(days=1) else
            f"ends {(month_end - newest).days} days before month end"
        )
        rows.append([r["table_name"], r["source"], f"{int(r['rows']):,}", _cell(newest), fresh])
    blocks.append(Block("table", header=["Table", "Source", "Rows", "Newest event", "Freshness"], rows=rows))
    blocks.append(Block("heading", "Quarantined input rows", level=3))
    total = int(data.quarantine["rows"].sum()) if len(data.quarantine) else 0
    blocks.append(Block("paragraph", f"Quarantined input rows (not counted in any KPI): {total}."))
    if total:
        blocks.append(Block("table", header=["Entity", "Reason", "Rows"],
                            rows=[[r["entity"], r["reason"], str(int(r["rows"]))] for _, r in data.quarantine.head(30).iterrows()]))
    blocks.append(Block("heading", "Data checks", level=3))
    failed = data.checks[~data.checks["success"].astype(bool)] if len(data.checks) else data.checks
    blocks.append(Block("paragraph", f"Data checks: {len(data.checks) - len(failed)} of {len(data.checks)} passed."))
    if len(failed):
        blocks.append(Block("table", header=["Asset", "Expectation", "Column", "Unexpected"],
                            rows=[[r["asset"], r["expectation"], _cell(r["column_name"]), _cell(r["unexpected_count"])]
                                  for _, r in failed.iterrows()]))

    blocks.append(Block("heading", "Appendix: definitions"))
    blocks.append(Block("bullets", items=[
        f"**{r['name']}** ({r['kpi_id']}, {r['unit']}): {r['definition']}" for _, r in data.definitions.iterrows()
    ]))
    return blocks


def _cell(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, pd.Timestamp | dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value)


# --- charts ---------------------------------------------------------------------------------


def render_charts(data: ReportData, out_dir: Path) -> dict[str, Path]:
    """Static PNG charts (matplotlib, no browser): the DORA trends and the team tier heat-map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    out_dir.mkdir(parents=True, exist_ok=True)
    charts = {}
    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False})

    fig, axes = plt.subplots(2, 2, figsize=(9, 5.2), dpi=150)
    for ax, kid in zip(axes.flat, data.dora, strict=True):
        series = data.history[data.history["kpi_id"] == kid]
        if series.empty:
            ax.set_axis_off()
            continue
        unit = series["unit"].iloc[0]
        scale = 100 if unit == "ratio" else 1
        ax.plot(series["month"], series["value"] * scale, marker="o", color="#4f46e5", linewidth=2)
        if series["target"].notna().any():
            ax.plot(series["month"], series["target"] * scale, linestyle=":", color="#9ca3af", label="target")
        ax.set_title(series["name"].iloc[0], fontsize=10, loc="left")
        ax.set_ylim(bottom=0)
        ax.set_ylabel({"ratio": "%", "hours": "hours", "deployments": "deployments"}.get(unit, unit))
        ax.tick_params(axis="x", labelrotation=30)
        ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%b %y"))
        ax.grid(axis="y", color="#eef0f3")
    fig.tight_layout()
    charts["dora_trends"] = out_dir / "dora_trends.png"
    fig.savefig(charts["dora_trends"])
    plt.close(fig)

    tiered_keys = data.groups["dora_tiers"]
    tiered = data.teams[data.teams["kpi_id"].isin(tiered_keys)]
    if len(tiered):
        teams = sorted(tiered["scope"].unique())
        rank = {t: i for i, t in enumerate(data.tiers)}
        names = [data.definitions.set_index("kpi_id").loc[k, "name"] for k in tiered_keys]
        grid = tiered.pivot(index="scope", columns="kpi_id", values="tier").reindex(index=teams, columns=list(tiered_keys))
        values = tiered.pivot(index="scope", columns="kpi_id", values="value").reindex(index=teams, columns=list(tiered_keys))
        units = tiered.drop_duplicates("kpi_id").set_index("kpi_id")["unit"]
        z = grid.apply(lambda col: col.map(lambda t: rank.get(t, float("nan")))).astype(float)
        fig, ax = plt.subplots(figsize=(9, 0.45 * len(teams) + 1.4), dpi=150)
        cmap = ListedColormap([TIER_HEX[t] for t in data.tiers]).with_extremes(bad="#e5e7eb")
        ax.imshow(z.values, cmap=cmap, vmin=-0.5, vmax=3.5, aspect="auto")
        for i, team in enumerate(teams):
            for j, kid in enumerate(tiered_keys):
                v = values.loc[team, kid]
                label = "no data" if pd.isna(v) else f"{format_value(v, units[kid])}\n{grid.loc[team, kid] or 'no tier'}"
                ax.text(j, i, label, ha="center", va="center", fontsize=7,
                        color="white" if pd.notna(z.loc[team, kid]) else "#374151")
        ax.set_xticks(range(len(names)), [n.replace(" (median)", "\n(median)") for n in names], fontsize=8)
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(teams)), teams)
        for spine in ax.spines.values():
            spine.set_visible(False)
        fig.tight_layout()
        charts["team_tiers"] = out_dir / "team_tiers.png"
        fig.savefig(charts["team_tiers"])
        plt.close(fig)
    return charts


# --- renderers ------------------------------------------------------------------------------


def render_markdown(blocks: list[Block], chart_dir_name: str = "charts") -> str:
    """Paragraphs and bullets are report text already (Markdown, names escaped); headings, table cells
    and captions are plain text and are escaped here."""
    lines: list[str] = []
    for b in blocks:
        if b.kind == "heading":
            lines += ["#" * b.level + " " + md_escape(b.text), ""]
        elif b.kind == "paragraph":
            lines += [b.text, ""]
        elif b.kind == "bullets":
            lines += [f"- {item}" for item in b.items] + [""]
        elif b.kind == "table":
            lines.append("| " + " | ".join(md_escape(h) for h in b.header) + " |")
            lines.append("|" + "---|" * len(b.header))
            lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in b.rows]
            lines.append("")
        elif b.kind == "image" and b.image is not None:
            lines += [f"![{md_escape(b.text)}]({chart_dir_name}/{b.image.name})", ""]
    return "\n".join(lines).rstrip() + "\n"


def _inline_html(text: str) -> str:
    """Report text (its own **bold**, escaped names) as HTML: every character of a name is text."""
    out, bold = [], False
    for kind, value in report_tokens(text):
        if kind == "bold":
            out.append("</strong>" if bold else "<strong>")
            bold = not bold
        else:
            out.append(html.escape(value))
    return "".join(out) + ("</strong>" if bold else "")


def _pdf_markdown(text: str) -> str:
    """Report text in fpdf2's markdown: the report's **bold** stays, a name's markers are escaped."""
    out = []
    for kind, value in report_tokens(text):
        if kind == "bold":
            out.append("**")
        else:
            plain = value.replace("\\", "\\\\")
            out.append(re.sub(r"(\*\*|__|~~|--)", r"\\\1", plain))
    return "".join(out)


def render_html(blocks: list[Block], title: str) -> str:
    """A self-contained page (charts embedded), readable in a mail client."""
    out = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:62rem;margin:2rem auto;"
        "padding:0 1rem;color:#1f2937;line-height:1.45}h1{color:#111827}h2{border-bottom:2px solid #e5e7eb;"
        "padding-bottom:.2rem;margin-top:2rem}table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}"
        "td,th{border:1px solid #e5e7eb;padding:.3rem .6rem;text-align:left}th{background:#f3f4f6}"
        "img{max-width:100%;border:1px solid #f3f4f6}figcaption{color:#6b7280;font-size:.85rem}</style>"
        "</head><body>",
    ]
    for b in blocks:
        if b.kind == "heading":
            out.append(f"<h{b.level}>{html.escape(b.text)}</h{b.level}>")
        elif b.kind == "paragraph":
            out.append(f"<p>{_inline_html(b.text)}</p>")
        elif b.kind == "bullets":
            out.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "table":
            out.append(
                "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in b.header) + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in b.rows)
                + "</table>"
            )
        elif b.kind == "image" and b.image is not None:
            data = base64.b64encode(b.image.read_bytes()).decode()
            out.append(
                f"<figure><img alt='{html.escape(b.text)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{html.escape(b.text)}</figcaption></figure>"
            )
    out.append("</body></html>")
    return "\n".join(out)


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def render_pdf(blocks: list[Block], path: Path, title: str) -> None:
    """An A4 PDF (fpdf2) of the blocks, with a Unicode font shipped by matplotlib."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    # fpdf2's markdown turns [text](url) into a link; the report has none of its own, so a name never does
    pdf.MARKDOWN_LINK_REGEX = re.compile(r"(?!)")
    pdf.set_title(title)
    pdf.set_author("Platform KPI pipeline")
    fonts = _font_dir()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(15, 15, 15)

    def footer() -> None:
        pdf.set_y(-12)
        pdf.set_font("DejaVu", "", 7)
        pdf.set_text_color(120, 120, 120)
        pdf.cell(0, 5, f"{title} · page {pdf.page_no()}", align="C")
        pdf.set_text_color(31, 41, 55)

    pdf.footer = footer  # type: ignore[method-assign]
    pdf.add_page()
    pdf.set_text_color(31, 41, 55)
    width = pdf.epw
    for b in blocks:
        if b.kind == "heading":
            size = {1: 18, 2: 14, 3: 11}.get(b.level, 11)
            if (b.level == 2 and pdf.get_y() > 230) or (b.level == 3 and pdf.get_y() > 225):
                pdf.add_page()  # keep a heading with what follows it
            pdf.ln(3 if b.level > 1 else 0)
            pdf.set_font("DejaVu", "B", size)
            pdf.multi_cell(width, size * 0.5, b.text, new_x="LMARGIN", new_y="NEXT")
            if b.level == 2:
                pdf.set_draw_color(229, 231, 235)
                pdf.line(pdf.l_margin, pdf.get_y() + 0.5, pdf.l_margin + width, pdf.get_y() + 0.5)
            pdf.ln(2)
        elif b.kind == "paragraph":
            pdf.set_font("DejaVu", "", 9)
            pdf.multi_cell(width, 4.6, _pdf_markdown(b.text), markdown=True, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
        elif b.kind == "bullets":
            pdf.set_font("DejaVu", "", 9)
            for item in b.items:
                pdf.set_x(pdf.l_margin + 2)
                pdf.multi_cell(width - 2, 4.6, f"•  {_pdf_markdown(item)}", markdown=True, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(0.8)
            pdf.ln(1)
        elif b.kind == "table":
            pdf.set_font("DejaVu", "", 7.5)
            headings = FontFace(emphasis="BOLD", fill_color=(243, 244, 246))
            widths = (3.2, *([1.4] * (len(b.header) - 1))) if len(b.header) > 3 else None
            with pdf.table(
                col_widths=widths,
                headings_style=headings, line_height=4.2, borders_layout="HORIZONTAL_LINES",
                text_align="LEFT", first_row_as_headings=True, padding=1,
            ) as table:
                for row in [b.header, *b.rows]:
                    cells = table.row()
                    for c in row:
                        cells.cell(c)
            pdf.ln(2)
        elif b.kind == "image" and b.image is not None:
            from PIL import Image

            with Image.open(b.image) as im:
                w, h = im.size
            img_w = width
            img_h = img_w * h / w
            if pdf.get_y() + img_h > pdf.h - 18:
                pdf.add_page()
            pdf.image(str(b.image), w=img_w)
            pdf.set_font("DejaVu", "", 7.5)
            pdf.set_text_color(107, 114, 128)
            pdf.multi_cell(width, 4, b.text, new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(31, 41, 55)
            pdf.ln(2)
    pdf.output(str(path))


# --- writing --------------------------------------------------------------------------------


def write_report(warehouse: Path, month: dt.date, reports_dir: Path) -> dict[str, Path]:
    """Write reports/YYYY-MM/ (report.pdf, report.html, report.md, charts/); a re-run replaces the folder.

    The new folder is built beside the old one and swapped in, so a reader never sees half a report.
    """
    data = load_report_data(warehouse, month)
    reports_dir.mkdir(parents=True, exist_ok=True)
    final = reports_dir / f"{month:%Y-%m}"
    work = reports_dir / f".{month:%Y-%m}.{os.getpid()}.tmp"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        charts = render_charts(data, work / "charts")
        blocks = build_blocks(data, charts)
        from platform_kpi.reporting.costs import cost_section  # costs go before the appendices

        at = next((i for i, b in enumerate(blocks) if b.kind == "heading" and b.text.startswith("Appendix")), len(blocks))
        blocks[at:at] = cost_section(warehouse, month)
        title = f"Platform KPI report {month:%Y-%m}"
        (work / "report.md").write_text(render_markdown(blocks))
        (work / "report.html").write_text(render_html(blocks, title))
        render_pdf(blocks, work / "report.pdf", title)
        old = reports_dir / f".{month:%Y-%m}.{os.getpid()}.old"
        if final.exists():
            os.replace(final, old)
        os.replace(work, final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    paths = {name: final / name for name in REPORT_FILES}
    paths.update({f"charts/{p.name}": final / "charts" / p.name for p in charts.values()})
    return paths


# --- delivery -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryResult:
    target: str  # "webhook (ENV_NAME)" or the directory
    ok: bool
    detail: str


def webhook_message(report_dir: Path, month: dt.date) -> dict:
    """A Slack/Teams-compatible incoming-webhook payload: {"text": ...} with the executive summary."""
    text = (report_dir / "report.md").read_text()
    section = text.split("## Executive summary", 1)[-1].split("\n## ", 1)[0]
    bullets = [line for line in section.splitlines() if line.startswith("- ")]
    body = "\n".join(bullets)
    return {
        "text": f"*Platform KPI report — {month:%B %Y}*\n{body}\n"
        f"Full report (PDF, HTML, Markdown): {report_dir.resolve()}"
    }


def deliver_report(report_dir: Path, month: dt.date, config: DeliveryConfig) -> list[DeliveryResult]:
    """Send a written report to the configured webhook and/or directory. Never raises: a failure is
    returned (and the report stays in ``report_dir``)."""
    import httpx

    results: list[DeliveryResult] = []
    if config.webhook_url:
        target = f"webhook (${config.webhook_env})"
        try:
            response = httpx.post(config.webhook_url.reveal(), json=webhook_message(report_dir, month),
                                  timeout=config.timeout_seconds)
            ok = 200 <= response.status_code < 300
            results.append(DeliveryResult(target, ok, f"HTTP {response.status_code}"
                                          + ("" if ok else f": {response.text[:200]}")))
        except httpx.HTTPError as exc:  # the message may hold the URL: keep only the kind of error
            results.append(DeliveryResult(target, False, f"{type(exc).__name__}: could not reach the webhook"))
    if config.directory:
        target = str(config.directory)
        try:
            dest = config.directory / report_dir.name
            tmp = config.directory / f".{report_dir.name}.{os.getpid()}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            config.directory.mkdir(parents=True, exist_ok=True)
            shutil.copytree(report_dir, tmp)
            if dest.exists():
                shutil.rmtree(dest)
            os.replace(tmp, dest)
            results.append(DeliveryResult(target, True, f"copied to {dest}"))
        except OSError as exc:
            results.append(DeliveryResult(target, False, f"{type(exc).__name__}: {exc.strerror or exc}"))
    return results
