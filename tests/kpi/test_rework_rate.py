"""Golden tests: DORA's deployment rework rate. A successful production deployment is rework when it
is a rollback, or a hotfix made because of a production incident of its service: an incident naming
the deployment just before the hotfix as its cause (explicit), or one created at most the link window
(24 h by default) before the hotfix finished (window). A hotfix with no incident before it is planned
work, not rework.

Every expected number is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import pytest

from tests.conftest import dep, deployments, inc, incidents, kpi, query


def reasons(wh) -> dict[str, tuple[bool, str | None]]:
    rows = query(wh, "select deployment_id, is_rework, rework_reason from core.deployment_outcomes")
    return {
        r["deployment_id"].removeprefix("files:deployment:"): (r["is_rework"], r["rework_reason"])
        for r in rows
    }


@pytest.fixture(scope="module")
def rework_warehouse(module_tmp):
    from tests.conftest import build_warehouse

    files = {
        "deployments.csv": deployments(
            # api (team payments)
            dep("d1", "2024-01-02T00:00:00Z"),  # planned
            dep("d2", "2024-01-03T00:00:00Z", rollback=True),  # a rollback is always rework
            dep("d3", "2024-01-05T00:00:00Z"),  # i1 names it as its cause
            dep("h1", "2024-01-08T00:00:00Z", hotfix=True),  # fixes d3 forward, 3 days after i1: explicit
            dep("d4", "2024-01-10T00:00:00Z"),
            dep("h2", "2024-01-10T20:00:00Z", hotfix=True),  # 14 h after i2 (no named cause): window
            dep("h3", "2024-01-20T00:00:00Z", hotfix=True),  # no incident in the 24 h before: planned
            dep("h4", "2024-01-25T00:00:00Z", hotfix=True),  # i3 comes 1 h after it: not its reason
            dep("d5", "2024-01-26T00:00:00Z", rollback=True, hotfix=True),  # a rollback, counted once
            # web (team payments): exactly at the window's end counts
            dep("h5", "2024-01-28T00:00:00Z", service="web", hotfix=True),
            # indexer (team search): one second past the window does not
            dep("h6", "2024-01-28T00:00:01Z", service="indexer", hotfix=True),
            # not counted at all: a hotfix to staging, a failed hotfix
            dep("s1", "2024-01-10T21:00:00Z", environment="staging", hotfix=True),
            dep("f1", "2024-01-10T22:00:00Z", status="failed", hotfix=True),
        ),
        "incidents.csv": incidents(
            inc("i1", "2024-01-05T02:00:00Z", "2024-01-08T00:30:00Z", cause="d3"),
            inc("i2", "2024-01-10T06:00:00Z", "2024-01-10T21:00:00Z"),
            inc("i3", "2024-01-25T01:00:00Z", "2024-01-25T02:00:00Z"),
            inc("i4", "2024-01-27T00:00:00Z", "2024-01-27T05:00:00Z", service="web"),
            inc("i5", "2024-01-27T00:00:00Z", "2024-01-27T05:00:00Z", service="indexer"),
        ),
    }
    return build_warehouse(module_tmp, files)


def test_rework_reason_per_deployment(rework_warehouse):
    assert reasons(rework_warehouse) == {
        "d1": (False, None),  # planned deployment
        "d2": (True, "rollback"),
        "d3": (False, None),  # it failed (i1 names it), but it was planned
        "h1": (True, "hotfix after an incident naming the previous deployment"),  # 70 h after i1
        "d4": (False, None),
        "h2": (True, "hotfix within the link window after an incident"),  # 14 h <= 24 h after i2
        "h3": (False, None),  # hotfix with no incident: i2 was 9 days 18 h before
        "h4": (False, None),  # i3 was created after h4 finished
        "d5": (True, "rollback"),  # rollback and hotfix flags: one rework deployment
        "h5": (True, "hotfix within the link window after an incident"),  # exactly 24 h after i4
        "h6": (False, None),  # 24 h 0 min 1 s after i5
    }


def test_rework_rate_by_scope(rework_warehouse):
    wh = rework_warehouse
    # api: 9 successful production deployments (d1..d5, h1..h4); rework d2, h1, h2, d5 = 4/9.
    api = kpi(wh, "rework_rate", "2024-01", "service", "api")
    assert (api["value"], api["sample_size"]) == (pytest.approx(4 / 9), 9)
    # web: h5 of 1 = 1.0; indexer: h6 is not rework, 0 of 1.
    assert kpi(wh, "rework_rate", "2024-01", "service", "web")["value"] == pytest.approx(1.0)
    assert kpi(wh, "rework_rate", "2024-01", "service", "indexer")["value"] == pytest.approx(0.0)
    # payments = api + web: (4 + 1) / (9 + 1) = 0.5; org: 5 / 11.
    assert kpi(wh, "rework_rate", "2024-01", "team", "payments")["value"] == pytest.approx(0.5)
    org = kpi(wh, "rework_rate", "2024-01")
    assert (org["value"], org["sample_size"]) == (pytest.approx(5 / 11), 11)


def test_rework_window_follows_the_configured_link_window(warehouse_of):
    # With a 12 h link window, h2 (14 h after i2) is no longer rework; the explicit h1 still is.
    config = "incident_link_window_hours: 12\n"
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d3", "2024-01-05T00:00:00Z"),
                dep("h1", "2024-01-08T00:00:00Z", hotfix=True),
                dep("d4", "2024-01-10T00:00:00Z"),
                dep("h2", "2024-01-10T20:00:00Z", hotfix=True),
            ),
            "incidents.csv": incidents(
                inc("i1", "2024-01-05T02:00:00Z", cause="d3"),
                inc("i2", "2024-01-10T06:00:00Z"),
            ),
        },
        config,
    )
    assert reasons(wh) == {
        "d3": (False, None),
        "h1": (True, "hotfix after an incident naming the previous deployment"),
        "d4": (False, None),
        "h2": (False, None),
    }
    # 1 rework (h1) of 4 deployments.
    assert kpi(wh, "rework_rate", "2024-01")["value"] == pytest.approx(0.25)
