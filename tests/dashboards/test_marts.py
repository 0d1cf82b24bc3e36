"""The marts built for the dashboard, pinned on small inputs whose answers are worked out by hand:
CI pipeline stats (flaky failures), deployments per environment, lead-time stages and bands."""

from __future__ import annotations

import pytest

from tests.conftest import bld, builds, changes, chg, dep, deployments, query


def test_ci_pipeline_stats_counts_flaky_failures_and_percentiles(warehouse_of) -> None:
    warehouse = warehouse_of(
        {
            "builds.csv": builds(
                # api/main: fail, retried 5 min later and passed -> one flaky failure
                bld("b1", "2026-03-02T10:00:00Z", "2026-03-02T10:10:00Z", status="failure"),
                bld("b2", "2026-03-02T10:15:00Z", "2026-03-02T10:25:00Z"),
                # api/main: fail, next build 2 hours later passes -> a real failure, not flaky
                bld("b3", "2026-03-03T10:00:00Z", "2026-03-03T10:20:00Z", status="failure"),
                bld("b4", "2026-03-03T12:20:00Z", "2026-03-03T12:50:00Z"),
                # api/feature: fail then fail -> not flaky
                bld(
                    "b5", "2026-03-04T10:00:00Z", "2026-03-04T10:40:00Z", branch="feature/x", status="failure"
                ),
                bld(
                    "b6", "2026-03-04T10:45:00Z", "2026-03-04T11:35:00Z", branch="feature/x", status="failure"
                ),
                # web/main: one pass in March, one in April
                bld("b7", "2026-03-05T10:00:00Z", "2026-03-05T10:05:00Z", service="web"),
                bld("b8", "2026-04-05T10:00:00Z", "2026-04-05T10:05:00Z", service="web"),
            ),
        }
    )
    rows = {
        (str(r["month"]), r["service"]): r for r in query(warehouse, "select * from marts.ci_pipeline_stats")
    }
    api = rows[("2026-03-01", "api")]
    assert api["builds"] == 6
    assert api["default_branch_builds"] == 4
    assert api["default_branch_success_rate"] == pytest.approx(2 / 4)
    assert api["failures"] == 4
    assert api["flaky_failures"] == 1
    assert api["flaky_rate"] == pytest.approx(1 / 6)
    # durations (min): 10, 10, 20, 30, 40, 50 -> median 25 min; p95 = 40 + 0.75 * 10 = 47.5 min
    assert api["duration_p50_sec"] == pytest.approx(25 * 60)
    assert api["duration_p95_sec"] == pytest.approx(47.5 * 60)
    assert rows[("2026-03-01", "web")]["builds"] == 1
    assert rows[("2026-04-01", "web")]["flaky_failures"] == 0
    # the same build-duration median as the KPI table, for the same service and month
    kpi = query(
        warehouse,
        "select value from marts.kpi_monthly where kpi_id = 'build_duration_p50_sec' "
        "and scope_type = 'service' and scope = 'api' and month = '2026-03-01'",
    )
    assert kpi[0]["value"] == pytest.approx(api["duration_p50_sec"])


def test_deployments_by_environment_keeps_every_environment(warehouse_of) -> None:
    warehouse = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2026-03-02T10:00:00Z", environment="prod"),
                dep("d2", "2026-03-03T10:00:00Z", environment="prod", status="failure"),
                dep("d3", "2026-03-04T10:00:00Z", environment="prod", rollback=True),
                dep("d4", "2026-03-05T10:00:00Z", environment="staging"),
                dep("d5", "2026-03-06T10:00:00Z", environment="staging", hotfix=True),
            ),
        }
    )
    got = {
        r["environment"]: (
            r["is_production"],
            r["attempts"],
            r["successful"],
            r["failed"],
            r["rollbacks"],
            r["hotfixes"],
        )
        for r in query(warehouse, "select * from marts.deployments_by_environment where service = 'api'")
    }
    assert got == {"prod": (True, 3, 2, 1, 1, 0), "staging": (False, 2, 2, 0, 0, 1)}


def test_lead_time_stages_and_bands(warehouse_of) -> None:
    warehouse = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2026-03-10T12:00:00Z"),
                dep("d2", "2026-03-20T12:00:00Z", service="web"),
            ),
            "changes.csv": changes(
                # coding 2 h, release 1 h -> 3 h total (band 1 hour - 1 day)
                chg("c1", "2026-03-10T09:00:00Z", "2026-03-10T11:00:00Z", deployment_id="d1"),
                # coding 30 min, release 0 -> 30 min total (band < 1 hour)
                chg("c2", "2026-03-10T11:30:00Z", "2026-03-10T12:00:00Z", deployment_id="d1"),
                # web: coding 10 days, release 0 -> 10 days (band 1 week - 1 month)
                chg("c3", "2026-03-10T12:00:00Z", "2026-03-20T12:00:00Z", service="web", deployment_id="d2"),
            ),
        }
    )
    stages = {
        (r["scope"], r["stage"]): (r["p50_hours"], r["n"])
        for r in query(warehouse, "select * from marts.lead_time_stages where month = '2026-03-01'")
    }
    assert stages[("api", "coding")] == (pytest.approx(1.25), 2)  # median of 2 h and 0.5 h
    assert stages[("api", "deploy")] == (pytest.approx(0.5), 2)  # median of 1 h and 0 h
    assert stages[("api", "total")] == (pytest.approx(1.75), 2)  # median of 3 h and 0.5 h
    assert stages[("payments", "total")] == (
        pytest.approx(3.0),
        3,
    )  # api and web are both payments': 0.5, 3, 240 h
    assert stages[("all", "total")] == (pytest.approx(3.0), 3)  # median of 0.5, 3 and 240 h
    bands = {
        (r["scope"], r["bucket"]): r["changes"]
        for r in query(warehouse, "select * from marts.lead_time_buckets where month = '2026-03-01'")
    }
    assert bands[("all", "< 1 hour")] == 1
    assert bands[("all", "1 hour – 1 day")] == 1
    assert bands[("all", "1 week – 1 month")] == 1
    assert bands[("web", "1 week – 1 month")] == 1
    assert ("api", "1 week – 1 month") not in bands
