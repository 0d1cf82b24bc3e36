"""Golden tests: CI pipeline success rate (default branch), build duration p50/p95, and the weekly
grain (weeks start on Monday, UTC).

Every expected number is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import pytest

from tests.conftest import bld, builds, dep, deployments, kpi, query, weekly


def test_ci_success_rate_counts_default_branch_builds_and_durations_count_all(warehouse_of):
    wh = warehouse_of(
        {
            "builds.csv": builds(
                bld("b1", "2024-01-02T10:00:00Z", "2024-01-02T10:10:00Z"),  # main, success, 600 s
                bld("b2", "2024-01-02T11:00:00Z", "2024-01-02T11:20:00Z", status="FAILED"),  # 1200 s
                bld(
                    "b3", "2024-01-02T12:00:00Z", "2024-01-02T12:05:00Z", branch="master", status="passed"
                ),  # 300 s
                # the source says trunk is its default branch: counted
                bld(
                    "b4", "2024-01-02T13:00:00Z", "2024-01-02T13:30:00Z", branch="trunk", default=True
                ),  # 1800 s
                # the source says this main is not the default branch: not counted for CI success
                bld(
                    "b5", "2024-01-02T14:00:00Z", "2024-01-02T14:01:00Z", status="failure", default=False
                ),  # 60 s
                bld("b6", "2024-01-02T15:00:00Z", "2024-01-02T15:02:00Z", branch="feature/x"),  # 120 s
                # canceled, skipped, unfinished: in neither KPI
                bld("b7", "2024-01-02T16:00:00Z", "2024-01-02T16:03:00Z", status="canceled"),
                bld("b8", "2024-01-02T16:00:00Z", "2024-01-02T16:00:00Z", status="skipped"),
                bld("b9", "2024-01-02T17:00:00Z", "", status="running"),
            )
        }
    )
    # Default-branch builds finished with success/failure: b1 S, b2 F, b3 S, b4 S -> 3 / 4 = 0.75.
    ci = kpi(wh, "ci_pipeline_success_rate", "2024-01")
    assert (ci["value"], ci["sample_size"]) == (0.75, 4)
    # Default target >= 0.90: missed.
    assert (ci["target"], ci["target_met"]) == (0.9, False)
    # Durations of success/failure builds on any branch: 60, 120, 300, 600, 1200, 1800 (n = 6).
    # p50: position 0.5 * 5 = 2.5 -> 300 + 0.5 * (600 - 300) = 450 s.
    p50 = kpi(wh, "build_duration_p50_sec", "2024-01")
    assert (p50["value"], p50["sample_size"]) == (pytest.approx(450.0), 6)
    # p95: position 0.95 * 5 = 4.75 -> 1200 + 0.75 * (1800 - 1200) = 1650 s.
    assert kpi(wh, "build_duration_p95_sec", "2024-01")["value"] == pytest.approx(1650.0)
    # Status spellings normalized, raw spelling kept.
    statuses = query(
        wh,
        "select original_status, status from core.cicd_builds where build_id like '%b2' "
        "or build_id like '%b3'  order by build_id",
    )
    assert [(r["original_status"], r["status"]) for r in statuses] == [
        ("FAILED", "FAILURE"),
        ("passed", "SUCCESS"),
    ]


def test_default_branches_from_config(warehouse_of):
    wh = warehouse_of(
        {
            "builds.csv": builds(
                bld("b1", "2024-01-02T10:00:00Z", "2024-01-02T10:10:00Z", branch="main", status="failure"),
                bld("b2", "2024-01-02T11:00:00Z", "2024-01-02T11:10:00Z", branch="develop"),
                bld("b3", "2024-01-02T12:00:00Z", "2024-01-02T12:10:00Z", branch="develop", status="failure"),
                bld("b4", "2024-01-02T13:00:00Z", "2024-01-02T13:10:00Z", branch="develop"),
            )
        },
        "default_branches: [develop]\n",
    )
    # Only develop is a default branch now: b2 S, b3 F, b4 S -> 2 / 3; main's failure not counted.
    ci = kpi(wh, "ci_pipeline_success_rate", "2024-01")
    assert (ci["value"], ci["sample_size"]) == (pytest.approx(2 / 3), 3)


def test_weekly_grain_weeks_start_monday_utc(warehouse_of):
    wh = warehouse_of(
        {
            "builds.csv": builds(
                # Sunday 2024-01-07 23:59 UTC -> week of Monday 2024-01-01
                bld("w1", "2024-01-07T23:58:00Z", "2024-01-07T23:59:00Z"),  # 60 s
                # Monday 00:30 at +01:00 = Sunday 23:30 UTC -> week of 2024-01-01
                bld(
                    "w2", "2024-01-08T00:00:00+01:00", "2024-01-08T00:30:00+01:00", status="failure"
                ),  # 1800 s
                # Monday 2024-01-08 00:00 UTC -> week of 2024-01-08
                bld("w3", "2024-01-07T23:50:00Z", "2024-01-08T00:00:00Z"),  # 600 s
                # Sunday 2024-01-14 23:00 -> week of 2024-01-08
                bld("w4", "2024-01-14T22:00:00Z", "2024-01-14T23:00:00Z"),  # 3600 s
                # Monday 2024-01-15 -> week of 2024-01-15
                bld("w5", "2024-01-15T00:00:00Z", "2024-01-15T00:02:00Z", status="failure"),  # 120 s
                # nothing in the week of 2024-01-22; Monday 2024-01-29 -> week of 2024-01-29
                bld("w6", "2024-01-29T10:00:00Z", "2024-01-29T10:05:00Z"),  # 300 s
            ),
            "deployments.csv": deployments(
                dep("d1", "2024-01-03T00:00:00Z"),
                dep("d2", "2024-01-04T00:00:00Z", status="failure"),
            ),
        }
    )
    # CI success per week: 01-01: w1 S, w2 F -> 1/2; 01-08: w3 S, w4 S -> 2/2; 01-15: w5 F -> 0/1.
    assert weekly(wh, "ci_pipeline_success_rate", "2024-01-01")["value"] == 0.5
    assert weekly(wh, "ci_pipeline_success_rate", "2024-01-08")["value"] == 1.0
    assert weekly(wh, "ci_pipeline_success_rate", "2024-01-15")["value"] == 0.0
    # The empty week 2024-01-22 is there, NULL with sample size 0.
    empty = weekly(wh, "ci_pipeline_success_rate", "2024-01-22")
    assert (empty["value"], empty["sample_size"]) == (None, 0)
    # Week 01-01 durations 60, 1800 -> median 930 s; week 01-08: 600, 3600 -> median 2100 s.
    assert weekly(wh, "build_duration_p50_sec", "2024-01-01")["value"] == pytest.approx(930.0)
    assert weekly(wh, "build_duration_p50_sec", "2024-01-08")["value"] == pytest.approx(2100.0)
    # Deployment success, week 01-01: d1 success, d2 failure -> 1/2.
    assert weekly(wh, "deployment_success_rate", "2024-01-01")["value"] == 0.5
    # Weekly targets use the same config: CI >= 0.90 met in week 01-08 (1.0), missed in 01-01 (0.5).
    assert weekly(wh, "ci_pipeline_success_rate", "2024-01-08")["target_met"] is True
    assert weekly(wh, "ci_pipeline_success_rate", "2024-01-01")["target_met"] is False
    # Only the KPIs with a weekly grain, and every week is a Monday.
    kpis = query(wh, "select distinct kpi_id from marts.kpi_weekly order by kpi_id")
    assert [r["kpi_id"] for r in kpis] == [
        "build_duration_p50_sec",
        "build_duration_p95_sec",
        "ci_pipeline_success_rate",
        "deployment_success_rate",
    ]
    weeks = query(wh, "select distinct week, isodow(week) as dow from marts.kpi_weekly order by week")
    assert [str(r["week"]) for r in weeks] == [
        "2024-01-01",
        "2024-01-08",
        "2024-01-15",
        "2024-01-22",
        "2024-01-29",
    ]
    assert {r["dow"] for r in weeks} == {1}
    # The month: all six builds on main -> w1, w3, w4, w6 succeed: 4 / 6.
    assert kpi(wh, "ci_pipeline_success_rate", "2024-01")["value"] == pytest.approx(4 / 6)


def test_relative_previous_year_target_at_weekly_and_monthly_grain(warehouse_of):
    # Default config: build_duration_p95_sec {kind: relative, baseline: previous_year, change: -0.20}.
    wh = warehouse_of(
        {
            "builds.csv": builds(
                # Monday 2023-01-02: one build of 1000 s -> p95 of the week (and of January 2023) = 1000
                bld("b1", "2023-01-02T10:00:00Z", "2023-01-02T10:16:40Z"),
                # Monday 2024-01-01 (= 2023-01-02 + 364 days, the same weekday): one build of 800 s
                bld("b2", "2024-01-01T10:00:00Z", "2024-01-01T10:13:20Z"),
                # Monday 2024-01-08: 900 s; its baseline week 2023-01-09 is empty -> no target
                bld("b3", "2024-01-08T10:00:00Z", "2024-01-08T10:15:00Z"),
            )
        }
    )
    # Week 2024-01-01: target = 1000 * (1 - 0.20) = 800 s; 800 <= 800 met (lower is better).
    week = weekly(wh, "build_duration_p95_sec", "2024-01-01")
    assert (week["value"], week["target"], week["target_met"]) == (800.0, 800.0, True)
    later = weekly(wh, "build_duration_p95_sec", "2024-01-08")
    assert (later["value"], later["target"], later["target_met"]) == (900.0, None, None)
    # January 2024: p95 of 800, 900 = 800 + 0.95 * 100 = 895 s; target = January 2023's 1000 * 0.8 = 800;
    # 895 > 800 missed.
    month = kpi(wh, "build_duration_p95_sec", "2024-01")
    assert month["value"] == pytest.approx(895.0)
    assert (month["target"], month["target_met"]) == (800.0, False)
    assert month["unit"] == "seconds"
