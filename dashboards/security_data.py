"""Read-only queries of the Security & compliance page: open findings past their SLA, waivers about to
expire, provenance and drift. Every row comes from the published core tables the security KPIs are
computed from (core.vulnerability_findings, core.waivers, core.artifact_provenance,
core.iac_assessments); these functions only select and filter."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboards.data import TTL, query


def _scope(team: str | None, service: str | None) -> tuple[str, list]:
    if service:
        return "service = ?", [service]
    if team:
        return "team = ?", [team]
    return "true", []


@st.cache_data(ttl=TTL, show_spinner=False)
def coverage(path: str, version: float) -> dict[str, int]:
    """Rows per security table (0: that source is not configured)."""
    frame = query(
        path,
        "select (select count(*) from core.vulnerability_findings) as findings, "
        "(select count(*) from core.policy_evaluations) as evaluations, "
        "(select count(*) from core.waivers) as waivers, "
        "(select count(*) from core.artifact_provenance where has_digest) as digests, "
        "(select count(*) from core.iac_assessments) as assessments",
    )
    return {k: int(v) for k, v in frame.iloc[0].items()}


def _at(month: dt.date) -> str:
    # the month's end, or the run's time for the month still running (as the KPI reads it)
    return f"least(cast('{month:%Y-%m-%d}' as timestamp) + interval 1 month, (select as_of from ops.kpi_settings))"


@st.cache_data(ttl=TTL, show_spinner=False)
def past_sla(
    path: str, version: float, team: str | None, service: str | None, month: dt.date
) -> pd.DataFrame:
    """Findings open past their SLA at the end of ``month``, most overdue first."""
    where, params = _scope(team, service)
    at = _at(month)
    return query(
        path,
        "select team, service, finding_id, source, severity, rule, package, first_seen_at, due_at, "
        f"round(date_diff('second', due_at, {at}) / 86400.0, 1) as days_overdue, reopened, url "
        "from core.vulnerability_findings "
        f"where sla_days is not null and resolution <> 'false_positive' and due_at < {at} "
        f"and coalesce(fixed_at, dismissed_at, {at} + interval 1 second) > {at} and {where} "
        "order by days_overdue desc, finding_id",
        params,
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def expiring_waivers(
    path: str, version: float, team: str | None, service: str | None, days: int = 30
) -> pd.DataFrame:
    """Waivers in force at the run's time that expire within ``days`` days, soonest first."""
    where, params = _scope(team, service)
    return query(
        path,
        "select waiver_id, team, service, policy, approver, created_at, expires_at, "
        "round(date_diff('second', s.as_of, expires_at) / 86400.0, 1) as days_left "
        "from core.waivers cross join ops.kpi_settings as s "
        "where expires_at > s.as_of and expires_at <= s.as_of + to_days(?) and created_at <= s.as_of "
        f"and coalesce(closed_at, s.as_of + interval 1 second) > s.as_of and {where} "
        "order by expires_at, waiver_id",
        [days, *params],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def expired_open(path: str, version: float, team: str | None, service: str | None) -> pd.DataFrame:
    """Waivers past their expiry at the run's time that nobody closed."""
    where, params = _scope(team, service)
    return query(
        path,
        "select waiver_id, team, service, policy, approver, expires_at, "
        "round(date_diff('second', expires_at, s.as_of) / 86400.0, 1) as days_expired "
        "from core.waivers cross join ops.kpi_settings as s "
        f"where expires_at <= s.as_of and coalesce(closed_at, s.as_of + interval 1 second) > s.as_of and {where} "
        "order by expires_at, waiver_id",
        params,
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def provenance_by_team(path: str, version: float, month: dt.date) -> pd.DataFrame:
    """Per team in ``month``: production deployments, with a digest, attested; coverage."""
    return query(
        path,
        "select team, count(*) as deployments, count(*) filter (where has_digest) as with_digest, "
        "count(*) filter (where is_attested) as attested, "
        "count(*) filter (where is_attested) / nullif(count(*) filter (where has_digest), 0) as coverage "
        "from core.artifact_provenance where date_trunc('month', finished_at) = ? group by team order by team",
        [month],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def drift_by_workspace(
    path: str, version: float, team: str | None, service: str | None, month: dt.date
) -> pd.DataFrame:
    """Each workspace's last assessment of ``month``: managed and drifted resources."""
    where, params = _scope(team, service)
    return query(
        path,
        "select workspace, service, team, source, assessed_at, managed_resources, drifted_resources, "
        "drifted_resources / nullif(managed_resources, 0) as drift_rate "
        "from core.iac_assessments where is_last_of_month and date_trunc('month', assessed_at) = ? "
        f"and {where} order by drift_rate desc nulls last, workspace",
        [month, *params],
    )
