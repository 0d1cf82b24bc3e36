"""Read-only queries of the Cost page: cost lines, unattributed costs, currency flags, utilization.

Every number comes from the published cost marts (marts.cost_monthly, marts.cost_unattributed,
marts.cost_currency_flags) and marts.kpi_monthly; these functions only select and filter.
"""

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
def settings(path: str, version: float) -> dict:
    frame = query(path, "select * from ops.cost_settings")
    return frame.iloc[0].to_dict() if len(frame) else {"reporting_currency": "USD"}


@st.cache_data(ttl=TTL, show_spinner=False)
def coverage(path: str, version: float) -> dict[str, int]:
    """How much cost and utilization data the warehouse holds (0 = the source is not configured)."""
    frame = query(
        path,
        "select (select count(*) from core.costs) as cost_rows, "
        "(select count(*) from core.cluster_utilization) as utilization_rows",
    )
    return {k: int(v) for k, v in frame.iloc[0].items()}


@st.cache_data(ttl=TTL, show_spinner=False)
def by_kind(
    path: str, version: float, team: str | None, service: str | None, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Cloud cost (reporting currency) per month and kind: CI compute, deployment, other."""
    where, params = _scope(team, service)
    return query(
        path,
        "select month, cost_kind, sum(effective_cost_reporting) as cost from marts.cost_monthly "
        f"where fx_rate is not null and in_cloud_cost and month between ? and ? and {where} "
        "group by all order by month, cost_kind",
        [start, end, *params],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def by_team(path: str, version: float, month: dt.date) -> pd.DataFrame:
    """Cloud cost per team in the month, with the unattributed remainder as its own row."""
    return query(
        path,
        "select coalesce(team, '(unattributed)') as team, sum(effective_cost_reporting) as cost, "
        "sum(effective_cost_reporting) filter (where cost_kind = 'ci_compute' and in_unit_costs) as ci_compute, "
        "sum(effective_cost_reporting) filter (where cost_kind = 'deployment' and in_unit_costs) as deployment "
        "from marts.cost_monthly where fx_rate is not null and in_cloud_cost and month = ? "
        "group by all order by cost desc",
        [month],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def top_services(
    path: str, version: float, team: str | None, month: dt.date, limit: int = 15
) -> pd.DataFrame:
    where, params = _scope(team, None)
    return query(
        path,
        "select service, team, sum(effective_cost_reporting) as cost, "
        "sum(effective_cost_reporting) filter (where cost_kind = 'ci_compute' and in_unit_costs) as ci_compute, "
        "sum(effective_cost_reporting) filter (where cost_kind = 'deployment' and in_unit_costs) as deployment "
        f"from marts.cost_monthly where fx_rate is not null and in_cloud_cost and month = ? and service is not null "
        f"and {where} group by all order by cost desc limit {int(limit)}",
        [month, *params],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def unattributed(path: str, version: float, month: dt.date) -> pd.DataFrame:
    return query(
        path,
        "select provider, sub_account_id, service_name, cost_kind, charge_category, unattributed_reason, "
        "cost_rows, effective_cost_reporting as cost from marts.cost_unattributed where month = ? "
        "order by cost desc nulls last",
        [month],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def currency_flags(path: str, version: float, month: dt.date) -> pd.DataFrame:
    return query(
        path, "select * from marts.cost_currency_flags where month = ? order by billing_currency", [month]
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def efficiency_by_team(path: str, version: float, month: dt.date) -> pd.DataFrame:
    return query(
        path,
        "select scope as team, kpi_id, value, sample_size from marts.kpi_monthly "
        "where scope_type = 'team' and month = ? and kpi_id in ('cluster_cpu_efficiency', 'cluster_memory_efficiency') "
        "and value is not null order by scope, kpi_id",
        [month],
    )
