"""Delivery: how often production deploys happen, where deployments go, and how long changes take."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import context, data, ui
from platform_kpi.catalog import format_value

ctx = context.get()
f = ctx.filters
rows = data.table_rows(*ctx.db)

st.title("Delivery")
st.caption(f"{f.scope_label} · {f.month_label()} · trend {f.start:%b %Y} – {f.end:%b %Y}")

if rows.get("core.deployments", 0) == 0:
    ui.empty(
        "No deployments have been loaded (deployments file or a deployment source).", not_configured=True
    )
    st.stop()

kpis = data.kpi_series(*ctx.db, *f.scope, f.start, f.end)
defs = data.definitions(*ctx.db)
if kpis.empty:
    ui.empty(f"No KPI values for {f.scope_label} between {f.start:%b %Y} and {f.month_label()}.")
ui.kpi_tile_row(kpis, f.month, data.kpi_groups(*ctx.db)["delivery"], f.month_label())

left, right = st.columns(2)
with left:
    series = kpis[kpis["kpi_id"] == "deployment_frequency"]
    if series["sample_size"].sum() == 0:
        ui.empty(f"No successful production deployments for {f.scope_label} in this range.")
    else:
        ui.plot(
            ui.trend_chart(series, "deployments", title="Deployment frequency (production, per month)"),
            "df_trend",
        )
    ui.definition(defs.loc["deployment_frequency", "definition"], series["sample_size"].sum(), "deployments")

with right:
    by_env = data.deployments_by_environment(*ctx.db, f.team, f.service, f.environment, f.start, f.end)
    if by_env.empty:
        ui.empty(
            f"No deployments to {ui.md(f.environment or 'any environment')} for {f.scope_label} in this range."
        )
    else:
        fig = go.Figure()
        for env, part in by_env.groupby("environment", sort=False):
            fig.add_bar(
                x=part["month"],
                y=part["attempts"],
                name=f"{ui.plain(env)}{' (prod)' if part['is_production'].any() else ''}",
            )
        fig.update_layout(barmode="stack")
        ui.layout(fig, title="Deployment attempts by environment", height=340)
        fig.update_layout(showlegend=True, legend={"orientation": "h", "y": -0.2, "yanchor": "top"})
        ui.plot(fig, "env_bars")
    ui.definition(
        "Every deployment attempt that finished, by environment and month, whatever its outcome.",
        by_env["attempts"].sum() if len(by_env) else 0,
        "attempts",
    )

st.markdown("#### Lead time for changes")
left, right = st.columns(2)
with left:
    buckets = data.lead_time_buckets(*ctx.db, *f.scope, f.month)
    if buckets.empty:
        ui.empty(f"No change reached production for {f.scope_label} in {f.month_label()}.")
    else:
        fig = go.Figure(
            go.Bar(
                x=buckets["bucket"],
                y=buckets["changes"],
                marker_color=ui.ACCENT,
                text=buckets["changes"],
                textposition="outside",
            )
        )
        ui.layout(fig, title=f"Distribution of lead times, {f.month_label()}", height=340)
        fig.update_yaxes(range=[0, buckets["changes"].max() * 1.18])
        ui.plot(fig, "lt_buckets")
    ui.definition(
        "Deployed changes by lead time band (first commit to production).",
        buckets["changes"].sum() if len(buckets) else 0,
        "changes",
    )
with right:
    stages = data.lead_time_stages(*ctx.db, *f.scope, f.start, f.end)
    if stages.empty:
        ui.empty(f"No deployed changes for {f.scope_label} in this range.")
    else:
        fig = go.Figure()
        for stage, part in stages[stages["stage"] != "total"].groupby("stage", sort=False):
            fig.add_scatter(x=part["month"], y=part["p50_hours"], mode="lines+markers", name=stage)
        ui.layout(fig, title="Median hours per stage", height=340)
        fig.update_layout(showlegend=True, legend={"orientation": "h", "y": -0.15, "yanchor": "top"})
        fig.update_yaxes(title="hours", rangemode="tozero")
        ui.plot(fig, "lt_stages")
    total = stages[(stages["stage"] == "total")]
    ui.definition(
        "Coding is first commit to merge; release is merge to the production deployment that shipped the change.",
        total["n"].sum() if len(total) else 0,
        "changes",
    )

if len(stages):
    month_stages = stages[stages["month"] == pd.Timestamp(f.month)]
    if len(month_stages):
        table = pd.DataFrame(
            {
                "Stage": month_stages["stage"],
                "Median": [format_value(v, "hours") for v in month_stages["p50_hours"]],
                "p90": [format_value(v, "hours") for v in month_stages["p90_hours"]],
                "Changes": month_stages["n"],
            }
        )
        st.dataframe(table, hide_index=True)
        ui.export(month_stages, f"lead time stages {f.scope[1]} {f.month:%Y-%m}", key="stages")

st.markdown("#### Deployments")
deps = data.deployments(*ctx.db, f.team, f.service, f.environment, f.start, f.end)
if deps.empty:
    ui.empty(
        f"No deployments for {f.scope_label} to {ui.md(f.environment or 'any environment')} in this range."
    )
else:
    st.caption(f"Newest {len(deps)} deployments in the range (at most 500).")
    st.dataframe(deps, hide_index=True, height=300)
    ui.export(deps, "deployments", key="deployments")
