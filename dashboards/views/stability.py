"""Stability: how often production changes fail, how fast service is restored, and the incidents."""

import streamlit as st

from dashboards import context, data, ui

ctx = context.get()
f = ctx.filters
rows = data.table_rows(*ctx.db)
KPIS = data.kpi_groups(*ctx.db)["stability"]

st.title("Stability")
st.caption(f"{f.scope_label} · {f.month_label()} · trend {f.start:%b %Y} – {f.end:%b %Y}")

if rows.get("core.deployments", 0) == 0 and rows.get("core.incidents", 0) == 0:
    ui.empty(
        "No deployments or incidents have been loaded (deployments and incidents sources).",
        not_configured=True,
    )
    st.stop()

kpis = data.kpi_series(*ctx.db, *f.scope, f.start, f.end)
defs = data.definitions(*ctx.db)
if kpis.empty:
    ui.empty(f"No KPI values for {f.scope_label} between {f.start:%b %Y} and {f.month_label()}.")
ui.kpi_tile_row(kpis, f.month, KPIS, f.month_label())

for pair in (KPIS[i : i + 2] for i in range(0, len(KPIS), 2)):
    for col, kid in zip(st.columns(2), pair, strict=False):
        with col:
            series = kpis[kpis["kpi_id"] == kid]
            if series.empty or series["sample_size"].sum() == 0:
                ui.empty(f"No {defs.loc[kid, 'name'].lower()} data for {f.scope_label} in this range.")
            else:
                ui.plot(
                    ui.trend_chart(series, series["unit"].iloc[0], title=series["name"].iloc[0]),
                    f"trend_{kid}",
                )
            ui.definition(defs.loc[kid, "definition"], series["sample_size"].sum() if len(series) else 0)

st.markdown("#### Incidents and the deployments they are linked to")
if rows.get("core.incidents", 0) == 0:
    ui.empty("No incidents have been loaded (incidents file or PagerDuty/Opsgenie).", not_configured=True)
else:
    inc = data.incidents(*ctx.db, f.team, f.service, f.environment, f.start, f.end)
    if inc.empty:
        ui.empty(
            f"No incidents for {f.scope_label} created between {f.start:%b %Y} and {f.month_label()}"
            + (f" linked to a deployment to {ui.md(f.environment)}." if f.environment else ".")
        )
    else:
        linked = inc["deployment_id"].notna()
        st.caption(
            f"{inc['incident_id'].nunique()} incidents, {int(linked.sum())} linked to a deployment "
            "(explicitly, or by the link window after the latest production deployment of the service)."
        )
        st.dataframe(inc, hide_index=True, height=320)
        ui.export(inc, "incidents", key="incidents")
