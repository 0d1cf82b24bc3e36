"""Golden tests: deployment frequency, deployment success rate, rollbacks and rework; which
environments are production; month boundaries in UTC; empty months; org/team/service scopes.

Every expected number is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import pytest

from platform_kpi.catalog import load_catalog
from tests.conftest import dep, deployments, kpi, query


def test_default_production_pattern_is_case_insensitive_and_allows_suffixes(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-01-05T10:00:00Z", environment="prod"),
                dep("d2", "2024-01-05T11:00:00Z", environment="Production"),
                dep("d3", "2024-01-05T12:00:00Z", environment="prod-eu"),
                dep("d4", "2024-01-05T13:00:00Z", environment="PRODUCTION.us"),
                dep("d5", "2024-01-05T14:00:00Z", environment="preprod"),
                dep("d6", "2024-01-05T15:00:00Z", environment="staging"),
                dep("d7", "2024-01-05T16:00:00Z", environment="products"),
                dep("d8", "2024-01-05T17:00:00Z", environment="prod_canary"),
            )
        }
    )
    rows = query(wh, "select deployment_id, is_production from core.deployments order by deployment_id")
    assert {r["deployment_id"].removeprefix("files:deployment:"): r["is_production"] for r in rows} == {
        "d1": True,
        "d2": True,
        "d3": True,
        "d4": True,
        "d5": False,  # preprod: the name must start with prod/production
        "d6": False,
        "d7": False,  # "products": a suffix needs a separator (- _ .)
        "d8": True,
    }
    # d1, d2, d3, d4, d8 are successful production deployments: 5.
    assert kpi(wh, "deployment_frequency", "2024-01")["value"] == 5


def test_custom_production_pattern_from_config_file(warehouse_of):
    config = "production_environment_pattern: '^(live|prd)(-.*)?$'\n"
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-01-05T10:00:00Z", environment="live"),
                dep("d2", "2024-01-05T11:00:00Z", environment="PRD-eu"),
                dep("d3", "2024-01-05T12:00:00Z", environment="prod"),
                dep("d4", "2024-01-05T13:00:00Z", environment="production"),
                dep("d5", "2024-01-05T14:00:00Z", environment="alive"),
            )
        },
        config,
    )
    # Only live and PRD-eu match the custom pattern (whole name, case-insensitive): 2.
    assert kpi(wh, "deployment_frequency", "2024-01")["value"] == 2
    settings = query(wh, "select production_environment_pattern from ops.kpi_settings")
    assert settings == [{"production_environment_pattern": "^(live|prd)(-.*)?$"}]


def test_deployment_frequency_month_is_finished_at_in_utc(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                # 2024-01-31 23:59:59 UTC -> January
                dep("d1", "2024-01-31T23:59:59Z"),
                # 2024-02-01 00:00:00 UTC -> February (first instant of the month)
                dep("d2", "2024-02-01T00:00:00Z"),
                # 00:30 at +01:00 = 2024-01-31 23:30 UTC -> January
                dep("d3", "2024-02-01T00:30:00+01:00"),
                # 22:30 at -02:00 = 2024-02-01 00:30 UTC -> February
                dep("d4", "2024-01-31T22:30:00-02:00"),
                # a naive time is UTC -> March
                dep("d5", "2024-03-01T00:00:00"),
                # started in January, finished in February: the finish counts -> February
                dep("d6", "2024-02-01T00:10:00Z", started_at="2024-01-31T23:50:00Z"),
                # not successful, or not finished: never counted
                dep("d7", "2024-01-15T00:00:00Z", status="failure"),
                dep("d8", "", status="success"),
            )
        }
    )
    # January: d1, d3 = 2. February: d2, d4, d6 = 3. March: d5 = 1.
    assert kpi(wh, "deployment_frequency", "2024-01")["value"] == 2
    assert kpi(wh, "deployment_frequency", "2024-02")["value"] == 3
    assert kpi(wh, "deployment_frequency", "2024-03")["value"] == 1
    assert kpi(wh, "deployment_frequency", "2024-02")["sample_size"] == 3
    # The offsets are converted, not dropped.
    got = query(
        wh,
        "select strftime(finished_at, '%Y-%m-%d %H:%M') as t from core.deployments "
        "where deployment_id in ('files:deployment:d3', 'files:deployment:d4') order by deployment_id",
    )
    assert [r["t"] for r in got] == ["2024-01-31 23:30", "2024-02-01 00:30"]


def test_empty_month_gives_zero_counts_and_null_rates(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-01-10T00:00:00Z"),
                dep("d2", "2024-03-10T00:00:00Z", rollback=True),
            )
        }
    )
    # February has no deployment at all: counts are 0, rates are NULL with sample size 0.
    df = kpi(wh, "deployment_frequency", "2024-02")
    assert (df["value"], df["sample_size"]) == (0, 0)
    rb = kpi(wh, "rollback_frequency", "2024-02")
    assert (rb["value"], rb["sample_size"]) == (0, 0)
    for rate in ("change_failure_rate", "rework_rate", "deployment_success_rate"):
        row = kpi(wh, rate, "2024-02")
        assert (row["value"], row["sample_size"]) == (None, 0), rate
    # 0 deployments per service is below the 2024 "medium" bound (1 per month): low.
    assert df["tier"] == "low"
    # A service that never deploys still has a row in every month: 0, and NULL rates.
    web = kpi(wh, "deployment_frequency", "2024-01", "service", "web")
    assert (web["value"], web["sample_size"]) == (0, 0)
    assert kpi(wh, "change_failure_rate", "2024-01", "service", "web")["value"] is None
    # March: d2 is the only deployment and a rollback: 1 rollback, rework 1/1 = 1.0.
    assert kpi(wh, "rollback_frequency", "2024-03")["value"] == 1
    assert kpi(wh, "rework_rate", "2024-03")["value"] == 1.0


def test_every_kpi_for_every_month_and_scope_exactly_once(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-01-10T00:00:00Z"),
                dep("d2", "2024-04-10T00:00:00Z", service="indexer"),
            )
        }
    )
    [counts] = query(
        wh,
        "select count(*) as n, count(distinct (month, scope_type, scope, kpi_id)) as distinct_keys, "
        "count(distinct month) as months, count(distinct kpi_id) as kpis from marts.kpi_monthly",
    )
    # Months January..April = 4; scopes: org + 2 teams + 3 services = 6; every monthly catalog KPI
    # (13 DORA/CI ones at the time of writing). 4 * 6 * 13 = 312 rows, none duplicated.
    monthly = [k.id for k in load_catalog() if "monthly" in k.grains]
    assert {"deployment_frequency", "change_failure_rate", "ci_pipeline_success_rate"} <= set(monthly)
    n = 4 * 6 * len(monthly)
    assert counts == {"n": n, "distinct_keys": n, "months": 4, "kpis": len(monthly)}
    scopes = query(wh, "select distinct scope_type, scope from marts.kpi_monthly order by all")
    assert [(r["scope_type"], r["scope"]) for r in scopes] == [
        ("org", "all"),
        ("service", "api"),
        ("service", "indexer"),
        ("service", "web"),
        ("team", "payments"),
        ("team", "search"),
    ]
    months = query(wh, "select distinct month from marts.kpi_monthly order by month")
    assert [str(r["month"]) for r in months] == ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
    [types] = query(
        wh,
        "select typeof(month) as month, typeof(value) as value, typeof(sample_size) as n from marts.kpi_monthly limit 1",
    )
    assert types["month"] == "DATE" and types["value"] == "DOUBLE"
    units = query(wh, "select distinct kpi_id, unit from marts.kpi_monthly")
    units = {r["kpi_id"]: r["unit"] for r in units}
    assert units["deployment_frequency"] == "deployments"
    assert units["change_failure_rate"] == units["deployment_success_rate"] == "ratio"
    assert units["mttr_hours"] == units["lead_time_for_changes_p50_hours"] == "hours"
    assert units["build_duration_p95_sec"] == "seconds"


def test_scopes_org_team_service(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("a1", "2024-01-02T00:00:00Z", service="api"),
                dep("a2", "2024-01-03T00:00:00Z", service="api", rollback=True),  # a1 rolled back
                dep("a3", "2024-01-04T00:00:00Z", service="api", status="failure"),
                dep("w1", "2024-01-05T00:00:00Z", service="web", hotfix=True),
                dep("x1", "2024-01-06T00:00:00Z", service="indexer"),
                dep("x2", "2024-01-07T00:00:00Z", service="indexer", environment="staging"),
            )
        }
    )

    def val(kpi_id, scope_type, scope):
        return kpi(wh, kpi_id, "2024-01", scope_type, scope)["value"]

    # Successful production deployments: api a1, a2 (2); web w1 (1); indexer x1 (1).
    assert val("deployment_frequency", "service", "api") == 2
    assert val("deployment_frequency", "service", "web") == 1
    assert val("deployment_frequency", "service", "indexer") == 1
    assert val("deployment_frequency", "team", "payments") == 3  # api 2 + web 1
    assert val("deployment_frequency", "team", "search") == 1  # indexer 1
    assert val("deployment_frequency", "org", "all") == 4  # 2 + 1 + 1
    # Failed: a1 (next api deployment a2 is a rollback).
    assert val("change_failure_rate", "service", "api") == pytest.approx(1 / 2)  # a1 of a1, a2
    assert val("change_failure_rate", "team", "payments") == pytest.approx(1 / 3)  # a1 of a1, a2, w1
    assert val("change_failure_rate", "team", "search") == 0.0  # x1 not failed
    assert val("change_failure_rate", "org", "all") == pytest.approx(1 / 4)  # a1 of 4
    # Success rate: api a1, a2 success + a3 failure -> 2/3; org 4 successes, 1 failure -> 4/5.
    assert val("deployment_success_rate", "service", "api") == pytest.approx(2 / 3)
    assert val("deployment_success_rate", "org", "all") == pytest.approx(4 / 5)
    # Rework: a2 (rollback); w1 is a hotfix with no incident before it, planned work (see
    # test_rework_rate.py): payments 1/3, org 1/4.
    assert val("rework_rate", "team", "payments") == pytest.approx(1 / 3)
    assert val("rework_rate", "org", "all") == pytest.approx(1 / 4)


def test_deployment_success_rate_excludes_canceled_and_unfinished(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-01-02T00:00:00Z", status="SUCCESS"),
                dep("d2", "2024-01-03T00:00:00Z", status="Succeeded"),
                dep("d3", "2024-01-04T00:00:00Z", status="ok"),
                dep("d4", "2024-01-05T00:00:00Z", status="FAILED"),
                dep("d5", "2024-01-06T00:00:00Z", status="cancelled"),
                dep("d6", "", status="running", started_at="2024-01-07T00:00:00Z"),
                dep("d7", "2024-01-08T00:00:00Z", status="error", environment="staging"),
            )
        }
    )
    # Production, finished, success or failure: d1, d2, d3 (success), d4 (failure).
    # d5 canceled and d6 unfinished are excluded; d7 is not production. 3 / (3 + 1) = 0.75.
    row = kpi(wh, "deployment_success_rate", "2024-01")
    assert (row["value"], row["sample_size"]) == (0.75, 4)
    # Default target: absolute >= 0.98; 0.75 misses it.
    assert (row["target"], row["target_met"]) == (0.98, False)
    # Status spellings are normalized and the raw spelling kept.
    statuses = query(wh, "select original_status, status from core.deployments order by deployment_id")
    assert [(r["original_status"], r["status"]) for r in statuses] == [
        ("SUCCESS", "SUCCESS"),
        ("Succeeded", "SUCCESS"),
        ("ok", "SUCCESS"),
        ("FAILED", "FAILURE"),
        ("cancelled", "CANCELED"),
        ("running", "IN_PROGRESS"),
        ("error", "FAILURE"),
    ]
    # Deployment frequency only counts successes: d1, d2, d3 = 3.
    assert kpi(wh, "deployment_frequency", "2024-01")["value"] == 3


def test_rollback_frequency_and_rework_rate(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-01-02T00:00:00Z"),
                dep("d2", "2024-01-03T00:00:00Z", rollback=True),
                dep("d3", "2024-01-04T00:00:00Z", hotfix=True),
                dep("d4", "2024-01-05T00:00:00Z", rollback=True, hotfix=True),
                dep("d5", "2024-01-06T00:00:00Z", rollback="no", hotfix="0"),
                # not counted: a rollback to staging, and a production rollback that failed
                dep("d6", "2024-01-07T00:00:00Z", environment="staging", rollback=True),
                dep("d7", "2024-01-08T00:00:00Z", status="failed", rollback=True),
            )
        }
    )
    # Successful production deployments d1..d5 = 5; rollbacks among them d2, d4 = 2.
    rb = kpi(wh, "rollback_frequency", "2024-01")
    assert (rb["value"], rb["sample_size"]) == (2, 5)
    # Rework: rollbacks d2, d4; the hotfix d3 has no incident before it, so it is planned: 2 of 5 = 0.4
    # (tests/kpi/test_rework_rate.py pins the incident rules).
    rw = kpi(wh, "rework_rate", "2024-01")
    assert (rw["value"], rw["sample_size"]) == (pytest.approx(0.4), 5)
