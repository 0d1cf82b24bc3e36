"""Operations & experience, alert noise and platform incidents: the actionable-alert ratio by team, the
month's noisiest alert sources, alerts per on-call week, and the platform incident rate and MTTR
against their targets. Drawn by dashboards/views/operations.py."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboards import context, data, ui

KPIS = (
    "alert_actionable_ratio",
    "alerts_per_oncall_week",
    "platform_incident_rate",
    "platform_incident_mttr_hours",
)


@st.cache_data(ttl=data.TTL, show_spinner=False)
def noisiest_sources(
    path: str, version: float, team: str | None, service: str | None, month: dt.date
) -> pd.DataFrame:
    """Alert sources of the month, most noise first: alerts, noise (not actionable), occurrences."""
    return data.query(
        path,
        "select alert_source, count(*) as alerts, count(*) filter (where not is_actionable) as noise, "
        "round(avg((not is_actionable)::int), 3) as noise_share, sum(occurrences) as occurrences, "
        "count(distinct service) as services "
        "from core.alerts where (? is null or team = ?) and (? is null or service = ?) "
        "and created_at >= ? and created_at < ? group by alert_source order by noise desc, alerts desc, alert_source",
        [team, team, service, service, month, (pd.Timestamp(month) + pd.offsets.MonthBegin(1)).date()],
    )


@st.cache_data(ttl=data.TTL, show_spinner=False)
def team_alert_kpis(path: str, version: float, month: dt.date) -> pd.DataFrame:
    """Actionable ratio and alerts per on-call week of every team for one month."""
    return data.query(
        path,
        "select scope as team, kpi_id, value, sample_size from marts.kpi_monthly "
        "where scope_type = 'team' and month = ? and kpi_id in ('alert_actionable_ratio', 'alerts_per_oncall_week') "
        "and sample_size > 0 order by scope",
        [month],
    )


def draw() -> None:
    """The alert-noise and platform-incident section of the Operations & experience page."""
    ctx = context.get()
    f = ctx.filters
    rows = data.table_rows(*ctx.db)
    st.markdown("### Alert noise and platform incidents")
    if rows.get("core.alerts", 0) == 0 and rows.get("core.incidents", 0) == 0:
        ui.empty(
            "No alerts or incidents have been loaded (alerts.csv, or PagerDuty / Opsgenie in sources.yaml).",
            not_configured=True,
        )
        return
    kpis = data.kpi_series(*ctx.db, *f.scope, f.start, f.end)
    defs = data.definitions(*ctx.db)
    ui.kpi_tile_row(kpis, f.month, KPIS, f.month_label())

    left, right = st.columns(2)
    with left:
        st.markdown(f"#### Actionable alerts by team · {f.month_label()}")
        teams = team_alert_kpis(*ctx.db, f.month)
        if teams.empty:
            ui.empty(f"No alerts in {f.month_label()}.")
        else:
            wide = teams.pivot(index="team", columns="kpi_id", values="value").reset_index()
            wide = wide.reindex(columns=["team", "alert_actionable_ratio", "alerts_per_oncall_week"])
            st.dataframe(
                ui.formatted(
                    wide.sort_values("alert_actionable_ratio"),
                    {"alert_actionable_ratio": "ratio", "alerts_per_oncall_week": "alerts/week"},
                ).rename(
                    columns={
                        "alert_actionable_ratio": "actionable",
                        "alerts_per_oncall_week": "alerts per on-call week",
                    }
                ),
                hide_index=True,
                key="alert_teams",
            )
        ui.definition(
            defs.loc["alert_actionable_ratio", "definition"],
            int(teams["sample_size"].max() or 0) if not teams.empty else 0,
            "alerts",
        )
    with right:
        st.markdown(f"#### Noisiest alert sources · {f.month_label()}")
        sources = noisiest_sources(*ctx.db, f.team, f.service, f.month)
        if sources.empty:
            ui.empty(f"No alerts for {f.scope_label} in {f.month_label()}.")
        else:
            st.dataframe(sources.head(10), hide_index=True, key="alert_sources")
        ui.definition(
            "Sources of the month's alerts, most noise (alerts not actionable) first; occurrences add up "
            "each alert's deduplicated repeats.",
            int(sources["alerts"].sum()) if not sources.empty else 0,
            "alerts",
        )
        ui.export(sources, f"alert sources {f.month:%Y-%m}", key="alert_sources_export")

    for col, kid in zip(st.columns(len(KPIS)), KPIS, strict=True):
        with col:
            series = kpis[kpis["kpi_id"] == kid]
            if series.empty or series["sample_size"].sum() == 0:
                ui.empty(f"No observations for {f.scope_label} in this range.")
            else:
                ui.plot(
                    ui.trend_chart(series, series["unit"].iloc[0], title=series["name"].iloc[0], height=260),
                    f"trend_{kid}",
                )
                ui.definition(defs.loc[kid, "definition"], series["sample_size"].sum(), "observations")
