"""The SQL pipeline and an independent pandas implementation agree on every KPI of a demo organisation.

bench/pandas_dora.py implements the catalog's definitions directly in pandas (written separately from
the SQL); on a generated organisation with every kind of case (rollbacks, hotfixes, explicit and window
incident links, unresolved incidents, undeployed changes, offsets and naive times, flaky CI), both must
give the same value and sample size for every month/week, scope and KPI.
"""

import datetime as dt

import pandas as pd
import pytest

from bench.pandas_dora import compute_monthly, compute_weekly, load_inputs
from platform_kpi.catalog import kpi_group
from platform_kpi.demo.org import generate_demo_org
from tests.conftest import build_warehouse, query


@pytest.fixture(scope="module")
def both(module_tmp):
    root = module_tmp
    files_dir = root / "files"
    generate_demo_org(
        files_dir,
        services=16,
        teams=8,
        months=12,
        seed=11,
        today=dt.date(2026, 11, 28),
        inject_bad_rows=False,
    )
    # the canonical files (the demo's security/ reports feed KPIs the reference does not implement)
    texts = {p.name: p.read_text() for p in files_dir.iterdir() if p.is_file()}
    warehouse = build_warehouse(root, texts)
    inputs = load_inputs(files_dir)
    return warehouse, compute_monthly(inputs), compute_weekly(inputs)


def _ours(warehouse, table: str, period: str) -> pd.DataFrame:
    rows = query(
        warehouse,
        f"select {period} as period, scope_type, scope, kpi_id, value, sample_size from marts.{table} "
        "where sample_size > 0 and kpi_id in (select kpi_id from marts.kpi_definitions where measure in "
        "(select distinct measure from marts.kpi_observations where measure not like 'cost%' "
        "and measure not like 'cluster%' and measure not like 'cloud%'))",
    )
    frame = pd.DataFrame(rows)
    frame["period"] = pd.to_datetime(frame["period"])
    return frame


# Delivery KPIs the pandas reference does not implement (the catalog's pull-request flow group): compared
# by hand in tests/kpi/test_pr_flow.py instead. Anything else new must be added to the reference or here.
# the pull-request flow and the platform families have no pandas reference (the platform adoption group
# is compared by hand in tests/kpi/test_platform_adoption.py)
# The security and compliance KPIs (catalog group security, and the three shown beside them) are
# golden-tested by hand in tests/security/test_security_kpis.py.
NOT_IN_REFERENCE = (
    set(kpi_group("pr_flow"))
    | set(kpi_group("operations"))
    | set(kpi_group("platform_adoption"))
    | set(kpi_group("security"))
)
NOT_IN_REFERENCE |= {"policy_warning_rate", "waiver_age_p50_days", "deployments_without_digest"}


def _compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    key = ["period", "scope_type", "scope", "kpi_id"]
    assert set(ours["kpi_id"]) - set(theirs["kpi_id"]) <= NOT_IN_REFERENCE
    ours = ours[~ours["kpi_id"].isin(NOT_IN_REFERENCE)]
    theirs = theirs[theirs["kpi_id"].isin(ours["kpi_id"].unique())]
    merged = ours.merge(theirs, on=key, how="outer", suffixes=("_sql", "_pandas"), indicator=True)
    only = merged[merged["_merge"] != "both"]
    assert only.empty, f"rows in one implementation only:\n{only.head(20)}"
    assert (merged["sample_size_sql"] == merged["sample_size_pandas"]).all(), merged[
        merged["sample_size_sql"] != merged["sample_size_pandas"]
    ].head(20)
    close = (merged["value_sql"] - merged["value_pandas"]).abs() <= 1e-9 * merged["value_pandas"].abs().clip(
        lower=1
    )
    assert close.all(), merged[~close].head(20)


def test_monthly_kpis_agree_with_the_pandas_reference(both):
    warehouse, monthly, _ = both
    ours = _ours(warehouse, "kpi_monthly", "month")
    # Every KPI of the reference is present, at all three scopes, over 13 months.
    assert set(monthly["kpi_id"]) <= set(ours["kpi_id"])
    assert len(monthly["kpi_id"].unique()) == 13
    assert set(ours["scope_type"]) == {"org", "team", "service"}
    assert ours["period"].nunique() == 13
    _compare(ours, monthly)


def test_weekly_kpis_agree_with_the_pandas_reference(both):
    warehouse, _, weekly = both
    ours = _ours(warehouse, "kpi_weekly", "week")
    assert set(ours["kpi_id"]) == {
        "ci_pipeline_success_rate",
        "build_duration_p50_sec",
        "build_duration_p95_sec",
        "deployment_success_rate",
    }
    assert (ours["period"].dt.dayofweek == 0).all()  # weeks start on Monday
    _compare(ours, weekly)
