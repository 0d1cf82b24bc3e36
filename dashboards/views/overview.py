"""Overview: the DORA keys for the selected scope and month, their trend, and the targets."""

import pandas as pd
import streamlit as st

from dashboards import context, data, ui
from platform_kpi.catalog import format_value

ctx = context.get()
f = ctx.filters
groups = data.kpi_groups(*ctx.db)

st.title("Overview")
st.caption(
    f"DORA keys for {f.scope_label} · {f.month_label()} · trend {f.start:%b %Y} – {f.end:%b %Y} · "
    "production deployments only"
)

if f.environment:
    st.info(
        f"The DORA keys count production deployments only, so they do not change with the environment "
        f"filter ({ui.md(f.environment)}); the Delivery page shows deployments per environment.",
        icon=":material/info:",
    )
frame = data.kpi_series(*ctx.db, *f.scope, f.start, f.end)
focus = frame[frame["month"] == pd.Timestamp(f.month)].set_index("kpi_id", drop=False)
if frame.empty or focus.empty:
    ui.empty(f"No KPI values for {f.scope_label} between {f.start:%b %Y} and {f.end:%b %Y}.")
    st.stop()
if int(focus["sample_size"].sum()) == 0:
    ui.empty(
        f"Nothing was deployed, changed, built or resolved for {f.scope_label} in {f.month_label()}; "
        "pick another month or scope."
    )


def tiles(kpi_ids: tuple[str, ...], sparkline: bool) -> None:
    for col, kid in zip(st.columns(len(kpi_ids)), kpi_ids, strict=True):
        with col:
            if kid in focus.index:
                ui.kpi_tile(
                    focus.loc[kid], frame[frame["kpi_id"] == kid], f.month_label(), sparkline=sparkline
                )


tiles(groups["dora"], sparkline=True)
st.markdown("#### Also watched")
tiles(groups["also_watched"], sparkline=False)

st.markdown("#### Targets")
targeted = focus[focus["target_kind"].notna()]
met = targeted["target_met"].dropna()
if met.empty:
    ui.empty(f"No KPI with a target has a value for {f.scope_label} in {f.month_label()}.")
else:
    st.markdown(
        f"**{int(met.sum())} of {len(met)}** targets met in {f.month_label()}"
        + (
            f"; missed: {', '.join(targeted[targeted['target_met'].eq(False)]['name'])}."
            if (~met.astype(bool)).any()
            else "."
        )
    )
    table = pd.DataFrame(
        {
            "KPI": targeted["name"],
            "Value": [format_value(v, u) for v, u in zip(targeted["value"], targeted["unit"], strict=True)],
            "Target": [
                format_value(v, u) if pd.notna(v) else ("no baseline yet" if k == "relative" else "—")
                for v, u, k in zip(targeted["target"], targeted["unit"], targeted["target_kind"], strict=True)
            ],
            "Kind": targeted["target_kind"],
            "Met": targeted["target_met"].map({True: "met", False: "missed"}).fillna("—"),
            "Tier": targeted["tier"].fillna("—"),
            "Sample": targeted["sample_size"].astype(int),
        }
    )
    st.table(table.set_index("KPI"))  # a static table: the first screen needs no data-grid component
    ui.export(targeted.drop(columns=["definition"]), f"targets {f.scope[1]} {f.month:%Y-%m}", key="targets")
