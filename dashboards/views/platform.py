"""Platform adoption: golden-path adoption against its target, the criteria funnel, the services failing
which criterion (linked to their catalog entry), pipeline template coverage and documentation freshness."""

import datetime as dt

import pandas as pd
import streamlit as st

from dashboards import context, data, ui
from platform_kpi.catalog import format_value

ctx = context.get()
f = ctx.filters
rows = data.table_rows(*ctx.db)
GROUP = data.kpi_groups(*ctx.db).get("platform_adoption", ())
TILES = (
    "golden_path_adoption_rate",
    "pipeline_template_coverage",
    "pipeline_template_drift_rate",
    "documentation_freshness",
)
CRITERIA = {
    "scaffolded": "Created from an approved template",
    "ci_template": "CI on a shared template",
    "owner": "Has an owner",
    "techdocs": "Has TechDocs",
    "runbook": "Has a runbook / on-call",
}

st.title("Platform adoption")
st.caption(
    f"{f.scope_label} · {f.month_label()} · trend {f.start:%b %Y} – {f.end:%b %Y} · state at each month's end"
)

if not GROUP or rows.get("marts.golden_path_services", 0) == 0 and rows.get("core.documents", 0) == 0:
    ui.empty(
        "No service catalog, CI scans or documents have been loaded (catalog_entities, ci_config_scans and "
        "docs_pages files, or the Backstage, repository-scan and Confluence sources).",
        not_configured=True,
    )
    st.stop()


@st.cache_data(ttl=300, show_spinner=False)
def services_of_month(path: str, version: float, month: dt.date) -> pd.DataFrame:
    """marts.golden_path_services of one month: the counted services and their criteria."""
    return data.query(
        path,
        "select service, team, lifecycle, repo, catalog_url, scaffolded, ci_template, has_owner as owner, "
        "techdocs, runbook, on_golden_path, failing_criteria, templates_used, template_drifted "
        "from marts.golden_path_services where is_counted and month = ? order by team, service",
        [month],
    )


@st.cache_data(ttl=300, show_spinner=False)
def golden_path(path: str, version: float) -> list[str]:
    return list(data.query(path, "select unnest(golden_path_criteria) as c from ops.platform_settings")["c"])


kpis = data.kpi_series(*ctx.db, *f.scope, f.start, f.end)
defs = data.definitions(*ctx.db)
ui.kpi_tile_row(kpis, f.month, TILES, f.month_label())

left, right = st.columns([3, 2])
with left:
    series = kpis[kpis["kpi_id"] == "golden_path_adoption_rate"]
    if series.empty or series["sample_size"].sum() == 0:
        ui.empty(f"No catalog services for {f.scope_label} in this range.")
    else:
        ui.plot(
            ui.trend_chart(series, "ratio", title="Golden path adoption vs target", height=300),
            "trend_adoption",
        )
        ui.definition(
            defs.loc["golden_path_adoption_rate", "definition"], series["sample_size"].iloc[-1], "services"
        )

services = services_of_month(*ctx.db, f.month)
if f.team:
    services = services[services["team"] == f.team]
if f.service:
    services = services[services["service"] == f.service]
criteria = [c for c in golden_path(*ctx.db) if c in CRITERIA]

with right:
    if services.empty:
        ui.empty(f"No catalog services for {f.scope_label} in {f.month_label()}.")
    else:
        import plotly.graph_objects as go

        # The funnel: services meeting the first criterion, then the first two, ... then all of them.
        met = pd.Series(True, index=services.index)
        steps, counts = ["Counted services"], [len(services)]
        for c in criteria:
            met &= services[c].astype(bool)
            steps.append(("+ " if len(steps) > 1 else "") + CRITERIA[c])
            counts.append(int(met.sum()))
        fig = go.Figure(go.Funnel(y=[ui.plain(s) for s in steps], x=counts, textinfo="value+percent initial"))
        ui.plot(
            ui.layout(fig, title=f"Golden-path criteria funnel · {f.month_label()}", height=300), "funnel"
        )
        shares = ", ".join(
            f"{CRITERIA[c].lower()} {format_value(services[c].mean(), 'ratio')}" for c in criteria
        )
        ui.definition(
            f"Each step keeps the services meeting every criterion so far. Shares alone: {shares}.",
            len(services),
            "services",
        )

failing = services[~services["on_golden_path"].astype(bool)].copy() if not services.empty else services
st.markdown(f"#### Services off the golden path · {f.month_label()}")
if failing.empty:
    ui.empty(f"Every counted service of {f.scope_label} meets the golden path in {f.month_label()}.")
else:
    failing["failing"] = [", ".join(CRITERIA.get(c, c) for c in cs) for cs in failing["failing_criteria"]]
    shown = failing.rename(
        columns={"service": "Service", "team": "Team", "failing": "Missing", "repo": "Repository"}
    )[["Service", "Team", "Missing", "Repository", "lifecycle", "catalog_url"]]
    st.markdown(ui.link_table(shown, "Service", "catalog_url", "failing-services"), unsafe_allow_html=True)
    ui.definition(
        "Counted services (active, of a service type) not meeting every configured criterion; the service "
        "links to its catalog entry.",
        len(failing),
        "services",
    )
    export = failing.assign(failing_criteria=[";".join(cs) for cs in failing["failing_criteria"]])[
        ["service", "team", "lifecycle", "repo", "catalog_url", "failing_criteria", *criteria]
    ]
    ui.export(export, f"services off the golden path {f.month:%Y-%m}", key="failing")

st.markdown("#### Criteria and documentation over time")
cols = st.columns(3)
for col, kid in zip(
    cols,
    ("pipeline_template_coverage", "documentation_freshness", "golden_path_ci_template_rate"),
    strict=True,
):
    with col:
        series = kpis[kpis["kpi_id"] == kid]
        if series.empty or series["sample_size"].sum() == 0:
            ui.empty(f"No data for {defs.loc[kid, 'name']} for {f.scope_label}.")
        else:
            ui.plot(ui.trend_chart(series, "ratio", title=series["name"].iloc[0], height=240), f"trend_{kid}")
            ui.definition(defs.loc[kid, "definition"], series["sample_size"].iloc[-1], "n")
