"""Golden tests: lead time for changes (median and p90, continuous quantiles), explicit vs inferred
deploying deployment, a service's first deployment, month boundaries and timezone offsets.

Every expected number is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import pytest

from tests.conftest import changes, chg, dep, deployments, kpi, query


def lead_times(wh) -> dict[str, tuple[str, str, float]]:
    rows = query(wh, "select change_id, deployment_id, link_type, lead_time_sec from core.change_lead_times")
    return {
        r["change_id"].removeprefix("files:change:"): (
            r["deployment_id"].removeprefix("files:deployment:"),
            r["link_type"],
            r["lead_time_sec"] / 3600,
        )
        for r in rows
    }


def test_explicit_and_inferred_deploying_deployment(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-01-10T12:00:00Z"),
                dep("s1", "2024-01-15T00:00:00Z", environment="staging"),
                dep("f1", "2024-01-18T00:00:00Z", status="failure"),
                dep("d2", "2024-01-20T12:00:00Z"),
            ),
            "changes.csv": changes(
                # merged 00:00, first successful production deployment at/after it: d1 (12:00).
                # Lead time from first commit 2024-01-09 12:00 to 2024-01-10 12:00 = 24 h.
                chg("c1", "2024-01-09T12:00:00Z", "2024-01-10T00:00:00Z"),
                # merged at the same instant d1 finished: ">= merged_at" includes d1 -> 0 h.
                chg("c2", "2024-01-10T12:00:00Z", "2024-01-10T12:00:00Z"),
                # merged 2024-01-12: s1 (staging) and f1 (failed) do not ship it; d2 does.
                # 2024-01-11 00:00 -> 2024-01-20 12:00 = 9 d 12 h = 228 h.
                chg("c3", "2024-01-11T00:00:00Z", "2024-01-12T00:00:00Z"),
                # names d2 although d1 would be inferred: 2024-01-05 00:00 -> 2024-01-20 12:00 = 372 h.
                chg("c4", "2024-01-05T00:00:00Z", "2024-01-06T00:00:00Z", deployment_id="d2"),
                # merged after the last deployment: not deployed, excluded.
                chg("c5", "2024-01-21T00:00:00Z", "2024-01-21T00:00:00Z"),
                # names a staging deployment: not deployed to production, excluded (it is not
                # re-inferred: the source said which deployment shipped it).
                chg("c6", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", deployment_id="s1"),
                # web never deploys: api's deployments do not ship web's changes.
                chg("c7", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", service="web"),
            ),
        }
    )
    assert lead_times(wh) == {
        "c1": ("d1", "inferred", 24.0),
        "c2": ("d1", "inferred", 0.0),
        "c3": ("d2", "inferred", 228.0),
        "c4": ("d2", "explicit", 372.0),
    }
    # January lead times sorted: 0, 24, 228, 372 (n = 4).
    # p50 (continuous): position 0.5 * 3 = 1.5 -> 24 + 0.5 * (228 - 24) = 126 h.
    p50 = kpi(wh, "lead_time_for_changes_p50_hours", "2024-01")
    assert (p50["value"], p50["sample_size"]) == (pytest.approx(126.0), 4)
    # p90: position 0.9 * 3 = 2.7 -> 228 + 0.7 * (372 - 228) = 228 + 100.8 = 328.8 h.
    p90 = kpi(wh, "lead_time_for_changes_p90_hours", "2024-01")
    assert (p90["value"], p90["sample_size"]) == (pytest.approx(328.8), 4)
    # 126 h: > 24 h (elite), <= 168 h -> high. p90 has no tiers.
    assert (p50["tier"], p90["tier"]) == ("high", None)
    # web: no deployed change -> NULL with sample size 0.
    web = kpi(wh, "lead_time_for_changes_p50_hours", "2024-01", "service", "web")
    assert (web["value"], web["sample_size"]) == (None, 0)


def test_first_deployment_of_a_service_ships_everything_merged_before_it(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                # the service's first deployment ever: 01:00 at +02:00 = 2024-01-31 23:00 UTC, January
                dep("d1", "2024-02-01T01:00:00+02:00"),
                dep("d2", "2024-02-01T00:00:00Z"),
            ),
            "changes.csv": changes(
                # merged weeks before the first deployment: 2024-01-01 00:00 -> 2024-01-31 23:00
                # = 30 d 23 h = 743 h
                chg("c1", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"),
                # first commit in December: 2023-12-31 23:00 -> 2024-01-31 23:00 = 31 d = 744 h
                chg("c2", "2023-12-31T23:00:00Z", "2024-01-31T22:00:00Z"),
                # merged 23:30 UTC, after d1 (23:00): shipped by d2 at 00:00 -> 0.5 h, in February
                # (01:30 at +02:00 = 23:30 UTC on 2024-01-31)
                chg("c3", "2024-02-01T01:30:00+02:00", "2024-02-01T01:30:00+02:00"),
            ),
        }
    )
    assert lead_times(wh) == {
        "c1": ("d1", "inferred", 743.0),
        "c2": ("d1", "inferred", 744.0),
        "c3": ("d2", "inferred", 0.5),
    }
    # January (month of d1's finish in UTC): 743, 744 -> median 743.5 h, p90 743 + 0.9 * 1 = 743.9 h.
    jan = kpi(wh, "lead_time_for_changes_p50_hours", "2024-01")
    assert (jan["value"], jan["sample_size"]) == (pytest.approx(743.5), 2)
    assert kpi(wh, "lead_time_for_changes_p90_hours", "2024-01")["value"] == pytest.approx(743.9)
    # 743.5 h > 720 h (one month): low.
    assert jan["tier"] == "low"
    # February: c3 only -> 0.5 h, elite (<= 24 h).
    feb = kpi(wh, "lead_time_for_changes_p50_hours", "2024-02")
    assert (feb["value"], feb["sample_size"], feb["tier"]) == (pytest.approx(0.5), 1, "elite")
    # December 2023 has c2's first commit but no deployment: it is not a month of the table
    # (months run from the first to the last observation).
    months = query(wh, "select min(month) as first from marts.kpi_monthly")
    assert str(months[0]["first"]) == "2024-01-01"


def test_lead_time_scopes(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("a1", "2024-01-10T00:00:00Z", service="api"),
                dep("w1", "2024-01-10T00:00:00Z", service="web"),
                dep("x1", "2024-01-10T00:00:00Z", service="indexer"),
            ),
            "changes.csv": changes(
                chg("ca", "2024-01-09T22:00:00Z", "2024-01-09T23:00:00Z", service="api"),  # 2 h
                chg("cw", "2024-01-09T20:00:00Z", "2024-01-09T23:00:00Z", service="web"),  # 4 h
                chg("cx", "2024-01-09T00:00:00Z", "2024-01-09T23:00:00Z", service="indexer"),  # 24 h
            ),
        }
    )
    # payments = api + web: median of 2, 4 = 3 h; search = indexer: 24 h; org: median of 2, 4, 24 = 4 h.
    assert kpi(wh, "lead_time_for_changes_p50_hours", "2024-01", "team", "payments")["value"] == 3.0
    assert kpi(wh, "lead_time_for_changes_p50_hours", "2024-01", "team", "search")["value"] == 24.0
    assert kpi(wh, "lead_time_for_changes_p50_hours", "2024-01", "service", "web")["value"] == 4.0
    org = kpi(wh, "lead_time_for_changes_p50_hours", "2024-01")
    assert (org["value"], org["sample_size"]) == (4.0, 3)
