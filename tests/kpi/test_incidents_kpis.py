"""Golden tests: change failure rate (explicit link, window link, rollback), failed deployment
recovery time, MTTR and median time to restore.

Every expected number is worked out by hand in the comment next to it. Link window: 24 h (default).
"""

from __future__ import annotations

import pytest

from tests.conftest import dep, deployments, inc, incidents, kpi, query


def outcomes(wh) -> dict[str, dict]:
    rows = query(wh, "select * from core.deployment_outcomes")
    return {r["deployment_id"].removeprefix("files:deployment:"): r for r in rows}


def links(wh) -> dict[str, tuple[str, str]]:
    rows = query(wh, "select * from core.incident_links")
    return {
        r["incident_id"].removeprefix("files:incident:"): (
            r["deployment_id"].removeprefix("files:deployment:"),
            r["link_type"],
        )
        for r in rows
    }


def test_explicit_link_names_the_deployment_and_blocks_the_window_link(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-01-10T00:00:00Z"),
                dep("d2", "2024-01-20T00:00:00Z"),
            ),
            "incidents.csv": incidents(
                # names d1 although d2 is the latest deployment and only 1 h before it
                inc("i1", "2024-01-20T01:00:00Z", "2024-01-20T03:00:00Z", cause="d1"),
            ),
        }
    )
    assert links(wh) == {"i1": ("d1", "explicit")}
    out = outcomes(wh)
    assert (out["d1"]["is_failed"], out["d1"]["failure_reason"]) == (True, "incident names it")
    assert out["d2"]["is_failed"] is False
    # 1 failed (d1) of 2 successful production deployments = 0.5.
    cfr = kpi(wh, "change_failure_rate", "2024-01")
    assert (cfr["value"], cfr["sample_size"]) == (0.5, 2)


def test_window_link_goes_to_latest_production_deployment_within_24h(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-01-10T10:00:00Z"),
                dep("d2", "2024-01-10T12:00:00Z"),
                dep("d3", "2024-01-15T00:00:00Z"),
                dep("d4", "2024-01-20T00:00:00Z"),
                dep("d5", "2024-01-25T00:00:00Z"),
                # later but not successful production: they do not hide d5
                dep("s1", "2024-01-25T01:00:00Z", environment="staging"),
                dep("f1", "2024-01-25T02:00:00Z", status="failure"),
            ),
            "incidents.csv": incidents(
                # before the service's first deployment: linked to nothing
                inc("i0", "2024-01-01T00:00:00Z"),
                # 1 h after d2, 3 h after d1: the latest (d2) takes it
                inc("i1", "2024-01-10T13:00:00Z"),
                # exactly 24 h after d3: "at most 24 hours" includes it
                inc("i2", "2024-01-16T00:00:00Z"),
                # 24 h + 1 s after d4: outside the window
                inc("i3", "2024-01-21T00:00:01Z"),
                # 3 h after d5 (s1, f1 come later but are not successful production deployments)
                inc("i4", "2024-01-25T03:00:00Z"),
                # another service's incident never links to api's deployments (web never deploys)
                inc("i5", "2024-01-20T01:00:00Z", service="web"),
            ),
        }
    )
    assert links(wh) == {
        "i1": ("d2", "window"),
        "i2": ("d3", "window"),
        "i4": ("d5", "window"),
    }
    # Failed: d2, d3, d5 = 3 of d1..d5 = 5 -> 0.6.
    cfr = kpi(wh, "change_failure_rate", "2024-01")
    assert (cfr["value"], cfr["sample_size"]) == (pytest.approx(0.6), 5)
    # web has no deployments: its CFR is NULL with sample size 0, not 0.
    web = kpi(wh, "change_failure_rate", "2024-01", "service", "web")
    assert (web["value"], web["sample_size"]) == (None, 0)


def test_custom_link_window_from_config(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(dep("d1", "2024-01-10T00:00:00Z")),
            "incidents.csv": incidents(
                inc("i1", "2024-01-10T03:00:00Z"),  # 3 h after d1
            ),
        },
        "incident_link_window_hours: 2\n",
    )
    # A 2 h window does not reach an incident 3 h later: d1 did not fail, CFR 0 / 1 = 0.
    assert links(wh) == {}
    assert kpi(wh, "change_failure_rate", "2024-01")["value"] == 0.0


def test_rollback_only_failure_across_a_month_boundary(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-01-31T23:00:00Z"),
                # 2024-02-01 02:00 at +01:00 = 01:00 UTC, February; it rolls d1 back
                dep("d2", "2024-02-01T02:00:00+01:00", rollback=True),
                dep("d3", "2024-02-10T00:00:00Z"),
                # a staging rollback is not the next successful production deployment
                dep("s1", "2024-02-11T00:00:00Z", environment="staging", rollback=True),
                dep("d4", "2024-02-12T00:00:00Z"),
                # a rollback of another service does not fail api's d4
                dep("w1", "2024-02-13T00:00:00Z", service="web", rollback=True),
            )
        }
    )
    out = outcomes(wh)
    assert (out["d1"]["is_failed"], out["d1"]["failure_reason"]) == (True, "rolled back")
    assert out["d1"]["rollback_deployment_id"] == "files:deployment:d2"
    assert not any(out[d]["is_failed"] for d in ("d2", "d3", "d4", "w1"))
    # January: d1 only, failed -> 1 / 1 = 1.0 (the failure belongs to d1's month, not the rollback's).
    jan = kpi(wh, "change_failure_rate", "2024-01")
    assert (jan["value"], jan["sample_size"]) == (1.0, 1)
    # February: d2, d3, d4, w1 -> 0 failed / 4 = 0.0.
    feb = kpi(wh, "change_failure_rate", "2024-02")
    assert (feb["value"], feb["sample_size"]) == (0.0, 4)
    # January recovery: rolled back at 2024-02-01 01:00, finished 2024-01-31 23:00 -> 2 h.
    fdrt = kpi(wh, "failed_deployment_recovery_time_p50_hours", "2024-01")
    assert (fdrt["value"], fdrt["sample_size"]) == (2.0, 1)


def test_failed_deployment_recovery_time_and_restore_times(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-03-01T00:00:00Z"),
                dep("d2", "2024-03-02T00:00:00Z"),
                dep("d3", "2024-03-03T00:00:00Z", rollback=True),  # rolls d2 back
                dep("d4", "2024-03-05T00:00:00Z"),
                dep("d5", "2024-03-05T06:00:00Z", rollback=True),  # rolls d4 back
                dep("d6", "2024-03-10T00:00:00Z"),
                dep("d7", "2024-03-12T00:00:00Z", service="web"),
            ),
            "incidents.csv": incidents(
                # d1: one explicit incident resolved at 05:00 -> recovered after 5 h
                inc("i1", "2024-03-01T01:00:00Z", "2024-03-01T05:00:00Z", cause="d1"),
                # d2: a window incident resolved 03:00 and an explicit one resolved 10:00: the latest
                # resolution is 10:00 (10 h); the rollback d3 finishes 24 h after d2; earlier = 10 h
                inc("i2", "2024-03-02T01:00:00Z", "2024-03-02T03:00:00Z"),
                inc("i3", "2024-03-02T02:00:00Z", "2024-03-02T10:00:00Z", cause="d2"),
                # d4: incident never resolved, but rolled back by d5 6 h later -> 6 h
                inc("i4", "2024-03-05T01:00:00Z", cause="d4"),
                # d6: incident never resolved, no rollback -> failed, not recovered, excluded
                inc("i5", "2024-03-10T02:00:00Z", cause="d6"),
                # d7 (web): one incident resolved, one (window) never resolved -> not recovered
                inc("i6", "2024-03-12T00:30:00Z", "2024-03-12T02:00:00Z", service="web", cause="d7"),
                inc("i7", "2024-03-12T01:00:00Z", service="web"),
            ),
        }
    )
    out = outcomes(wh)
    failed = sorted(d for d, r in out.items() if r["is_failed"])
    assert failed == ["d1", "d2", "d4", "d6", "d7"]
    assert out["d2"]["failure_reason"] == "incident names it, incident within window, rolled back"
    recovery = {d: r["recovery_time_sec"] for d, r in out.items() if r["is_failed"]}
    # 5 h, 10 h, 6 h in seconds; d6 and d7 not recovered.
    assert recovery == {"d1": 18000, "d2": 36000, "d4": 21600, "d6": None, "d7": None}

    # CFR: 5 failed of 7 successful production deployments.
    cfr = kpi(wh, "change_failure_rate", "2024-03")
    assert (cfr["value"], cfr["sample_size"]) == (pytest.approx(5 / 7), 7)
    # Recovery time median of 5, 10, 6 -> sorted 5, 6, 10 -> 6 h; sample 3 (unrecovered excluded).
    fdrt = kpi(wh, "failed_deployment_recovery_time_p50_hours", "2024-03")
    assert (fdrt["value"], fdrt["sample_size"]) == (6.0, 3)
    # 6 h <= 24 h: 2024 tier "high" (elite needs <= 1 h); absolute target <= 24 met.
    assert (fdrt["tier"], fdrt["target"], fdrt["target_met"]) == ("high", 24.0, True)
    # web's only failed deployment is not recovered: NULL with sample size 0.
    web = kpi(wh, "failed_deployment_recovery_time_p50_hours", "2024-03", "service", "web")
    assert (web["value"], web["sample_size"]) == (None, 0)

    # MTTR: incidents resolved in March: i1 4 h (01->05), i2 2 h (01->03), i3 8 h (02->10),
    # i6 1.5 h (00:30->02:00). Mean = (4 + 2 + 8 + 1.5) / 4 = 15.5 / 4 = 3.875 h.
    mttr = kpi(wh, "mttr_hours", "2024-03")
    assert (mttr["value"], mttr["sample_size"]) == (pytest.approx(3.875), 4)
    # Median of 1.5, 2, 4, 8 = (2 + 4) / 2 = 3.0 h.
    ttr = kpi(wh, "time_to_restore_p50_hours", "2024-03")
    assert (ttr["value"], ttr["sample_size"]) == (pytest.approx(3.0), 4)


def test_restore_time_month_is_resolution_month_and_incidents_need_no_deployment(warehouse_of):
    wh = warehouse_of(
        {
            "incidents.csv": incidents(
                # no deployments anywhere: incidents still count for MTTR
                inc("i1", "2024-01-10T10:00:00Z", "2024-01-10T11:30:00Z"),  # 1.5 h, January
                # created in January, resolved in February: 20:00 -> 04:00 = 8 h, February
                inc("i2", "2024-01-31T20:00:00Z", "2024-02-01T04:00:00Z"),
                # 10:00 at +02:00 = 08:00 UTC, resolved 09:00 UTC: 1 h, February
                inc("i3", "2024-02-10T10:00:00+02:00", "2024-02-10T09:00:00Z", service="web"),
                inc("i4", "2024-02-20T00:00:00Z", "2024-02-20T00:30:00Z", service="indexer"),  # 0.5 h
                # never resolved: excluded
                inc("i5", "2024-02-12T00:00:00Z"),
            ),
        }
    )
    jan = kpi(wh, "mttr_hours", "2024-01")
    assert (jan["value"], jan["sample_size"]) == (1.5, 1)
    # February: 8, 1, 0.5 -> mean 9.5 / 3 = 3.1666... h; median 1.0 h.
    feb = kpi(wh, "mttr_hours", "2024-02")
    assert (feb["value"], feb["sample_size"]) == (pytest.approx(9.5 / 3), 3)
    med = kpi(wh, "time_to_restore_p50_hours", "2024-02")
    assert med["value"] == pytest.approx(1.0)
    # Median 1.0 h <= 1 h: elite (2024 bound "less than an hour" kept inclusive as <= 1).
    assert med["tier"] == "elite"
    # January's 1.5 h > 1 h, <= 24 h: high.
    assert kpi(wh, "time_to_restore_p50_hours", "2024-01")["tier"] == "high"
    # Team scope: payments (api, web) in February: i2 (api) 8 h, i3 (web) 1 h -> mean 4.5 h.
    assert kpi(wh, "mttr_hours", "2024-02", "team", "payments")["value"] == pytest.approx(4.5)
    # No successful production deployment at all: CFR NULL, never 0.
    cfr = kpi(wh, "change_failure_rate", "2024-02")
    assert (cfr["value"], cfr["sample_size"]) == (None, 0)
    assert kpi(wh, "deployment_frequency", "2024-02")["value"] == 0
