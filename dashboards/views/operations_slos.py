"""The SLO section of the Operations & experience page: each platform SLO's attainment and remaining
error budget for the month (marts.slo_monthly), and the platform_slo_attainment trend against its
target. Read-only; draws nothing on import."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboards import data, ui
from dashboards.data import TTL, query
from platform_kpi.reporting.slos import SLO_KPIS

KPI = "platform_slo_attainment"
#: the SLO KPIs of the operations group: this section shows them (the page's trend row leaves them out)
KPIS = SLO_KPIS


@st.cache_data(ttl=TTL, show_spinner=False)
def slo_month(
    path: str, version: float, team: str | None, service: str | None, month: dt.date
) -> pd.DataFrame:
    """Platform SLOs of the scope in ``month``, worst remaining error budget first."""
    return query(
        path,
        "select name as slo, service, team, objective, slo_attainment, slo_error_budget_remaining, coverage, "
        "status, total_events from marts.slo_monthly "
        "where is_platform and (? is null or team = ?) and (? is null or service = ?) and month = ? "
        "order by slo_error_budget_remaining nulls first, name",
        [team, team, service, service, month],
    )


def draw(ctx) -> None:
    """Draw the section for the page's filters (scope and month)."""
    f = ctx.filters
    st.markdown(f"### Platform SLOs · {f.month_label()}")
    if data.table_rows(*ctx.db).get("core.slos", 0) == 0:
        ui.empty(
            "No SLOs have been loaded (OpenSLO or Sloth spec files under `<files>/slos` or config/kpi.yaml "
            "`slos.paths`; config `slos.platform` says which are platform SLOs).",
            not_configured=True,
        )
        return
    kpis = data.kpi_series(*ctx.db, *f.scope, f.start, f.end)
    ui.kpi_tile_row(kpis, f.month, KPIS, f.month_label())
    slos = slo_month(*ctx.db, f.team, f.service, f.month)
    left, right = st.columns([3, 2])
    with left:
        if slos.empty:
            ui.empty(f"No platform SLO results for {f.scope_label} in {f.month_label()}.")
        else:
            import plotly.graph_objects as go

            fig = go.Figure()
            colours = {"met": "#16a34a", "breached": "#dc2626", "insufficient_data": "#9ca3af"}
            fig.add_bar(
                x=slos["slo_error_budget_remaining"].clip(lower=-1.0),
                y=slos["slo"],
                orientation="h",
                marker_color=[colours.get(s, "#9ca3af") for s in slos["status"]],
                customdata=slos[["slo_attainment", "objective", "status"]],
                hovertemplate="%{y}: %{x:.0%} of the budget left<br>attainment %{customdata[0]:.3%} "
                "(objective %{customdata[1]:.2%}), %{customdata[2]}<extra></extra>",
            )
            ui.layout(
                fig, title="Error budget remaining (below 0: overspent, shown down to -100%)", height=300
            )
            fig.update_xaxes(tickformat=".0%")
            ui.plot(fig, "slo_error_budget")
    with right:
        series = kpis[kpis["kpi_id"] == KPI]
        if series.empty or series["sample_size"].sum() == 0:
            ui.empty(f"No platform SLO results for {f.scope_label} in this range.")
        else:
            ui.plot(ui.trend_chart(series, "ratio", title=series["name"].iloc[0], height=300), f"slos_{KPI}")
            ui.definition(
                data.definitions(*ctx.db).loc[KPI, "definition"], series["sample_size"].sum(), "SLO-months"
            )
    if not slos.empty:
        columns = ["slo", "service", "objective", "slo_attainment", "slo_error_budget_remaining", "coverage"]
        st.dataframe(
            slos[[*columns, "status"]],
            hide_index=True,
            column_config={
                "objective": st.column_config.NumberColumn(format="percent"),
                "slo_attainment": st.column_config.NumberColumn("attainment", format="percent"),
                "slo_error_budget_remaining": st.column_config.NumberColumn("budget left", format="percent"),
                "coverage": st.column_config.NumberColumn(format="percent"),
            },
        )
    ui.definition(
        "Attainment = good / total events over the month's hours with data; budget left = 1 - bad share / "
        "(1 - objective). A month with coverage below the configured minimum is insufficient_data (not met).",
        len(slos),
        "platform SLOs",
    )
    ui.export(slos, f"platform SLOs {f.month:%Y-%m}", key="slos")
