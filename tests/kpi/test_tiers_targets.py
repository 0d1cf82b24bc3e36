"""Golden tests: DORA tiers from both benchmark years (2023 and 2024, default 2024), the per-service
division of deployment frequency at team/org scope, and every target kind (absolute, relative to the
previous year or month, trend) with target_met.

Every expected number is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import pytest

from tests.conftest import dep, deployments, inc, incidents, kpi

CONFIG_2023 = "benchmark_year: 2023\n"


def failing_months() -> dict[str, str]:
    """Successful production deployments of api per month, some named as the cause of an incident.

    January: 8 deployments, 1 failed -> CFR 0.125.   February: 20, 1 failed -> 0.05.
    March: 5, 1 failed -> 0.2.                        April: 10, 1 failed -> 0.1.
    May: 2, 1 failed -> 0.5.
    """
    rows, causes = [], []
    for month, total in (("01", 8), ("02", 20), ("03", 5), ("04", 10), ("05", 2)):
        for day in range(1, total + 1):
            rows.append(dep(f"d{month}{day:02d}", f"2024-{month}-{day:02d}T12:00:00Z"))
        # the month's first deployment is named by an (unresolved) incident: it failed
        causes.append(inc(f"i{month}", f"2024-{month}-01T13:00:00Z", cause=f"d{month}01"))
    return {"deployments.csv": deployments(*rows), "incidents.csv": incidents(*causes)}


def test_change_failure_rate_tiers_2024_default_and_2023(warehouse_of):
    wh24 = warehouse_of(failing_months())
    wh23 = warehouse_of(failing_months(), CONFIG_2023, name="y2023")
    expected = {
        # month: (CFR, 2024 tier, 2023 tier)
        # 2024 bounds elite <= 0.05, high <= 0.20, medium <= 0.10, else low (first match wins).
        # 2023 bounds elite <= 0.05, high <= 0.10, medium <= 0.15, else low.
        "2024-01": (1 / 8, "high", "medium"),  # 0.125
        "2024-02": (1 / 20, "elite", "elite"),  # 0.05 (bounds inclusive)
        "2024-03": (1 / 5, "high", "low"),  # 0.2
        "2024-04": (1 / 10, "high", "high"),  # 0.1: 2024's "medium" is unreachable (high <= 0.20 first)
        "2024-05": (1 / 2, "low", "low"),  # 0.5
    }
    for month, (value, tier24, tier23) in expected.items():
        row24, row23 = kpi(wh24, "change_failure_rate", month), kpi(wh23, "change_failure_rate", month)
        assert row24["value"] == pytest.approx(value), month
        assert row23["value"] == pytest.approx(value), month
        assert (row24["tier"], row23["tier"]) == (tier24, tier23), month
    # Absolute target (default config: CFR <= 0.15): 0.125 met, 0.2 missed, 0.05 met.
    assert [kpi(wh24, "change_failure_rate", m)["target_met"] for m in ("2024-01", "2024-02", "2024-03")] == [
        True,
        True,
        False,
    ]
    assert kpi(wh24, "change_failure_rate", "2024-03")["target"] == 0.15


def test_restore_time_tiers_differ_between_years(warehouse_of):
    files = {
        "incidents.csv": incidents(
            inc("i1", "2024-01-10T00:00:00Z", "2024-01-12T00:00:00Z"),  # 48 h
            inc("i2", "2024-02-10T00:00:00Z", "2024-02-10T12:00:00Z"),  # 12 h
        )
    }
    wh24 = warehouse_of(files)
    wh23 = warehouse_of(files, CONFIG_2023, name="y2023")
    # 48 h: 2024 elite <= 1, high <= 24, medium <= 24 -> low; 2023 elite <= 1, high <= 24, medium <= 168
    # -> medium.
    assert kpi(wh24, "time_to_restore_p50_hours", "2024-01")["tier"] == "low"
    assert kpi(wh23, "time_to_restore_p50_hours", "2024-01")["tier"] == "medium"
    # 12 h: high in both years.
    assert kpi(wh24, "time_to_restore_p50_hours", "2024-02")["tier"] == "high"
    assert kpi(wh23, "time_to_restore_p50_hours", "2024-02")["tier"] == "high"
    # MTTR has no benchmark: no tier.
    assert kpi(wh24, "mttr_hours", "2024-01")["tier"] is None


def test_deployment_frequency_tier_is_per_service_at_team_and_org_scope(warehouse_of):
    # 60 successful production deployments of api in January (two a day, days 1..30); web and indexer none.
    rows = [dep(f"d{i:02d}", f"2024-01-{(i + 1) // 2:02d}T{10 + i % 2}:00:00Z") for i in range(1, 61)]
    files = {"deployments.csv": deployments(*rows)}
    for wh in (warehouse_of(files), warehouse_of(files, CONFIG_2023, name="y2023")):
        # Bounds (both years): elite >= 30 per service per month, high >= 4, medium >= 1, else low.
        api = kpi(wh, "deployment_frequency", "2024-01", "service", "api")
        assert (api["value"], api["tier"]) == (60, "elite")  # 60 / 1 service = 60
        payments = kpi(wh, "deployment_frequency", "2024-01", "team", "payments")
        assert (payments["value"], payments["tier"]) == (60, "elite")  # 60 / 2 services (api, web) = 30
        org = kpi(wh, "deployment_frequency", "2024-01")
        assert (org["value"], org["tier"]) == (60, "high")  # 60 / 3 services = 20: < 30, >= 4
        web = kpi(wh, "deployment_frequency", "2024-01", "service", "web")
        assert (web["value"], web["tier"]) == (0, "low")  # 0 / 1
        search = kpi(wh, "deployment_frequency", "2024-01", "team", "search")
        assert (search["value"], search["tier"]) == (0, "low")  # 0 / 1 (indexer)


def test_relative_previous_year_target(warehouse_of):
    rows = (
        # January 2023: 4 deployments; February 2023: 4.
        [dep(f"a{d}", f"2023-01-{d:02d}T00:00:00Z") for d in range(1, 5)]
        + [dep(f"b{d}", f"2023-02-{d:02d}T00:00:00Z") for d in range(1, 5)]
        # January 2024: 5; February 2024: 4.
        + [dep(f"c{d}", f"2024-01-{d:02d}T00:00:00Z") for d in range(1, 6)]
        + [dep(f"e{d}", f"2024-02-{d:02d}T00:00:00Z") for d in range(1, 5)]
    )
    wh = warehouse_of({"deployments.csv": deployments(*rows)})
    # Default: deployment_frequency relative to previous_year, change +0.25 (higher is better).
    jan = kpi(wh, "deployment_frequency", "2024-01")
    # target = 4 (January 2023) * 1.25 = 5.0; value 5 >= 5 -> met.
    assert (jan["value"], jan["target"], jan["target_met"], jan["target_kind"]) == (5, 5.0, True, "relative")
    assert jan["previous_year_value"] == 4
    feb = kpi(wh, "deployment_frequency", "2024-02")
    # target = 4 * 1.25 = 5.0; value 4 < 5 -> missed.
    assert (feb["value"], feb["target"], feb["target_met"]) == (4, 5.0, False)
    # previous month (January 2024) is 5.
    assert feb["previous_month_value"] == 5
    # January 2023 has no previous year in the data: no target.
    first = kpi(wh, "deployment_frequency", "2023-01")
    assert (first["target"], first["target_met"]) == (None, None)


def test_relative_previous_month_target_lower_is_better(warehouse_of):
    config = """
targets:
  deployment_frequency: {kind: relative, baseline: previous_month, change: 0.5}
  mttr_hours: {kind: relative, baseline: previous_month, change: -0.5}
"""
    rows = (
        [dep(f"a{d}", f"2024-01-{d:02d}T00:00:00Z") for d in range(1, 5)]  # January: 4
        + [dep(f"b{d}", f"2024-02-{d:02d}T00:00:00Z") for d in range(1, 7)]  # February: 6
        + [dep(f"c{d}", f"2024-03-{d:02d}T00:00:00Z") for d in range(1, 6)]  # March: 5
    )
    wh = warehouse_of(
        {
            "deployments.csv": deployments(*rows),
            "incidents.csv": incidents(
                inc("i1", "2024-01-10T00:00:00Z", "2024-01-10T10:00:00Z"),  # January MTTR 10 h
                inc("i2", "2024-02-10T00:00:00Z", "2024-02-10T05:00:00Z"),  # February 5 h
                inc("i3", "2024-03-10T00:00:00Z", "2024-03-10T04:00:00Z"),  # March 4 h
            ),
        },
        config,
    )
    # February: target 4 * 1.5 = 6; 6 >= 6 met. March: target 6 * 1.5 = 9; 5 < 9 missed.
    feb, mar = kpi(wh, "deployment_frequency", "2024-02"), kpi(wh, "deployment_frequency", "2024-03")
    assert (feb["target"], feb["target_met"]) == (6.0, True)
    assert (mar["target"], mar["target_met"]) == (9.0, False)
    # MTTR (lower is better): February target 10 * 0.5 = 5; 5 <= 5 met. March target 5 * 0.5 = 2.5; 4 > 2.5.
    feb, mar = kpi(wh, "mttr_hours", "2024-02"), kpi(wh, "mttr_hours", "2024-03")
    assert (feb["target"], feb["target_met"]) == (5.0, True)
    assert (mar["target"], mar["target_met"]) == (2.5, False)
    # A KPI without a target in this config has none.
    cfr = kpi(wh, "change_failure_rate", "2024-02")
    assert (cfr["target"], cfr["target_met"], cfr["target_kind"]) == (None, None, None)


def test_trend_target_is_mean_of_previous_months(warehouse_of):
    # Default config: rework_rate {kind: trend, direction: down, months: 3}.
    plan = {
        # month: (deployments, of which rollbacks: always rework) -> rework rate
        "01": (2, 1),  # 0.5
        "02": (4, 1),  # 0.25
        "03": (2, 0),  # 0.0
        "04": (2, 1),  # 0.5
        "05": (4, 1),  # 0.25
    }
    rows = []
    for month, (total, rollbacks) in plan.items():
        for day in range(1, total + 1):
            rows.append(dep(f"d{month}{day}", f"2024-{month}-{day:02d}T00:00:00Z", rollback=day <= rollbacks))
    wh = warehouse_of({"deployments.csv": deployments(*rows)})

    def row(month):
        return kpi(wh, "rework_rate", f"2024-{month}")

    # January: no previous month -> no target.
    assert (row("01")["target"], row("01")["target_met"]) == (None, None)
    # February: mean(January) = 0.5; 0.25 <= 0.5 met.
    assert (row("02")["target"], row("02")["target_met"]) == (0.5, True)
    # March: mean(0.5, 0.25) = 0.375; 0.0 met.
    assert (row("03")["target"], row("03")["target_met"]) == (pytest.approx(0.375), True)
    # April: mean(0.5, 0.25, 0.0) = 0.25; 0.5 > 0.25 missed.
    assert (row("04")["target"], row("04")["target_met"]) == (pytest.approx(0.25), False)
    # May: only the last 3 months: mean(0.25, 0.0, 0.5) = 0.25 (January would make it 0.3125);
    # 0.25 <= 0.25 met.
    assert (row("05")["target"], row("05")["target_met"]) == (pytest.approx(0.25), True)
    assert row("05")["target_kind"] == "trend"


def test_trend_up_target_from_config(warehouse_of):
    config = "targets:\n  deployment_success_rate: {kind: trend, direction: up, months: 2}\n"
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("a1", "2024-01-02T00:00:00Z"),  # January: 1 success of 1 -> 1.0
                dep("b1", "2024-02-02T00:00:00Z"),  # February: 1 of 2 -> 0.5
                dep("b2", "2024-02-03T00:00:00Z", status="failure"),
                dep("c1", "2024-03-02T00:00:00Z"),  # March: 2 of 3 -> 0.6667
                dep("c2", "2024-03-03T00:00:00Z"),
                dep("c3", "2024-03-04T00:00:00Z", status="failure"),
            )
        },
        config,
    )
    # March target: mean of January and February = (1.0 + 0.5) / 2 = 0.75; up: 0.6667 < 0.75 missed.
    mar = kpi(wh, "deployment_success_rate", "2024-03")
    assert mar["value"] == pytest.approx(2 / 3)
    assert (mar["target"], mar["target_met"]) == (pytest.approx(0.75), False)
    # February target: mean(January) = 1.0; 0.5 < 1.0 missed.
    feb = kpi(wh, "deployment_success_rate", "2024-02")
    assert (feb["target"], feb["target_met"]) == (1.0, False)
