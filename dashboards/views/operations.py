"""Operations & experience: how the platform serves its users - support ticket resolution and
architecture review cycle times with the tickets and reviews behind the month's numbers, developer
satisfaction and NPS with their sample sizes, enablement (sessions, attendees, teams reached), and
alert noise and platform incidents (dashboards/views/operations_alerts.py)."""

import streamlit as st

from dashboards import context, data, ui
from dashboards.views import operations_alerts, operations_slos

ctx = context.get()
f = ctx.filters
rows = data.table_rows(*ctx.db)
KPIS = data.kpi_groups(*ctx.db).get("operations", ())

st.title("Operations & experience")
st.caption(f"{f.scope_label} · {f.month_label()} · trend {f.start:%b %Y} – {f.end:%b %Y}")

kpis = data.kpi_series(*ctx.db, *f.scope, f.start, f.end)
defs = data.definitions(*ctx.db)


def kpi_section(kpi_ids: tuple[str, ...], sample_label: str) -> None:
    """Tiles for the month and a trend chart (against its target) per KPI of the section."""
    kpi_ids = tuple(k for k in kpi_ids if k in KPIS)
    if not kpi_ids:
        return
    ui.kpi_tile_row(kpis, f.month, kpi_ids, f.month_label())
    for col, kid in zip(st.columns(len(kpi_ids)), kpi_ids, strict=True):
        with col:
            series = kpis[kpis["kpi_id"] == kid]
            if series.empty or series["sample_size"].sum() == 0:
                ui.empty(f"No observations for {f.scope_label} in this range.")
            else:
                ui.plot(
                    ui.trend_chart(series, series["unit"].iloc[0], title=series["name"].iloc[0], height=260),
                    f"trend_{kid}",
                )
                ui.definition(defs.loc[kid, "definition"], series["sample_size"].sum(), sample_label)


st.markdown("### Support and reviews")
if rows.get("core.tickets", 0) == 0 and rows.get("core.reviews", 0) == 0:
    ui.empty(
        "No support tickets or architecture reviews have been loaded (sources.yaml `sql`, `jira` or "
        "`servicenow` with a tickets or reviews entity).",
        not_configured=True,
    )
else:
    kpi_section(
        ("support_resolution_time_p50_hours", "architecture_review_cycle_time_p50_days"),
        "resolved or completed",
    )
    left, right = st.columns(2)
    with left:
        tickets = data.support_tickets(*ctx.db, f.team, f.service, f.month)
        st.markdown(f"#### Slowest support tickets · {f.month_label()}")
        if tickets.empty:
            ui.empty(f"No support tickets resolved for {f.scope_label} in {f.month_label()}.")
        else:
            st.dataframe(
                tickets.head(15)[
                    ["ticket_id", "team", "kind", "status", "created_at", "resolved_at", "hours_to_resolve"]
                ],
                hide_index=True,
            )
        ui.definition(
            f"Tickets resolved in the month, longest first; {data.open_tickets(*ctx.db, f.team, f.service):,} "
            "tickets are open now.",
            len(tickets),
            "tickets",
        )
        ui.export(tickets, f"support tickets {f.month:%Y-%m}", key="tickets")
    with right:
        reviews = data.architecture_reviews(*ctx.db, f.team, f.service, f.month)
        st.markdown(f"#### Architecture reviews · {f.month_label()}")
        if reviews.empty:
            ui.empty(f"No architecture reviews completed or open for {f.scope_label}.")
        else:
            st.dataframe(
                reviews[["title", "team", "requested_at", "completed_at", "outcome", "business_days"]],
                hide_index=True,
            )
        ui.definition(
            "Reviews completed in the month (business days from request to completion) and reviews still open.",
            int(reviews["completed_at"].notna().sum()),
            "completed",
        )
        ui.export(reviews, f"architecture reviews {f.month:%Y-%m}", key="reviews")

st.markdown("### Developer experience")
if rows.get("core.survey_responses", 0) == 0:
    ui.empty(
        "No survey responses have been loaded (survey_responses.csv among the files).", not_configured=True
    )
else:
    kpi_section(("developer_satisfaction", "developer_nps"), "respondents")

st.markdown("### Enablement")
if rows.get("core.enablement_sessions", 0) == 0:
    ui.empty(
        "No enablement sessions have been loaded (enablement_sessions.csv among the files).",
        not_configured=True,
    )
else:
    kpi_section(("enablement_reach", "enablement_sessions_held", "enablement_unique_attendees"), "n")
    sessions = data.enablement_sessions(*ctx.db, f.team, f.month)
    st.markdown(f"#### Sessions held · {f.month_label()}")
    if sessions.empty:
        ui.empty(f"No enablement sessions for {f.scope_label} in {f.month_label()}.")
    else:
        st.dataframe(sessions, hide_index=True)
    ui.export(sessions, f"enablement sessions {f.month:%Y-%m}", key="enablement")

operations_alerts.draw()
operations_slos.draw(ctx)
