"""CI: mainline success rate, build time percentiles, and the slowest and flakiest pipelines."""

import streamlit as st

from dashboards import context, data, ui
from platform_kpi.catalog import format_value

ctx = context.get()
f = ctx.filters
rows = data.table_rows(*ctx.db)
KPIS = data.kpi_groups(*ctx.db)["ci"]  # tiles; the first three also get a trend chart

st.title("CI")
st.caption(
    f"{f.scope_label} · {f.month_label()} · trend {f.start:%b %Y} – {f.end:%b %Y} · one pipeline per service"
)

if rows.get("core.cicd_builds", 0) == 0:
    ui.empty(
        "No CI builds have been loaded (builds file, GitHub Actions, GitLab or Jenkins).", not_configured=True
    )
    st.stop()

kpis = data.kpi_series(*ctx.db, *f.scope, f.start, f.end)
defs = data.definitions(*ctx.db)
if kpis.empty:
    ui.empty(f"No KPI values for {f.scope_label} between {f.start:%b %Y} and {f.month_label()}.")
ui.kpi_tile_row(kpis, f.month, KPIS, f.month_label())

for col, kid in zip(st.columns(3), KPIS[:3], strict=True):
    with col:
        series = kpis[kpis["kpi_id"] == kid]
        if series["sample_size"].sum() == 0:
            ui.empty(f"No finished builds for {f.scope_label} in this range.")
        else:
            ui.plot(
                ui.trend_chart(series, series["unit"].iloc[0], title=series["name"].iloc[0], height=240),
                f"trend_{kid}",
            )
        ui.definition(defs.loc[kid, "definition"], series["sample_size"].sum(), "builds")

pipes = data.ci_pipelines(*ctx.db, f.team, f.service, f.month)
if pipes.empty:
    ui.empty(f"No finished builds for {f.scope_label} in {f.month_label()}.")
    st.stop()

shown = pipes.assign(
    success=[format_value(v, "ratio") for v in pipes["default_branch_success_rate"]],
    p50=[format_value(v, "seconds") for v in pipes["duration_p50_sec"]],
    p95=[format_value(v, "seconds") for v in pipes["duration_p95_sec"]],
    flaky=[format_value(v, "ratio") for v in pipes["flaky_rate"]],
)
left, right = st.columns(2)
with left:
    st.markdown(f"#### Slowest pipelines · {f.month_label()}")
    slow = shown.sort_values("duration_p95_sec", ascending=False).head(10)
    st.dataframe(slow[["pipeline", "team", "p95", "p50", "builds"]], hide_index=True)
    ui.definition(
        "Pipelines ranked by p95 build time (finished builds of any branch).",
        int(slow["builds"].sum()),
        "builds",
    )
with right:
    st.markdown(f"#### Flakiest pipelines · {f.month_label()}")
    flaky = (
        shown[shown["flaky_failures"] > 0]
        .sort_values(["flaky_rate", "flaky_failures"], ascending=False)
        .head(10)
    )
    if flaky.empty:
        ui.empty(f"No flaky failures for {f.scope_label} in {f.month_label()}.")
    else:
        st.dataframe(
            flaky[["pipeline", "team", "flaky", "flaky_failures", "failures", "builds"]], hide_index=True
        )
    ui.definition(
        "A flaky failure is a failed build whose retry on the same branch started within 30 minutes and passed; "
        "rate = flaky failures / finished builds.",
        int(shown["builds"].sum()),
        "builds",
    )

with st.expander(f"All pipelines ({len(pipes)})"):
    st.dataframe(shown, hide_index=True)
ui.export(pipes, f"ci pipelines {f.month:%Y-%m}", key="pipelines")
