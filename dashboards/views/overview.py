"""Overview: DORA's five metrics in its two groups (throughput, instability) for the selected scope and
month, with their trend, the DORA Quick Check scores (spread across services for a team or the
organisation, with DORA's caution), then the KPIs also watched and the targets."""

import pandas as pd
import streamlit as st

from dashboards import context, data, ui
from platform_kpi.catalog import format_value
from platform_kpi.quick_check import CAUTION, quick_check_table

ctx = context.get()
f = ctx.filters
groups = data.kpi_groups(*ctx.db)

st.title("Overview")
tier_year = data.tier_year(*ctx.db)
st.caption(
    f"DORA's five metrics for {f.scope_label} · {f.month_label()} · trend {f.start:%b %Y} – {f.end:%b %Y} · "
    "production deployments only" + (f" · tiers are DORA {tier_year}'s clusters" if tier_year else "")
)

if f.environment:
    st.info(
        f"DORA's metrics count production deployments only, so they do not change with the environment "
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


if f.scope[0] != "service":
    # DORA's own caution: its metrics are meant per service; a roll-up is shown with its spread.
    st.info(CAUTION + " The tiles below are the KPIs of the whole scope.", icon=":material/info:")
st.markdown("#### Throughput")
tiles(groups["throughput"], sparkline=True)
st.markdown("#### Instability")
tiles(groups["instability"], sparkline=True)

st.markdown("#### DORA Quick Check")
scores = data.quick_check(*ctx.db, *f.scope, f.month)
if scores.empty:
    ui.empty(
        f"No Quick Check scores for {f.scope_label} in {f.month_label()} (rebuild the warehouse to add them)."
    )
else:
    bench = scores.dropna(subset=["benchmark_edition"])
    where = (
        f"DORA's {int(bench['benchmark_edition'].iloc[0])} Quick Check benchmark, industry "
        f"{ui.md(bench['industry'].iloc[0])}"
        + (
            f", organisation size {ui.md(bench['org_size'].iloc[0])}"
            if bench["org_size"].notna().any()
            else ""
        )
        if len(bench)
        else "no benchmark"
    )
    names = data.definitions(*ctx.db)["name"].to_dict()
    header, rows = quick_check_table(scores, names)
    st.table(pd.DataFrame(rows, columns=header).set_index("Metric"))
    st.caption(
        "Scores on DORA's 0–10 scale (10 best): answer buckets for the three time metrics, 10 − p/10 for the "
        f"two rates. Benchmark position against {where}, assuming a normal distribution (mean ± sd)."
        + (" A service's own score has no spread." if f.scope[0] == "service" else "")
    )
    ui.export(scores, f"quick check {f.scope[1]} {f.month:%Y-%m}", key="quick_check")

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
            f"Tier (DORA {tier_year})" if tier_year else "Tier": targeted["tier"].fillna("—"),
            "Sample": targeted["sample_size"].astype(int),
        }
    )
    st.table(table.set_index("KPI"))  # a static table: the first screen needs no data-grid component
    ui.export(targeted.drop(columns=["definition"]), f"targets {f.scope[1]} {f.month:%Y-%m}", key="targets")
