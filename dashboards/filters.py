"""The global filters (date range, team, service, environment), kept in the URL's query parameters.

A link reproduces a view: the first run of a session reads the query parameters into the widgets'
state; every run writes the current choices back (defaults are left out, so a plain link follows the
newest data).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from platform_kpi.markup import md_escape
from platform_kpi.periods import default_month, today_utc

ALL_TEAMS = "All teams"
ALL_SERVICES = "All services"
ALL_ENVIRONMENTS = "All environments"

# query parameter -> session-state key of its widget
PARAMS = {"from": "f_from", "to": "f_to", "team": "f_team", "service": "f_service", "env": "f_env"}


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    team: str | None
    service: str | None
    environment: str | None
    #: the calendar month ``today`` falls in: not complete yet
    current_month: dt.date

    @property
    def scope(self) -> tuple[str, str]:
        """The marts.kpi_monthly scope (scope_type, scope) the filters select."""
        if self.service:
            return "service", self.service
        if self.team:
            return "team", self.team
        return "org", "all"

    @property
    def scope_label(self) -> str:
        """The scope in words, as Markdown (the name escaped): pages put it in captions and notes."""
        kind, name = self.scope
        return "the whole organisation" if kind == "org" else f"{kind} {md_escape(name)}"

    @property
    def month(self) -> dt.date:
        """The month in focus: the end of the range."""
        return self.end

    def month_label(self, month: dt.date | None = None) -> str:
        month = month or self.end
        suffix = " (in progress)" if month >= self.current_month else ""
        return f"{month:%b %Y}{suffix}"


def _label(month: dt.date) -> str:
    return f"{month:%Y-%m}"


def default_end(months: list[dt.date], today: dt.date | None = None) -> dt.date:
    """The month the range ends on by default: the last full calendar month before ``today``, the
    month the monthly report covers (platform_kpi.periods decides it for both)."""
    return default_month(months, today)


def _init_from_url(key: str, param: str, choices: list[str], default: str) -> None:
    if key in st.session_state and st.session_state[key] in choices:
        return
    wanted = st.query_params.get(param)
    st.session_state[key] = wanted if wanted in choices else default


def sidebar_filters(
    services: pd.DataFrame, months: list[dt.date], environments: list[str], today: dt.date | None = None
) -> Filters:
    """Draw the filters in the sidebar and return the current choice. ``today`` (default: today, UTC)
    decides the default month."""
    today = today or today_utc()
    month_labels = [_label(m) for m in months]
    end_default = _label(default_end(months, today))
    start_default = month_labels[max(0, month_labels.index(end_default) - 11)]

    side = st.sidebar
    side.markdown("### Filters")
    _init_from_url(PARAMS["from"], "from", month_labels, start_default)
    _init_from_url(PARAMS["to"], "to", month_labels, end_default)
    c1, c2 = side.columns(2)
    start = c1.selectbox("From", month_labels, key=PARAMS["from"])
    end = c2.selectbox("To", month_labels, key=PARAMS["to"])
    if start > end:
        start, end = end, start

    teams = [ALL_TEAMS, *sorted(services["team"].unique())]
    _init_from_url(PARAMS["team"], "team", teams, ALL_TEAMS)
    team = side.selectbox("Team", teams, key=PARAMS["team"])

    in_team = services if team == ALL_TEAMS else services[services["team"] == team]
    service_choices = [ALL_SERVICES, *sorted(in_team["service"])]
    _init_from_url(PARAMS["service"], "service", service_choices, ALL_SERVICES)
    service = side.selectbox("Service", service_choices, key=PARAMS["service"])

    env_choices = [ALL_ENVIRONMENTS, *environments]
    _init_from_url(PARAMS["env"], "env", env_choices, ALL_ENVIRONMENTS)
    env = side.selectbox(
        "Environment",
        env_choices,
        key=PARAMS["env"],
        help="DORA KPIs always count production deployments (see Data health for the rule); the "
        "environment narrows deployment counts and the deployment and incident lists.",
    )

    values = {"from": start, "to": end, "team": team, "service": service, "env": env}
    defaults = {
        "from": start_default,
        "to": end_default,
        "team": ALL_TEAMS,
        "service": ALL_SERVICES,
        "env": ALL_ENVIRONMENTS,
    }
    for param, value in values.items():
        if value == defaults[param]:
            if param in st.query_params:
                del st.query_params[param]
        elif st.query_params.get(param) != value:
            st.query_params[param] = value

    return Filters(
        start=dt.date.fromisoformat(start + "-01"),
        end=dt.date.fromisoformat(end + "-01"),
        team=None if team == ALL_TEAMS else team,
        service=None if service == ALL_SERVICES else service,
        environment=None if env == ALL_ENVIRONMENTS else env,
        current_month=today.replace(day=1),
    )


def set_service(service: str | None, team: str | None) -> None:
    """Callback for in-page pickers: move the global filters to a service (runs before the next run)."""
    st.session_state[PARAMS["team"]] = team or ALL_TEAMS
    st.session_state[PARAMS["service"]] = service or ALL_SERVICES
