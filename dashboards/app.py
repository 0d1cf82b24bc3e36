"""Leadership dashboard: the DORA keys with tier, trend and target, filtered by team or service."""

import sys
from pathlib import Path

# `streamlit run dashboards/app.py` puts dashboards/ first on sys.path; the repo root must come first
# so `dashboards` and `pipelines` resolve to this project's packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
import plotly.express as px  # noqa: E402
import streamlit as st  # noqa: E402

from dashboards import data  # noqa: E402
from pipelines.catalog import DORA_KEYS, format_value  # noqa: E402
from pipelines.warehouse import WarehouseNotFound  # noqa: E402

st.set_page_config(page_title="Platform KPIs", layout="wide")


@st.cache_data(ttl=300, show_spinner=False)
def _kpis(path: str, version: float, scope_type: str, scope: str) -> pd.DataFrame:
    return data.kpi_monthly(Path(path), scope_type, scope)


@st.cache_data(ttl=300, show_spinner=False)
def _scopes(path: str, version: float) -> pd.DataFrame:
    return data.scopes(Path(path))


path = data.warehouse_path()
st.title("Platform KPIs")
try:
    version = data.warehouse_version(path)
    services = _scopes(str(path), version)
except WarehouseNotFound as exc:
    st.info(str(exc))
    st.stop()

teams = ["All teams", *sorted(services["team"].unique())]
params = st.query_params
team = st.sidebar.selectbox(
    "Team",
    teams,
    index=teams.index(params.get("team", "All teams")) if params.get("team", "All teams") in teams else 0,
)
service_choices = [
    "All services",
    *sorted(services[services["team"] == team]["service"] if team != "All teams" else services["service"]),
]
service = st.sidebar.selectbox(
    "Service",
    service_choices,
    index=service_choices.index(params.get("service")) if params.get("service") in service_choices else 0,
)
st.query_params.update({"team": team, "service": service})

if service != "All services":
    scope_type, scope = "service", service
elif team != "All teams":
    scope_type, scope = "team", team
else:
    scope_type, scope = "org", "all"

frame = _kpis(str(path), version, scope_type, scope)
if frame.empty:
    st.info(f"No KPI values for {scope}: no data has been loaded for this {scope_type} yet.")
    st.stop()

complete = frame[frame["month"] < frame["month"].max()]
month = complete["month"].max() if len(complete) else frame["month"].max()
st.caption(
    f"{scope_type.title()}: {scope} · month {pd.Timestamp(month):%B %Y} (last full month) · source: {path.name}"
)

cols = st.columns(len(DORA_KEYS))
for col, kid in zip(cols, DORA_KEYS, strict=True):
    row = frame[(frame["kpi_id"] == kid) & (frame["month"] == month)]
    if row.empty:
        continue
    r = row.iloc[0]
    delta = None
    if pd.notna(r["previous_month_value"]) and pd.notna(r["value"]):
        delta = (
            format_value(r["value"] - r["previous_month_value"], r["unit"])
            if r["unit"] != "ratio"
            else (f"{(r['value'] - r['previous_month_value']) * 100:+.1f} pp")
        )
    col.metric(
        r["name"],
        format_value(r["value"], r["unit"]),
        delta=delta,
        delta_color="inverse" if r["better"] == "lower" else "normal",
        help=f"{r['definition']} Sample size: {int(r['sample_size'])}.",
    )
    tier = r["tier"] if isinstance(r["tier"], str) else "no tier"
    met = "" if pd.isna(r["target_met"]) else (" · target met" if r["target_met"] else " · target missed")
    col.caption(f"Tier: **{tier}**{met} · n = {int(r['sample_size'])}")

st.subheader("Trends")
for kid in DORA_KEYS:
    series = frame[frame["kpi_id"] == kid]
    if series.empty:
        continue
    name = series["name"].iloc[0]
    fig = px.line(series, x="month", y="value", markers=True, title=name)
    if series["target"].notna().any():
        fig.add_scatter(
            x=series["month"], y=series["target"], mode="lines", name="target", line={"dash": "dot"}
        )
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 40, "b": 10}, showlegend=False)
    st.plotly_chart(fig, use_container_width=True)
    st.caption(series["definition"].iloc[0])
