"""Costs: what a build and a deployment cost, where the cloud money goes by team and service, what
nobody is tagged for, and how much of the requested cluster capacity is used."""

import plotly.express as px
import streamlit as st

from dashboards import context, cost_data, data, ui
from platform_kpi.catalog import format_value

ctx = context.get()
f = ctx.filters
currency = cost_data.settings(*ctx.db).get("reporting_currency") or "USD"

st.title("Costs")
st.caption(f"{f.scope_label} · {f.month_label()} · amounts in {currency} (EffectiveCost, amortized)")

have = cost_data.coverage(*ctx.db)
if have["cost_rows"] == 0 and have["utilization_rows"] == 0:
    ui.empty(
        "No cost or utilization data: point config/costs.yaml at FOCUS exports (or put them in the input "
        "folder's focus/), enable AWS Cost Explorer, or set an OpenCost or Prometheus URL.",
        not_configured=True,
    )
    st.stop()

flags = cost_data.currency_flags(*ctx.db, f.month)
if len(flags):
    st.warning(
        "Costs in a currency without a rate are left out of every number here: "
        + "; ".join(
            f"{int(r.cost_rows):,} rows in {ui.md(r.billing_currency)} ({ui.md(r.reason)})"
            for r in flags.itertuples()
        )
        + ". Add the rate under fx_rates in config/costs.yaml.",
        icon=":material/currency_exchange:",
    )

kpis = data.kpi_series(*ctx.db, *f.scope, f.start, f.end)
cost_kpis = data.kpi_groups(*ctx.db)["costs"]
kpis = kpis[kpis["kpi_id"].isin(cost_kpis)]
defs = data.definitions(*ctx.db)
ui.kpi_tile_row(kpis, f.month, cost_kpis, f.month_label())

left, right = st.columns(2)
for col, kid, label in ((left, "cost_per_build", "builds"), (right, "cost_per_deploy", "deployments")):
    with col:
        series = kpis[kpis["kpi_id"] == kid]
        if series.empty or series["value"].notna().sum() == 0:
            ui.empty(f"No {defs.loc[kid, 'name'].lower()} for {f.scope_label} in this range.")
        else:
            ui.plot(
                ui.trend_chart(series, "currency", title=f"{defs.loc[kid, 'name']} ({currency})", height=260),
                f"trend_{kid}",
            )
            ui.definition(defs.loc[kid, "definition"], series["sample_size"].sum(), label)

kinds = cost_data.by_kind(*ctx.db, f.team, f.service, f.start, f.end)
if kinds.empty:
    ui.empty(f"No costs for {f.scope_label} between {f.start:%b %Y} and {f.month_label()}.")
else:
    fig = px.bar(
        kinds,
        x="month",
        y="cost",
        color="cost_kind",
        barmode="stack",
        labels={"cost": currency, "month": "", "cost_kind": "kind"},
    )
    ui.layout(fig, title=f"Cloud cost by kind ({currency})", height=300)
    fig.update_layout(showlegend=True)
    ui.plot(fig, "cost_by_kind")
    ui.definition(defs.loc["cloud_cost", "definition"], None)

left, right = st.columns(2)
with left:
    st.markdown(f"#### Cloud cost by team · {f.month_label()}")
    teams = cost_data.by_team(*ctx.db, f.month)
    if teams.empty:
        ui.empty(f"No costs in {f.month_label()}.")
    else:
        shown = teams.assign(
            **{
                c: [format_value(v, "currency") for v in teams[c]]
                for c in ("cost", "ci_compute", "deployment")
            }
        )
        st.dataframe(shown, hide_index=True)
with right:
    st.markdown(f"#### Top services · {f.month_label()}")
    services = cost_data.top_services(*ctx.db, f.team, f.month)
    if services.empty:
        ui.empty(f"No costs attributed to a service of {f.scope_label} in {f.month_label()}.")
    else:
        shown = services.assign(
            **{
                c: [format_value(v, "currency") for v in services[c]]
                for c in ("cost", "ci_compute", "deployment")
            }
        )
        st.dataframe(shown, hide_index=True)

st.markdown(f"#### Unattributed costs · {f.month_label()}")
missing = cost_data.unattributed(*ctx.db, f.month)
if missing.empty:
    st.success("Every cost of the month is attributed to a team or service.", icon=":material/check_circle:")
else:
    total = missing["cost"].sum()
    st.markdown(
        f"{format_value(total, 'currency')} {currency} in {int(missing['cost_rows'].sum()):,} cost rows carry no "
        "service or team tag: they count in the organisation's numbers only. Tag them (attribution in "
        "config/costs.yaml) to bring them into team and service views."
    )
    st.dataframe(missing.assign(cost=[format_value(v, "currency") for v in missing["cost"]]), hide_index=True)
    ui.export(missing, f"unattributed costs {f.month:%Y-%m}", key="unattributed")

st.markdown(f"#### Cluster efficiency by team · {f.month_label()}")
eff = cost_data.efficiency_by_team(*ctx.db, f.month)
if eff.empty:
    ui.empty(
        "No cluster utilization (OpenCost or Prometheus) for this month.",
        not_configured=have["utilization_rows"] == 0,
    )
else:
    table = eff.pivot(index="team", columns="kpi_id", values="value").reset_index()
    for col in ("cluster_cpu_efficiency", "cluster_memory_efficiency"):
        if col in table:
            table[col] = [format_value(v, "fraction") for v in table[col]]
    st.dataframe(table, hide_index=True)
    ui.definition(
        defs.loc["cluster_cpu_efficiency", "definition"], int(eff["sample_size"].max()), "namespace-days"
    )
