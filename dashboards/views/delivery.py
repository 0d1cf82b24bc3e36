"""Delivery: how often production deploys happen, where deployments go, and how long changes take."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import context, data, ui
from platform_kpi.catalog import format_value

STAGES = {"coding": "#6366f1", "pickup": "#f59e0b", "review": "#10b981", "deploy": "#0ea5e9"}


def stage_bar(stages: pd.DataFrame) -> go.Figure:
    """Per month, the median of each lead-time stage stacked, and the median lead time as a marker."""
    fig = go.Figure()
    for stage, color in STAGES.items():
        part = stages[stages["stage"] == stage]
        fig.add_bar(
            x=part["month"],
            y=part["p50_hours"],
            name=stage,
            marker_color=color,
            customdata=part["n"],
            hovertemplate=f"{stage}: %{{y:.1f}} h (n = %{{customdata}})<extra></extra>",
        )
    total = stages[stages["stage"] == "total"]
    fig.add_scatter(
        x=total["month"],
        y=total["p50_hours"],
        mode="markers",
        name="lead time (median)",
        marker={"color": "#111827", "symbol": "diamond", "size": 8},
    )
    fig.update_layout(barmode="stack")
    ui.layout(fig, title="Lead time by stage (median hours, stacked)", height=340)
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": -0.15, "yanchor": "top"})
    fig.update_yaxes(title="hours", rangemode="tozero")
    return fig


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
        ui.plot(stage_bar(stages), "lt_stages")
    total = stages[(stages["stage"] == "total")]
    ui.definition(
        "Lead time split by stage: coding (first commit to PR opened), pickup (opened or ready for review "
        "to first review), review (first review to approval or merge), deploy (merge to production).",
        total["n"].sum() if len(total) else 0,
        "changes",
    )

st.markdown("#### Pull-request flow")
flow_kpis = data.kpi_groups(*ctx.db)["pr_flow"]
ui.kpi_tile_row(kpis, f.month, flow_kpis[:3], f.month_label())
ui.kpi_tile_row(kpis, f.month, flow_kpis[3:], f.month_label())
st.caption(
    "Medians per stage do not add up to the median lead time. Pickup and review count reviewed changes "
    "only; reviews by the author or by bots are not reviews."
)
if len(stages):
    months = sorted(stages["month"].unique(), reverse=True)
    chosen = st.selectbox(
        "Slowest changes of",
        months,
        index=months.index(pd.Timestamp(f.month)) if pd.Timestamp(f.month) in months else 0,
        format_func=lambda m: f"{pd.Timestamp(m):%B %Y}",
        key="pr_flow_month",
    )
    month_stages = stages[stages["month"] == pd.Timestamp(chosen)]
    table = pd.DataFrame(
        {
            "Stage": month_stages["stage"],
            "Median": [format_value(v, "hours") for v in month_stages["p50_hours"]],
            "p90": [format_value(v, "hours") for v in month_stages["p90_hours"]],
            "Changes": month_stages["n"],
        }
    )
    left, right = st.columns([1, 3])
    with left:
        st.dataframe(table, hide_index=True)
        ui.export(month_stages, f"lead time stages {f.scope[1]} {pd.Timestamp(chosen):%Y-%m}", key="stages")
    with right:
        slow = data.slowest_changes(*ctx.db, *f.scope, pd.Timestamp(chosen).date())
        if slow.empty:
            ui.empty(f"No change of {f.scope_label} reached production in {pd.Timestamp(chosen):%B %Y}.")
        else:
            shown = ui.formatted(
                slow.assign(change_id=slow["change_id"].str.split(":", n=2).str[-1]).rename(
                    columns={
                        "change_id": "Change",
                        "service": "Service",
                        "lead_hours": "Lead time",
                        "coding_hours": "Coding",
                        "pickup_hours": "Pickup",
                        "review_hours": "Review",
                        "deploy_hours": "Deploy",
                        "size_lines": "Lines",
                    }
                )[["Change", "Service", "Lead time", "Coding", "Pickup", "Review", "Deploy", "Lines", "url"]],
                {c: "hours" for c in ("Lead time", "Coding", "Pickup", "Review", "Deploy")},
            )
            shown["Lines"] = [f"{int(v):,}" if pd.notna(v) else "n/a" for v in shown["Lines"]]
            st.caption(
                f"The {len(slow)} slowest changes deployed in {pd.Timestamp(chosen):%B %Y} "
                "(a change links to its pull or merge request)."
            )
            st.markdown(ui.link_table(shown, "Change", "url", "slowest-changes"), unsafe_allow_html=True)
            ui.export(slow, f"slowest changes {f.scope[1]} {pd.Timestamp(chosen):%Y-%m}", key="slowest")

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
