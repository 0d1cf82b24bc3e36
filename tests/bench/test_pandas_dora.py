"""Golden cases for the pandas reference implementation (bench/pandas_dora.py).

Every expected number is computed by hand in the comments next to the input rows.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from bench.pandas_dora import (
    DEFAULT_PRODUCTION_PATTERN,
    INPUT_COLUMNS,
    MONTHLY_KPIS,
    OUTPUT_COLUMNS,
    WEEKLY_KPIS,
    compute_monthly,
    compute_weekly,
    is_production,
    load_inputs,
    normalize_status,
)

# The input files' headers, as the reference reads them.
HEADERS = INPUT_COLUMNS

SERVICES = [
    {"service": "svc-a", "team": "alpha", "repo": "org/a", "tier": "1"},
    {"service": "svc-b", "team": "alpha", "repo": "org/b", "tier": "2"},
    {"service": "svc-c", "team": "beta", "repo": "org/c", "tier": "1"},
]


def write_inputs(directory: Path, **tables: list[dict]) -> dict[str, pd.DataFrame]:
    """Write the five CSVs (missing tables -> header only, missing fields -> blank) and load them."""
    tables.setdefault("services", SERVICES)
    for name, header in HEADERS.items():
        with open(directory / f"{name}.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=header, restval="")
            writer.writeheader()
            writer.writerows(tables.get(name, []))
    return load_inputs(directory)


def dep(
    deployment_id,
    finished_at,
    service="svc-a",
    environment="prod",
    status="success",
    is_rollback="",
    is_hotfix="",
):
    return {
        "deployment_id": deployment_id,
        "service": service,
        "environment": environment,
        "status": status,
        "started_at": "",
        "finished_at": finished_at,
        "commit_sha": "abc",
        "is_rollback": is_rollback,
        "is_hotfix": is_hotfix,
    }


def inc(incident_id, created_at, resolved_at="", service="svc-a", caused_by=""):
    return {
        "incident_id": incident_id,
        "service": service,
        "created_at": created_at,
        "resolved_at": resolved_at,
        "severity": "sev2",
        "caused_by_deployment_id": caused_by,
    }


def chg(change_id, first_commit_at, merged_at, deployment_id="", service="svc-a"):
    return {
        "change_id": change_id,
        "service": service,
        "first_commit_at": first_commit_at,
        "merged_at": merged_at,
        "deployment_id": deployment_id,
    }


def bld(build_id, branch, status, started_at, finished_at, is_default_branch="", service="svc-a"):
    return {
        "build_id": build_id,
        "service": service,
        "branch": branch,
        "status": status,
        "started_at": started_at,
        "finished_at": finished_at,
        "is_default_branch": is_default_branch,
    }


def kpi(out: pd.DataFrame, period: str, kpi_id: str, scope: str = "svc-a", scope_type: str = "service"):
    """(value, sample_size) of one output row; asserts the row is unique."""
    rows = out[
        (out["period"] == pd.Timestamp(period))
        & (out["scope_type"] == scope_type)
        & (out["scope"] == scope)
        & (out["kpi_id"] == kpi_id)
    ]
    assert len(rows) == 1, f"expected one row for {(period, scope_type, scope, kpi_id)}, got {len(rows)}"
    return rows["value"].iloc[0], rows["sample_size"].iloc[0]


def has_row(out, period, kpi_id, scope="svc-a", scope_type="service") -> bool:
    return bool(
        (
            (out["period"] == pd.Timestamp(period))
            & (out["scope_type"] == scope_type)
            & (out["scope"] == scope)
            & (out["kpi_id"] == kpi_id)
        ).any()
    )


# --------------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------------


def test_production_pattern():
    envs = pd.Series(
        [
            "prod",
            "Production",
            "Prod-EU",
            "prod-us",
            "production-canary",
            " prod_x ",
            "prod.eu",
            "preprod",
            "staging",
            "prodx",
            "non-prod",
            None,
        ]
    )
    assert is_production(envs, DEFAULT_PRODUCTION_PATTERN).tolist() == [
        True,
        True,
        True,
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]


def test_status_normalisation():
    raw = pd.Series(
        [
            " Succeeded ",
            "PASSED",
            "ok",
            "timed_out",
            "Startup_Failure",
            "unstable",
            "Cancelled",
            "running",
            "waiting_for_resource",
            "not_built",
            "weird",
        ]
    )
    assert normalize_status(raw).tolist()[:10] == [
        "SUCCESS",
        "SUCCESS",
        "SUCCESS",
        "FAILURE",
        "FAILURE",
        "FAILURE",
        "CANCELED",
        "IN_PROGRESS",
        "QUEUED",
        "SKIPPED",
    ]
    assert pd.isna(normalize_status(raw).iloc[10])


# --------------------------------------------------------------------------------------------------
# Month boundary, non-production, deployment_success_rate (monthly + weekly)
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def boundary_inputs(tmp_path):
    return write_inputs(
        tmp_path,
        deployments=[
            # 2026-01-31T23:30-01:00 = 2026-02-01T00:30Z -> February (and ISO week of Mon 2026-01-26).
            dep("d1", "2026-01-31T23:30:00-01:00"),
            # Naive timestamp = UTC -> January, week of 2026-01-26 (a Saturday).
            dep("d2", "2026-01-31T22:00:00", environment="Production", status="SUCCEEDED"),
            # preprod is not production: ignored (January would otherwise have 2 deployments).
            dep("d3", "2026-01-15T10:00:00Z", environment="preprod"),
            # Failed production deployment, Tuesday 2026-02-10 -> only in deployment_success_rate.
            dep("d4", "2026-02-10T10:00:00+02:00", environment="Prod-EU", status="Failed"),
            # Cancelled production and failed staging: excluded from everything.
            dep("d5", "2026-02-11T10:00:00Z", status="cancelled"),
            dep("d6", "2026-02-12T10:00:00Z", environment="staging", status="failed"),
            # Successful production without finished_at: not an SPD, not in success rate.
            dep("d7", ""),
        ],
    )


def test_month_boundary_and_non_production(boundary_inputs):
    out = compute_monthly(boundary_inputs)
    assert kpi(out, "2026-01-01", "deployment_frequency") == (1.0, 1)  # d2 only
    assert kpi(out, "2026-02-01", "deployment_frequency") == (1.0, 1)  # d1
    # January: d2 success -> 1/1; February: d1 success, d4 failure -> 1/2.
    assert kpi(out, "2026-01-01", "deployment_success_rate") == (1.0, 1)
    assert kpi(out, "2026-02-01", "deployment_success_rate") == (0.5, 2)
    # No incidents/changes/builds -> no rows for those KPIs; CFR is 0/1 with a row.
    assert kpi(out, "2026-02-01", "change_failure_rate") == (0.0, 1)
    assert kpi(out, "2026-02-01", "rollback_frequency") == (0.0, 1)
    assert not has_row(out, "2026-02-01", "mttr_hours")
    assert not has_row(out, "2026-02-01", "lead_time_for_changes_p50_hours")
    assert not has_row(out, "2026-02-01", "failed_deployment_recovery_time_p50_hours")


def test_weekly_deployment_success_rate(boundary_inputs):
    out = compute_weekly(boundary_inputs)
    assert set(out["kpi_id"]) == {"deployment_success_rate"}
    # Week of Mon 2026-01-26: d2 (Sat 31st) and d1 (Sun 1st 00:30Z), both success -> 2/2.
    assert kpi(out, "2026-01-26", "deployment_success_rate") == (1.0, 2)
    # Week of Mon 2026-02-09: d4 (Tue 10th 08:00Z) failure -> 0/1.
    assert kpi(out, "2026-02-09", "deployment_success_rate") == (0.0, 1)
    assert len(out[out["scope_type"] == "service"]) == 2


# --------------------------------------------------------------------------------------------------
# Failure linking and recovery
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def failure_inputs(tmp_path):
    deployments = [
        # --- svc-a, March 2026: 9 SPDs ---
        dep("a1", "2026-03-01T10:00:00Z"),  # failed (a) via i1; recovery 50h
        dep("a2", "2026-03-04T10:00:00Z"),  # failed (b) via i2 (10h after); recovery 14h
        dep("a3", "2026-03-06T10:00:00Z"),  # not failed: i3 is 26h after (outside window)
        dep("a4", "2026-03-08T10:00:00Z"),  # failed (c) by a5 (+2h) and (b) by i4 (res +5h) -> 2h
        dep("a5", "2026-03-08T12:00:00Z", is_rollback="true"),  # rollback, itself not failed
        dep("a6", "2026-03-10T10:00:00Z"),  # failed (a) i5 resolved + (b) i6 unresolved -> no recovery
        dep("a7", "2026-03-12T10:00:00Z"),  # failed (c) by a8 (+3h) and (a) by i7 (res +2h) -> 2h
        dep("a8", "2026-03-12T13:00:00Z", is_rollback="TRUE"),
        dep("a9", "2026-03-14T10:00:00Z", is_hotfix="true"),
        dep("a0", "2026-03-13T10:00:00Z", environment="staging", is_rollback="true"),  # not an SPD
        # --- svc-b, March 2026: 3 SPDs ---
        dep("b1", "2026-03-02T10:00:00Z", service="svc-b"),  # rollback-only failure: b2 at +45min
        dep("b2", "2026-03-02T10:45:00Z", service="svc-b", is_rollback="true"),
        dep("b3", "2026-03-20T00:00:00Z", service="svc-b"),  # failed (b): i8 exactly +24h; rec 30h
    ]
    incidents = [
        # explicit link to a1, 48h after the deploy (window does not matter for explicit links)
        inc("i1", "2026-03-03T10:00:00Z", "2026-03-03T12:00:00Z", caused_by="a1"),  # restore 2h
        inc("i2", "2026-03-04T20:00:00Z", "2026-03-05T00:00:00Z"),  # -> a2; restore 4h
        inc("i3", "2026-03-07T12:00:00Z", "2026-03-07T13:00:00Z"),  # 26h after a3: unlinked; 1h
        inc("i4", "2026-03-08T11:00:00Z", "2026-03-08T15:00:00Z"),  # latest SPD <= 11:00 is a4; 4h
        inc("i5", "2026-03-10T10:15:00Z", "2026-03-10T11:00:00Z", caused_by="a6"),  # 0.75h
        inc("i6", "2026-03-10T12:00:00Z"),  # -> a6 (2h after), unresolved
        inc("i7", "2026-03-12T10:30:00Z", "2026-03-12T12:00:00Z", caused_by="a7"),  # 1.5h
        inc("i8", "2026-03-21T00:00:00Z", "2026-03-21T06:00:00Z", service="svc-b"),  # -> b3; 6h
        # resolved in April (period of resolved_at); 11.5 days after b3: unlinked; 6h
        inc("i9", "2026-03-31T20:00:00Z", "2026-04-01T02:00:00Z", service="svc-b"),
        # names a non-SPD deployment: links nothing; restore 1h, counted for svc-c in March
        inc("i10", "2026-03-13T11:00:00Z", "2026-03-13T12:00:00Z", service="svc-c", caused_by="a0"),
    ]
    return write_inputs(tmp_path, deployments=deployments, incidents=incidents)


def test_change_failure_rate(failure_inputs):
    out = compute_monthly(failure_inputs)
    # svc-a failed: a1, a2, a4, a6, a7 -> 5/9; svc-b failed: b1, b3 -> 2/3; org & alpha 7/12.
    assert kpi(out, "2026-03-01", "change_failure_rate") == (pytest.approx(5 / 9), 9)
    assert kpi(out, "2026-03-01", "change_failure_rate", "svc-b") == (pytest.approx(2 / 3), 3)
    assert kpi(out, "2026-03-01", "change_failure_rate", "all", "org") == (pytest.approx(7 / 12), 12)
    assert kpi(out, "2026-03-01", "change_failure_rate", "alpha", "team") == (pytest.approx(7 / 12), 12)
    # the window is a parameter and inclusive: with 26h, i3 (exactly 26h after a3) links a3 -> 6/9.
    out26 = compute_monthly(failure_inputs, link_window_hours=26)
    assert kpi(out26, "2026-03-01", "change_failure_rate") == (pytest.approx(6 / 9), 9)
    # with a 1h window i2 (10h), i4 (1h, inclusive), i6 (2h), i8 (24h): a4 still fails via rollback,
    # a6 via explicit i5 -> svc-a a1, a4, a6, a7 = 4/9; svc-b only b1 = 1/3.
    out1 = compute_monthly(failure_inputs, link_window_hours=1)
    assert kpi(out1, "2026-03-01", "change_failure_rate") == (pytest.approx(4 / 9), 9)
    assert kpi(out1, "2026-03-01", "change_failure_rate", "svc-b") == (pytest.approx(1 / 3), 3)


def test_failed_deployment_recovery_time(failure_inputs):
    out = compute_monthly(failure_inputs)
    # svc-a: a1 50h (i1 resolved), a2 14h (i2), a4 min(rollback 2h, i4 5h) = 2h,
    #        a6 excluded (i6 unresolved, no rollback), a7 min(rollback 3h, i7 2h) = 2h
    #        -> [2, 2, 14, 50], median 8h, n=4
    assert kpi(out, "2026-03-01", "failed_deployment_recovery_time_p50_hours") == (8.0, 4)
    # svc-b: b1 rollback 0.75h, b3 i8 resolved 30h -> median 15.375h
    assert kpi(out, "2026-03-01", "failed_deployment_recovery_time_p50_hours", "svc-b") == (15.375, 2)
    # org: [0.75, 2, 2, 14, 30, 50] -> (2 + 14) / 2 = 8h
    assert kpi(out, "2026-03-01", "failed_deployment_recovery_time_p50_hours", "all", "org") == (8.0, 6)


def test_rework_and_rollback_frequency(failure_inputs):
    out = compute_monthly(failure_inputs)
    # svc-a: rollbacks a5, a8 (a0 is staging); hotfix a9 is not rework: the last svc-a incident (i7)
    # was 47.5 h before it and names a7, not a8 -> rework 2/9, rollback_frequency 2
    assert kpi(out, "2026-03-01", "rework_rate") == (pytest.approx(2 / 9), 9)
    assert kpi(out, "2026-03-01", "rollback_frequency") == (2.0, 9)
    assert kpi(out, "2026-03-01", "deployment_frequency") == (9.0, 9)
    assert kpi(out, "2026-03-01", "rollback_frequency", "all", "org") == (3.0, 12)
    assert kpi(out, "2026-03-01", "rework_rate", "svc-b") == (pytest.approx(1 / 3), 3)


def test_rework_hotfix_needs_an_incident_before_it(tmp_path):
    inputs = write_inputs(
        tmp_path,
        deployments=[
            dep("d3", "2026-03-05T00:00:00Z"),
            dep("h1", "2026-03-08T00:00:00Z", is_hotfix="true"),  # i1 names d3 (just before): explicit
            dep("d4", "2026-03-10T00:00:00Z"),
            dep("h2", "2026-03-10T20:00:00Z", is_hotfix="true"),  # 14 h after i2: within the window
            dep("h3", "2026-03-20T00:00:00Z", is_hotfix="true"),  # no incident in the 24 h before
            dep("h4", "2026-03-25T00:00:00Z", is_hotfix="true"),  # i3 comes after it
        ],
        incidents=[
            inc("i1", "2026-03-05T02:00:00Z", "2026-03-08T00:30:00Z", caused_by="d3"),
            inc("i2", "2026-03-10T06:00:00Z", "2026-03-10T21:00:00Z"),
            inc("i3", "2026-03-25T01:00:00Z", "2026-03-25T02:00:00Z"),
        ],
    )
    # h1, h2 rework of 6 SPDs -> 2/6; with a 12 h window h2 is not -> 1/6.
    assert kpi(compute_monthly(inputs), "2026-03-01", "rework_rate") == (pytest.approx(2 / 6), 6)
    assert kpi(compute_monthly(inputs, link_window_hours=12), "2026-03-01", "rework_rate") == (
        pytest.approx(1 / 6),
        6,
    )


def test_mttr_and_time_to_restore(failure_inputs):
    out = compute_monthly(failure_inputs)
    # svc-a March: i1 2, i2 4, i3 1, i4 4, i5 0.75, i7 1.5 (i6 unresolved)
    #   mean 13.25/6; sorted [0.75, 1, 1.5, 2, 4, 4] -> median 1.75
    assert kpi(out, "2026-03-01", "mttr_hours") == (pytest.approx(13.25 / 6), 6)
    assert kpi(out, "2026-03-01", "time_to_restore_p50_hours") == (1.75, 6)
    # svc-b: March i8 6h; April i9 6h (period of resolved_at)
    assert kpi(out, "2026-03-01", "mttr_hours", "svc-b") == (6.0, 1)
    assert kpi(out, "2026-04-01", "mttr_hours", "svc-b") == (6.0, 1)
    # org March: + i8 6 + i10 1 -> 20.25/8; sorted [.75, 1, 1, 1.5, 2, 4, 4, 6] -> 1.75
    assert kpi(out, "2026-03-01", "mttr_hours", "all", "org") == (pytest.approx(20.25 / 8), 8)
    assert kpi(out, "2026-03-01", "time_to_restore_p50_hours", "all", "org") == (1.75, 8)
    assert kpi(out, "2026-03-01", "mttr_hours", "beta", "team") == (1.0, 1)


# --------------------------------------------------------------------------------------------------
# Lead time for changes
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def change_inputs(tmp_path):
    deployments = [
        dep("d1", "2026-04-01T10:00:00Z"),  # first SPD of svc-a
        dep("d2", "2026-04-01T11:00:00Z"),
        dep("d3", "2026-04-01T10:30:00Z", environment="staging"),  # not production
        dep("d4", "2026-04-01T10:20:00Z", status="failed"),  # not successful
        dep("d5", "2026-04-30T23:30:00-01:00"),  # = 2026-05-01T00:30Z -> May
    ]
    changes = [
        # merged long before the service's first SPD -> deployed by d1: 10:00 - 09:00 = 1h
        chg("c1", "2026-04-01T09:00:00Z", "2026-03-20T09:30:00Z"),
        # merged exactly when d1 finishes (inclusive) -> d1: 10:00 - 08:00 = 2h
        chg("c2", "2026-04-01T08:00:00Z", "2026-04-01T10:00:00Z"),
        # explicit d2 wins over the inferred d1: 11:00 - 08:00 = 3h (inferred would be 2h)
        chg("c3", "2026-04-01T08:00:00Z", "2026-04-01T09:40:00Z", deployment_id="d2"),
        # merged after d1 (and after staging d3, failed d4) -> d2: 11:00 - 07:00 = 4h
        chg("c6", "2026-04-01T07:00:00+00:00", "2026-04-01T10:01:00Z"),
        # explicit link to a non-SPD -> undeployed (not re-inferred)
        chg("c4", "2026-04-01T08:00:00Z", "2026-04-01T09:00:00Z", deployment_id="d4"),
        chg("c5", "2026-04-01T08:00:00Z", "2026-04-01T09:00:00Z", deployment_id="d3"),
        # merged after the last SPD -> undeployed
        chg("c7", "2026-05-02T08:00:00Z", "2026-05-02T09:00:00Z"),
        # April 30 merge deployed by d5 at 2026-05-01T00:30Z -> May: 00:30 - 22:30 = 2h
        chg("c8", "2026-04-30T22:30:00Z", "2026-04-30T23:00:00Z"),
        # svc-b has no SPD at all -> undeployed (other services' SPDs don't count)
        chg("c9", "2026-04-01T08:00:00Z", "2026-04-01T08:30:00Z", service="svc-b"),
    ]
    return write_inputs(tmp_path, deployments=deployments, changes=changes)


def test_lead_time_quantiles(change_inputs):
    out = compute_monthly(change_inputs)
    # April lead times [1, 2, 3, 4] h: p50 = 2.5; p90 at position 0.9 * 3 = 2.7 -> 3 + 0.7 * 1 = 3.7
    assert kpi(out, "2026-04-01", "lead_time_for_changes_p50_hours") == (2.5, 4)
    value, n = kpi(out, "2026-04-01", "lead_time_for_changes_p90_hours")
    assert value == pytest.approx(3.7) and n == 4
    assert kpi(out, "2026-05-01", "lead_time_for_changes_p50_hours") == (2.0, 1)
    assert kpi(out, "2026-05-01", "lead_time_for_changes_p90_hours") == (2.0, 1)
    assert not has_row(out, "2026-04-01", "lead_time_for_changes_p50_hours", "svc-b")
    assert kpi(out, "2026-04-01", "lead_time_for_changes_p50_hours", "all", "org") == (2.5, 4)
    assert kpi(out, "2026-04-01", "deployment_frequency") == (2.0, 2)


# --------------------------------------------------------------------------------------------------
# Builds: default-branch fallback, duration quantiles, weekly vs monthly
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def build_inputs(tmp_path):
    builds = [
        # Week of Mon 2026-02-02
        bld("b1", "main", "success", "2026-02-02T10:00:00Z", "2026-02-02T10:01:00Z"),  # default, 60s
        bld("b2", "master", "FAILED", "2026-02-03T10:00:00Z", "2026-02-03T10:02:00Z"),  # default, 120s
        bld("b3", "release", "passed", "2026-02-03T11:00:00Z", "2026-02-03T11:00:30Z", "true"),  # flag, 30s
        bld("b4", "main", "failure", "2026-02-04T10:00:00Z", "2026-02-04T10:04:00Z", "false"),  # flag, 240s
        bld("b5", "feature/x", "success", "2026-02-04T11:00:00Z", "2026-02-04T11:01:30Z"),  # 90s
        bld("b6", "main", "cancelled", "2026-02-05T10:00:00Z", "2026-02-05T10:16:40Z"),  # excluded
        bld("b7", "main", "running", "2026-02-05T11:00:00Z", ""),  # excluded
        bld("b9", "main", "success", "", "2026-02-05T12:00:00Z"),  # no start: CI rate only
        # Sunday 23:59 start, Monday 2026-02-09 00:01 finish -> week of 02-09; 120s
        bld("b8", "main", "ok", "2026-02-08T23:59:00Z", "2026-02-09T01:01:00+01:00"),
    ]
    return write_inputs(tmp_path, builds=builds)


def test_builds_weekly(build_inputs):
    out = compute_weekly(build_inputs)
    assert set(out["kpi_id"]) <= set(WEEKLY_KPIS)
    # default-branch builds week 02-02: b1 S, b2 F, b3 S, b9 S (b4 flagged false, b5 feature) -> 3/4
    assert kpi(out, "2026-02-02", "ci_pipeline_success_rate") == (0.75, 4)
    assert kpi(out, "2026-02-09", "ci_pipeline_success_rate") == (1.0, 1)
    # durations week 02-02 (all branches): [30, 60, 90, 120, 240]
    #   p50 = 90; p95 at 0.95 * 4 = 3.8 -> 120 + 0.8 * 120 = 216
    assert kpi(out, "2026-02-02", "build_duration_p50_sec") == (90.0, 5)
    value, n = kpi(out, "2026-02-02", "build_duration_p95_sec")
    assert value == pytest.approx(216.0) and n == 5
    assert kpi(out, "2026-02-09", "build_duration_p95_sec") == (120.0, 1)


def test_builds_monthly(build_inputs):
    out = compute_monthly(build_inputs)
    assert kpi(out, "2026-02-01", "ci_pipeline_success_rate") == (0.8, 5)  # 4/5 with b8
    # [30, 60, 90, 120, 120, 240]: p50 = 105; p95 at 0.95 * 5 = 4.75 -> 120 + 0.75 * 120 = 210
    assert kpi(out, "2026-02-01", "build_duration_p50_sec") == (105.0, 6)
    value, n = kpi(out, "2026-02-01", "build_duration_p95_sec")
    assert value == pytest.approx(210.0) and n == 6


def test_default_branches_parameter(build_inputs):
    out = compute_monthly(build_inputs, default_branches=("feature/x",))
    # blank-flag builds now only count on feature/x: b5 S; flagged b3 S (true); b4 false -> 2/2
    assert kpi(out, "2026-02-01", "ci_pipeline_success_rate") == (1.0, 2)


# --------------------------------------------------------------------------------------------------
# Scopes and output shape
# --------------------------------------------------------------------------------------------------


def test_scopes_and_shape(tmp_path):
    inputs = write_inputs(
        tmp_path,
        deployments=[
            dep("x1", "2026-01-05T10:00:00Z", service="svc-a"),
            dep("x2", "2026-01-06T10:00:00Z", service="svc-a"),
            dep("x3", "2026-01-07T10:00:00Z", service="svc-b", is_hotfix="true"),
            dep("x4", "2026-01-08T10:00:00Z", service="svc-c"),
            dep("x5", "2026-01-09T10:00:00Z", service="svc-c", status="failed"),
            dep("x6", "2026-01-10T10:00:00Z", service="svc-zzz"),  # not in services.csv: no team
        ],
    )
    out = compute_monthly(inputs)
    assert list(out.columns) == OUTPUT_COLUMNS
    assert str(out["period"].dtype) == "datetime64[ns]"
    assert out["value"].dtype == "float64" and out["sample_size"].dtype == "int64"
    assert (out["sample_size"] > 0).all()
    assert set(out["kpi_id"]) <= set(MONTHLY_KPIS)
    assert not out.duplicated(["period", "scope_type", "scope", "kpi_id"]).any()

    jan = "2026-01-01"
    assert kpi(out, jan, "deployment_frequency", "all", "org") == (5.0, 5)
    assert kpi(out, jan, "deployment_frequency", "alpha", "team") == (3.0, 3)
    assert kpi(out, jan, "deployment_frequency", "beta", "team") == (1.0, 1)
    assert kpi(out, jan, "deployment_frequency", "svc-zzz") == (1.0, 1)
    # x3 is a hotfix with no incident before it: planned, not rework
    assert kpi(out, jan, "rework_rate", "alpha", "team") == (0.0, 3)
    assert kpi(out, jan, "deployment_success_rate", "beta", "team") == (0.5, 2)
    assert kpi(out, jan, "deployment_success_rate", "all", "org") == (pytest.approx(5 / 6), 6)
    assert set(out.loc[out["scope_type"] == "team", "scope"]) == {"alpha", "beta"}
    assert set(out.loc[out["scope_type"] == "service", "scope"]) == {"svc-a", "svc-b", "svc-c", "svc-zzz"}


def test_empty_inputs(tmp_path):
    inputs = write_inputs(tmp_path)
    for out in (compute_monthly(inputs), compute_weekly(inputs)):
        assert out.empty
        assert list(out.columns) == OUTPUT_COLUMNS


def test_ties_broken_by_deployment_id(tmp_path):
    inputs = write_inputs(
        tmp_path,
        deployments=[
            dep("t0", "2026-06-01T10:00:00Z"),
            # listed out of order on purpose; order is (finished_at, deployment_id): t0, t1, t2
            dep("t2", "2026-06-01T12:00:00Z", is_rollback="true"),
            dep("t1", "2026-06-01T12:00:00Z"),
        ],
        # blank cause, 30 min after the tied pair: the "latest" SPD is t2 (greater deployment_id)
        incidents=[inc("j1", "2026-06-01T12:30:00Z", "2026-06-01T13:00:00Z")],
    )
    out = compute_monthly(inputs)
    # t0 not failed (next is t1, not a rollback); t1 failed (c), recovered by t2 after 0h;
    # t2 failed (b) via j1, recovered at 13:00 -> 1h.  CFR 2/3, recovery median [0, 1] = 0.5
    assert kpi(out, "2026-06-01", "change_failure_rate") == (pytest.approx(2 / 3), 3)
    assert kpi(out, "2026-06-01", "failed_deployment_recovery_time_p50_hours") == (0.5, 2)


def test_naive_time_after_an_offset_time_is_read_as_utc():
    # pandas' ISO8601 parser would give the naive row the +02:00 offset of the row before it
    # (10:15 -> 08:15 UTC); the reference must read it as UTC like the pipeline does.
    from bench.pandas_dora import parse_timestamps

    parsed = parse_timestamps(pd.Series(["2026-03-04T12:15:00+02:00", "2026-03-04T10:15:00", ""]))
    assert parsed.iloc[0] == pd.Timestamp("2026-03-04 10:15:00")
    assert parsed.iloc[1] == pd.Timestamp("2026-03-04 10:15:00")
    assert pd.isna(parsed.iloc[2])
