"""Service drill-down: every KPI of one service, its deployments, incidents and CI pipeline."""

import pandas as pd
import streamlit as st

from dashboards import context, data, ui
from dashboards.filters import set_service
from platform_kpi.catalog import format_value

ctx = context.get()
f = ctx.filters
services = data.services(*ctx.db)
groups = data.kpi_groups(*ctx.db)

st.title("Service drill-down")

in_scope = services if f.team is None else services[services["team"] == f.team]
choices = in_scope["service"].tolist()
st.session_state["service_pick"] = f.service if f.service in choices else None
team_of = services.set_index("service")["team"]
st.selectbox(
    "Service",
    choices,
    placeholder="Choose a service…",
    key="service_pick",
    on_change=lambda: set_service(
        st.session_state["service_pick"], team_of.get(st.session_state["service_pick"])
    ),
)

if f.service is None:
    st.caption(f"Services of {f.scope_label} in {f.month_label()}: choose one above (or in the sidebar).")
    table = data.service_kpis(*ctx.db, f.month, f.team)
    table = table[table["kpi_id"].isin((*groups["throughput"], *groups["instability"]))]
    if table.empty:
        ui.empty(f"No services with KPI values in {f.month_label()}.")
        st.stop()
    wide = table.pivot(index="scope", columns="name", values="value")
    units = table.drop_duplicates("name").set_index("name")["unit"]
    shown = wide.copy()
    for name in shown.columns:
        shown[name] = [format_value(v, units[name]) for v in wide[name]]
    st.dataframe(shown.rename_axis("Service").reset_index(), hide_index=True)
    ui.export(table.drop(columns=["definition"]), f"services {f.month:%Y-%m}", key="services")
    st.stop()

meta = services.set_index("service").loc[f.service]
st.caption(
    f"Team **{ui.md(meta['team'])}** · repo {ui.code(meta['repo']) if meta['repo'] else '—'} · "
    f"{ui.md(meta['tier']) if meta['tier'] else 'no tier'} · "
    f"{f.month_label()} · trend {f.start:%b %Y} – {f.end:%b %Y}"
)
kpis = data.kpi_series(*ctx.db, "service", f.service, f.start, f.end)
focus = kpis[kpis["month"] == pd.Timestamp(f.month)].set_index("kpi_id", drop=False)
if focus.empty:
    ui.empty(f"No KPI values for {ui.md(f.service)} in {f.month_label()}.")
    st.stop()
five = (*groups["throughput"], *groups["instability"])  # DORA's five metrics: throughput, instability
for col, kid in zip(st.columns(len(five)), five, strict=True):
    with col:
        ui.kpi_tile(focus.loc[kid], kpis[kpis["kpi_id"] == kid], f.month_label())

st.markdown("#### Every KPI")
all_kpis = pd.DataFrame(
    {
        "KPI": focus["name"],
        "Value": [format_value(v, u) for v, u in zip(focus["value"], focus["unit"], strict=True)],
        "Previous month": [
            format_value(v, u) for v, u in zip(focus["previous_month_value"], focus["unit"], strict=True)
        ],
        "Tier": focus["tier"].fillna("—"),
        "Target met": focus["target_met"].map({True: "yes", False: "no"}).fillna("—"),
        "Sample": focus["sample_size"].astype(int),
    }
)
st.dataframe(all_kpis, hide_index=True, height=35 * (len(all_kpis) + 1) + 3)
ui.export(kpis.drop(columns=["definition"]), f"service {f.service}", key="service_kpis")

left, right = st.columns(2)
for col, kid in zip((left, right), groups["service_trends"], strict=True):
    with col:
        series = kpis[kpis["kpi_id"] == kid]
        ui.plot(
            ui.trend_chart(series, series["unit"].iloc[0], title=series["name"].iloc[0], height=240),
            f"svc_{kid}",
        )
        ui.definition(series["definition"].iloc[0], series["sample_size"].sum())

st.markdown("#### Deployments")
deps = data.deployments(*ctx.db, None, f.service, f.environment, f.start, f.end)
if deps.empty:
    ui.empty(
        f"No deployments of {ui.md(f.service)} to {ui.md(f.environment or 'any environment')} in this range."
    )
else:
    st.dataframe(deps, hide_index=True, height=260)
    ui.export(deps, f"deployments {f.service}", key="svc_deps")

st.markdown("#### Incidents")
inc = data.incidents(*ctx.db, None, f.service, f.environment, f.start, f.end)
if inc.empty:
    ui.empty(f"No incidents for {ui.md(f.service)} in this range.")
else:
    st.dataframe(inc, hide_index=True, height=220)
    ui.export(inc, f"incidents {f.service}", key="svc_inc")

st.markdown("#### CI pipeline")
pipe = data.ci_pipelines(*ctx.db, None, f.service, f.month)
if pipe.empty:
    ui.empty(f"No finished builds of {ui.md(f.service)} in {f.month_label()}.")
else:
    st.dataframe(pipe, hide_index=True)
