"""Security & compliance: how fast vulnerabilities are fixed against their SLA (trend against the
target), which findings are past their SLA by team (down to the finding), waivers about to expire or
expired and still open, artifact provenance and infrastructure drift."""

import plotly.express as px
import streamlit as st

from dashboards import context, data, security_data, ui
from platform_kpi.catalog import format_value

ctx = context.get()
f = ctx.filters

st.title("Security & compliance")
st.caption(f"{f.scope_label} · {f.month_label()}")

have = security_data.coverage(*ctx.db)
if not any(have.values()):
    ui.empty(
        "No security data: put scanner, policy, Terraform and waiver files in the input folder's security/ "
        "(Trivy JSON, Dependabot alerts, Conftest and Kyverno results, plan JSON, waivers.yaml), or set "
        "github.security_alerts: true in sources.yaml.",
        not_configured=True,
    )
    st.stop()

kpis = data.kpi_series(*ctx.db, *f.scope, f.start, f.end)
group = data.kpi_groups(*ctx.db)["security"]
kpis = kpis[kpis["kpi_id"].isin(group)]
defs = data.definitions(*ctx.db)
ui.kpi_tile_row(kpis, f.month, group[:5], f.month_label())
ui.kpi_tile_row(kpis, f.month, group[5:], f.month_label())

left, right = st.columns(2)
for col, kid, label in (
    (left, "vulnerability_sla_adherence", "findings"),
    (right, "open_vulnerabilities_past_sla", "findings"),
):
    with col:
        series = kpis[kpis["kpi_id"] == kid]
        if series.empty or series["value"].notna().sum() == 0:
            ui.empty(f"No {defs.loc[kid, 'name'].lower()} for {f.scope_label} in this range.")
        else:
            unit = defs.loc[kid, "unit"]
            ui.plot(ui.trend_chart(series, unit, title=defs.loc[kid, "name"], height=260), f"trend_{kid}")
            ui.definition(defs.loc[kid, "definition"], series["sample_size"].sum(), label)

st.markdown(f"#### Open findings past SLA by team · end of {f.month_label()}")
overdue = security_data.past_sla(*ctx.db, f.team, f.service, f.month)
if overdue.empty:
    st.success(f"No finding of {ui.md(f.scope_label)} was open past its SLA.", icon=":material/check_circle:")
else:
    counts = overdue.groupby("team", dropna=False).size().rename("findings").reset_index()
    counts["team"] = [ui.plain(t) for t in counts["team"]]
    fig = px.bar(counts, x="team", y="findings", labels={"team": "", "findings": "findings past SLA"})
    ui.plot(ui.layout(fig, height=240), "past_sla_by_team")
    teams = sorted(overdue["team"].dropna().unique().tolist())
    chosen = st.selectbox("Findings of team", teams, key="past_sla_team")
    shown = overdue[overdue["team"] == chosen][
        [
            "finding_id",
            "service",
            "severity",
            "rule",
            "first_seen_at",
            "due_at",
            "days_overdue",
            "reopened",
            "url",
        ]
    ].rename(columns={"finding_id": "Finding"})
    st.markdown(ui.link_table(shown, "Finding", "url", "past-sla-findings"), unsafe_allow_html=True)
    ui.export(overdue, f"findings past sla {f.month:%Y-%m}", key="past_sla")

as_of = data.settings_row(*ctx.db).get("as_of")
when = f" · as of {as_of:%Y-%m-%d}" if as_of is not None else ""
left, right = st.columns(2)
with left:
    st.markdown(f"#### Waivers expiring in the next 30 days{when}")
    soon = security_data.expiring_waivers(*ctx.db, f.team, f.service)
    if soon.empty:
        ui.empty(f"No waiver of {ui.md(f.scope_label)} expires in the next 30 days.")
    else:
        st.dataframe(soon, hide_index=True)
with right:
    st.markdown(f"#### Expired waivers still open{when}")
    expired = security_data.expired_open(*ctx.db, f.team, f.service)
    if expired.empty:
        st.success("Every expired waiver was closed.", icon=":material/check_circle:")
    else:
        st.dataframe(expired, hide_index=True)

left, right = st.columns(2)
with left:
    st.markdown(f"#### Artifact provenance by team · {f.month_label()}")
    prov = security_data.provenance_by_team(*ctx.db, f.month)
    if prov.empty:
        ui.empty(f"No production deployment in {f.month_label()}.", not_configured=have["digests"] == 0)
    else:
        st.dataframe(
            prov.assign(coverage=[format_value(v, "ratio") for v in prov["coverage"]]), hide_index=True
        )
        ui.definition(
            defs.loc["artifact_provenance_coverage", "definition"],
            int(prov["with_digest"].sum()),
            "deployments",
        )
with right:
    st.markdown(f"#### Infrastructure drift · {f.month_label()}")
    drift = security_data.drift_by_workspace(*ctx.db, f.team, f.service, f.month)
    if drift.empty:
        ui.empty(f"No drift assessment in {f.month_label()}.", not_configured=have["assessments"] == 0)
    else:
        st.dataframe(
            drift.assign(drift_rate=[format_value(v, "ratio") for v in drift["drift_rate"]]), hide_index=True
        )
        ui.definition(
            defs.loc["iac_drift_rate", "definition"], int(drift["managed_resources"].sum()), "resources"
        )
