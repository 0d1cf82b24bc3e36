"""Teams: the DORA keys of every team side by side, and a heat-map of their tiers."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import context, data, ui
from platform_kpi.catalog import format_value

ctx = context.get()
f = ctx.filters
groups = data.kpi_groups(*ctx.db)
TIERED, COMPARED = groups["dora_tiers"], groups["team_comparison"]
TIERS = data.tiers(*ctx.db)

st.title("Teams")
st.caption(f"Every team · {f.month_label()} · the team filter highlights, it does not hide")

teams = data.team_kpis(*ctx.db, f.start, f.end)
focus = teams[teams["month"] == pd.Timestamp(f.month)]
if focus.empty:
    ui.empty(f"No team has KPI values in {f.month_label()}.")
    st.stop()

defs = data.definitions(*ctx.db)
tiered = focus[focus["kpi_id"].isin(TIERED)]
names = [defs.loc[k, "name"] for k in TIERED]
team_names = sorted(tiered["scope"].unique())
grid = tiered.pivot(index="scope", columns="kpi_id", values="tier").reindex(
    index=team_names, columns=list(TIERED)
)
values = tiered.pivot(index="scope", columns="kpi_id", values="value").reindex(
    index=team_names, columns=list(TIERED)
)
samples = tiered.pivot(index="scope", columns="kpi_id", values="sample_size").reindex(
    index=team_names, columns=list(TIERED)
)
rank = {t: i for i, t in enumerate(TIERS)}  # elite 0 … low 3
z = grid.apply(lambda col: col.map(rank))
text = [
    [
        f"{format_value(values.loc[t, k], defs.loc[k, 'unit'])}<br>{grid.loc[t, k] or 'no tier'}"
        if pd.notna(values.loc[t, k])
        else "no data"
        for k in TIERED
    ]
    for t in team_names
]
colors = [ui.TIER_HEX[t] for t in TIERS]
scale = [[i / 3, c] for i, c in enumerate(colors)]
fig = go.Figure(
    go.Heatmap(
        z=z.values,
        x=names,
        y=[f"▶ {ui.plain(t)}" if t == f.team else ui.plain(t) for t in team_names],
        text=text,
        texttemplate="%{text}",
        colorscale=scale,
        zmin=0,
        zmax=3,
        showscale=False,
        xgap=3,
        ygap=3,
        hovertemplate="%{y} · %{x}<br>%{text}<extra></extra>",
    )
)
TIER_YEAR = data.tier_year(*ctx.db)
ui.layout(
    fig,
    title=f"DORA tier by team, {f.month_label()} (DORA {TIER_YEAR} clusters)",
    height=80 + 46 * len(team_names),
)
fig.update_yaxes(autorange="reversed", gridcolor=None)
fig.update_xaxes(side="top")
fig.update_layout(margin={"t": 90})
ui.plot(fig, "tier_heatmap")
ui.definition(
    f"Tiers from the DORA benchmark clusters ({', '.join(TIERS)}); deployment frequency is compared per "
    "service. Grey cells have no value for the month.",
    int(samples["deployment_frequency"].sum()),
    "production deployments",
)

st.markdown("#### Side by side")
wide = pd.DataFrame(index=team_names)
for k in TIERED + COMPARED:
    part = focus[focus["kpi_id"] == k].set_index("scope")
    wide[defs.loc[k, "name"]] = [format_value(part["value"].get(t), defs.loc[k, "unit"]) for t in team_names]
targets = data.targets_met(*ctx.db, "team", f.month).set_index("scope")
wide["Targets met"] = [
    f"{targets.loc[t, 'met']}/{targets.loc[t, 'with_target']}" if t in targets.index else "—"
    for t in team_names
]
st.dataframe(wide.rename_axis("Team").reset_index(), hide_index=True)
ui.export(focus.drop(columns=["definition"]), f"teams {f.month:%Y-%m}", key="teams")

st.markdown("#### Trend by team")
kid = st.selectbox("KPI", list(TIERED + COMPARED), format_func=lambda k: defs.loc[k, "name"], key="teams_kpi")
series = teams[teams["kpi_id"] == kid]
fig = go.Figure()
for team, part in series.groupby("scope"):
    width = 4 if team == f.team else 1.8
    fig.add_scatter(
        x=part["month"], y=part["value"], mode="lines+markers", name=ui.plain(team), line={"width": width}
    )
ui.layout(fig, title=defs.loc[kid, "name"], height=320)
fig.update_layout(showlegend=True, hovermode="closest")
if defs.loc[kid, "unit"] == "ratio":
    fig.update_yaxes(tickformat=".0%")
ui.plot(fig, "team_trend")
ui.definition(defs.loc[kid, "definition"], int(series["sample_size"].sum()))
