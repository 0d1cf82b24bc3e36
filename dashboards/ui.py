"""Building blocks every page uses: KPI tiles with tier badges, charts with their definition and sample
size, honest empty states, and CSV/Parquet export of every table shown. Presentation only: the numbers
arrive computed from the warehouse."""

from __future__ import annotations

import html
import io
import re
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from platform_kpi.catalog import change, format_value
from platform_kpi.markup import md_code, md_escape

if TYPE_CHECKING:  # plotly is imported by the pages that draw charts, not on every run of the router
    import plotly.graph_objects as go

TIER_COLORS = {"elite": "green", "high": "blue", "medium": "orange", "low": "red"}
TIER_HEX = {"elite": "#15803d", "high": "#2563eb", "medium": "#d97706", "low": "#dc2626"}
ACCENT = "#4f46e5"


def md(text: object) -> str:
    """User data (a team, service, repo or environment name) inside Markdown: shown as typed, never
    a link, emphasis or HTML. Every st.markdown/caption/info/warning text with such a name uses it."""
    return md_escape(text)


def code(text: object) -> str:
    """User data as inline code."""
    return md_code(text)


def plain(text: object) -> str:
    """User data as a Plotly label (axis tick, legend, hover): Plotly reads a few HTML tags, links
    included, so the text is HTML-escaped (Plotly shows the escaped characters as typed)."""
    return html.escape(str(text))


def link_table(frame: pd.DataFrame, link: str, href: str, test_id: str) -> str:
    """A small HTML table of ``frame`` whose ``link`` column links to the address in its ``href``
    column (opened in a new tab). Every cell is HTML-escaped and only an http(s) address becomes a
    link: the text is user data, and a ``javascript:`` address must never be clickable."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns if c != href)
    rows = []
    for record in frame.to_dict("records"):
        cells = []
        for column in frame.columns:
            if column == href:
                continue
            text = html.escape("" if record[column] is None else str(record[column]))
            url = record.get(href) if column == link else None
            if isinstance(url, str) and re.fullmatch(r"https?://[^\s<>\"']+", url):
                text = f"<a href='{html.escape(url)}' target='_blank' rel='noopener noreferrer'>{text}</a>"
            cells.append(f"<td>{text}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f"<table class='link-table' data-testid='{html.escape(test_id)}'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def css() -> None:
    st.markdown(
        """
        <style>
        .block-container {padding-top: 2.2rem; max-width: 1400px;}
        [data-testid="stMetric"] {background: #fafafa;}
        .kpi-sub {color: #4b5563; font-size: 0.85rem; line-height: 1.35;}
        .kpi-def {color: #6b7280; font-size: 0.8rem; margin-top: -0.6rem; margin-bottom: 0.8rem;}
        .kpi-badge {display: inline-block; border-radius: 0.4rem; padding: 0.05rem 0.45rem; margin: 0 0.3rem 0.3rem 0;
                    font-size: 0.78rem; font-weight: 500;}
        .b-elite {background: #dcfce7; color: #15803d;} .b-high {background: #dbeafe; color: #1d4ed8;}
        .b-medium {background: #fef3c7; color: #b45309;} .b-low {background: #fee2e2; color: #b91c1c;}
        .b-none {background: #f3f4f6; color: #6b7280;} .b-met {background: #dcfce7; color: #15803d;}
        .b-missed {background: #fee2e2; color: #b91c1c;}
        .link-table {font-size: 0.82rem; border-collapse: collapse; width: 100%;}
        .link-table th {text-align: left; color: #4b5563; font-weight: 500; border-bottom: 1px solid #e5e7eb;}
        .link-table td, .link-table th {padding: 0.2rem 0.5rem;}
        .link-table tbody tr:nth-child(odd) {background: #fafafa;}
        </style>
        """,
        unsafe_allow_html=True,
    )


def badges(tier: object, met: object, tier_year: int | None = None) -> str:
    """Tier and target badges as one line of HTML (one element per tile keeps reruns light). A tier is
    the cluster of one DORA report year, named with it ('Elite tier · DORA 2024')."""
    if isinstance(tier, str) and tier in TIER_COLORS:
        year = f" · DORA {int(tier_year)}" if tier_year else ""
        out = f"<span class='kpi-badge b-{tier}'>{tier.title()} tier{year}</span>"
    else:
        out = "<span class='kpi-badge b-none' title='No DORA benchmark cluster, or no value'>No tier</span>"
    if met is None or pd.isna(met):
        out += "<span class='kpi-badge b-none'>No target</span>"
    elif bool(met):
        out += "<span class='kpi-badge b-met'>Target met</span>"
    else:
        out += "<span class='kpi-badge b-missed'>Target missed</span>"
    return out


def sparkline_svg(points: list[float]) -> str:
    """A small inline SVG line of the KPI over the range: drawn by the browser with no chart library.
    One neutral colour: whether a move is good is told by the delta, not by the line."""
    if len(points) < 2:
        return ""
    low, high = min(points), max(points)
    span = (high - low) or 1.0
    step = 100 / (len(points) - 1)
    coords = " ".join(f"{i * step:.1f},{28 - (v - low) / span * 24:.1f}" for i, v in enumerate(points))
    color = ACCENT
    return (
        "<svg viewBox='0 0 100 30' preserveAspectRatio='none' style='width:100%;height:34px;display:block'>"
        f"<polyline points='{coords}' fill='none' stroke='{color}' stroke-width='2' "
        "vector-effect='non-scaling-stroke' stroke-linejoin='round'/></svg>"
    )


def kpi_tile(
    row: pd.Series,
    history: pd.DataFrame,
    month_label: str,
    *,
    sparkline: bool = True,
    tier_year: int | None = None,
) -> None:
    """One KPI: value, change vs previous month (delta) and vs the same month last year, sparkline,
    tier and target badges, sample size. ``history`` is the KPI's rows over the selected range."""
    unit, better = row["unit"], row["better"]
    if tier_year is None:
        tier_year = _tier_year()
    # '+3.1 pp' for ratios, '+12%' otherwise; None when there is nothing to compare with
    mom, yoy = (change(row["value"], row[c], unit) for c in ("previous_month_value", "previous_year_value"))
    points = [float(v) for v in history["value"] if pd.notna(v)]  # months without a value are gaps
    st.metric(
        row["name"],
        format_value(row["value"], unit),
        delta=f"{mom.signed()} vs prev. month" if mom else None,
        delta_color="inverse" if better == "lower" else "normal",
        help=f"{row['definition']}",
        border=True,
    )
    target = format_value(row["target"], unit) if pd.notna(row["target"]) else None
    spark = sparkline_svg(points) if sparkline else ""
    st.markdown(
        f"{spark}<div>{badges(row['tier'], row['target_met'], tier_year)}</div><div class='kpi-sub'>{month_label} · n = {int(row['sample_size']):,}<br>"
        f"vs same month last year: {yoy.signed() if yoy else 'no data a year ago'}"
        f"{'<br>target ' + target if target else ''}</div>",
        unsafe_allow_html=True,
    )


def _tier_year() -> int | None:
    """The tiers' DORA report year of the warehouse the page reads (None outside a page)."""
    from dashboards import context, data

    if context.KEY not in st.session_state:
        return None
    return data.tier_year(*context.get().db)


def kpi_tile_row(kpis: pd.DataFrame, month: object, kpi_ids: tuple[str, ...], month_label: str) -> None:
    """One row of KPI tiles for ``month``, each with its trend from ``kpis`` (a KPI absent that month
    leaves its column empty)."""
    focus = kpis[kpis["month"] == pd.Timestamp(month)].set_index("kpi_id", drop=False)
    for col, kid in zip(st.columns(len(kpi_ids)), kpi_ids, strict=True):
        with col:
            if kid in focus.index:
                kpi_tile(focus.loc[kid], kpis[kpis["kpi_id"] == kid], month_label)


def definition(text: str, sample_size: int | float | None, sample_label: str = "n") -> None:
    """The one-line definition under a chart, with the sample size it rests on."""
    n = "" if sample_size is None else f" · {sample_label} = {int(sample_size):,}"
    first = re.split(r"(?<=\.)\s", text.strip(), maxsplit=1)[0]
    st.markdown(f"<div class='kpi-def'>{first}{n}</div>", unsafe_allow_html=True)


def empty(reason: str, *, not_configured: bool = False) -> None:
    """An empty state that says why: no data for this filter, or the source is not configured."""
    if not_configured:
        st.warning(f"**Source not configured.** {reason}", icon=":material/power_off:")
    else:
        st.info(f"**No data for this filter.** {reason}", icon=":material/filter_alt_off:")


def export(frame: pd.DataFrame, name: str, key: str | None = None) -> None:
    """CSV and Parquet downloads of a table exactly as shown, encoded only when clicked."""
    key = key or name
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")

    def parquet() -> bytes:
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()

    c1, c2, _ = st.columns([1, 1, 6])
    c1.download_button(
        "CSV",
        lambda: frame.to_csv(index=False).encode(),
        f"{slug}.csv",
        "text/csv",
        key=f"csv_{key}",
        icon=":material/download:",
        on_click="ignore",
    )
    c2.download_button(
        "Parquet",
        parquet,
        f"{slug}.parquet",
        "application/vnd.apache.parquet",
        key=f"parquet_{key}",
        icon=":material/download:",
        on_click="ignore",
    )


def _axis(unit: str) -> dict:
    if unit == "ratio":
        return {"tickformat": ".0%", "rangemode": "tozero"}
    return {"rangemode": "tozero"}


def trend_chart(series: pd.DataFrame, unit: str, *, title: str | None = None, height: int = 280) -> go.Figure:
    """A KPI's monthly values (markers), with its target as a dotted line when it has one."""
    import plotly.graph_objects as go

    y = series["value"] / 60 if unit == "seconds" else series["value"]
    fig = go.Figure()
    fig.add_scatter(
        x=series["month"],
        y=y,
        mode="lines+markers",
        name="value",
        line={"color": ACCENT, "width": 2.5},
        customdata=series["sample_size"],
        hovertemplate="%{x|%b %Y}: %{y}<br>n = %{customdata}<extra></extra>",
    )
    if "target" in series and series["target"].notna().any():
        target = series["target"] / 60 if unit == "seconds" else series["target"]
        fig.add_scatter(
            x=series["month"], y=target, mode="lines", name="target", line={"dash": "dot", "color": "#9ca3af"}
        )
    yaxis = _axis(unit)
    if unit == "seconds":
        yaxis["title"] = "minutes"
    elif unit == "hours":
        yaxis["title"] = "hours"
    layout(fig, title=title, height=height)
    fig.update_yaxes(**yaxis)
    return fig


def layout(fig: go.Figure, *, title: str | None = None, height: int = 280) -> go.Figure:
    fig.update_layout(
        title={"text": title or "", "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        showlegend=False,
        plot_bgcolor="white",
        hovermode="x unified",
    )
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(gridcolor="#eef0f3")
    return fig


def plot(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, key=key, config={"displayModeBar": False})


def formatted(frame: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    """A copy with the named columns formatted for reading (percentages, hours, minutes)."""
    out = frame.copy()
    for column, unit in units.items():
        out[column] = [format_value(v, unit) for v in out[column]]
    return out
