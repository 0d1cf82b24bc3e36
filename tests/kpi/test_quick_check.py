"""Golden tests: the DORA Quick Check scores (marts.dora_quick_check). Bucket edges of the time
metrics (exactly 1 hour, 1 day, 1 week, 1 month = 30 days, 6 months = 180 days fall in the slower
bucket), deployment-frequency edges (D deployments in a month of N days), the rate mapping
10 - p/10, the composite scores, team roll-ups with their spread, and the percentile against the 2025
"all industries" row (Phi computed here with math.erf).

Every expected number is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from platform_kpi.config import ConfigError, QuickCheckChoice, select_quick_check
from tests.conftest import build_warehouse, changes, chg, dep, deployments, inc, incidents, query

HOUR = dt.timedelta(hours=1)
LEAD_DEPLOYED = dt.datetime(2024, 1, 20)

# Lead time of each lt_* service's one change (deployed 2024-01-20 00:00), and its expected bucket.
LEAD_TIMES = {
    "lt_30m": (0.5 * HOUR, 6),
    "lt_1h_minus": (HOUR - dt.timedelta(seconds=1), 6),
    "lt_1h": (HOUR, 5),  # exactly 1 hour: not "less than 1 hour"
    "lt_1d": (24 * HOUR, 4),
    "lt_1w": (168 * HOUR, 3),
    "lt_1m": (720 * HOUR, 2),
    "lt_6m_minus": (4320 * HOUR - HOUR, 2),
    "lt_6m": (4320 * HOUR, 1),  # exactly 180 days: "6 months or more"
}
# Deployments of each df_* service in February 2023 (N = 28 days), and the expected bucket.
FREQUENCIES = {
    "df_1": (1, 2),  # once in the month
    "df_2": (2, 3),
    "df_4": (4, 3),  # exactly once a week (4 x 7 = 28 = N): the slower bucket
    "df_5": (5, 4),
    "df_28": (28, 4),  # exactly once a day
    "df_29": (29, 5),
    "df_672": (672, 5),  # exactly once an hour (24 x 28)
    "df_673": (673, 6),
}


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def qc(module_tmp):
    services = ["service,team"]
    deps, chgs = [], []
    for name, (lead, _) in LEAD_TIMES.items():
        services.append(f"{name},lt")
        deps.append(dep(f"{name}-d", _iso(LEAD_DEPLOYED), service=name))
        chgs.append(
            chg(
                f"{name}-c",
                _iso(LEAD_DEPLOYED - lead),
                _iso(LEAD_DEPLOYED - dt.timedelta(seconds=1)),
                service=name,
            )
        )
    for name, (count, _) in FREQUENCIES.items():
        services.append(f"{name},df")
        start = dt.datetime(2023, 2, 1)
        deps += [
            dep(f"{name}-{i}", _iso(start + i * dt.timedelta(minutes=59)), service=name) for i in range(count)
        ]
    services += ["df_0_recent,df", "df_0_old,df", "df_0_never,df", "rates,rt"]
    deps.append(dep("recent-1", "2022-11-15T00:00:00Z", service="df_0_recent"))  # 3 months before Feb 2023
    deps.append(
        dep("old-1", "2022-08-15T00:00:00Z", service="df_0_old")
    )  # 6 months before: out of the window
    # rates (January 2024): r1 is rolled back by r2 after 30 min; i1 names r3 and is resolved 3 h later.
    deps += [
        dep("r1", "2024-01-03T00:00:00Z", service="rates"),
        dep("r2", "2024-01-03T00:30:00Z", service="rates", rollback=True),
        dep("r3", "2024-01-10T00:00:00Z", service="rates"),
        dep("r4", "2024-01-15T00:00:00Z", service="rates"),
    ]
    files = {
        "services.csv": "\n".join(services) + "\n",
        "deployments.csv": deployments(*deps),
        "changes.csv": changes(*chgs),
        "incidents.csv": incidents(
            inc("i1", "2024-01-10T01:00:00Z", "2024-01-10T03:00:00Z", service="rates", cause="r3")
        ),
    }
    wh = build_warehouse(module_tmp, files)
    rows = query(wh, "select * from marts.dora_quick_check")
    return {(str(r["month"]), r["scope_type"], r["scope"], r["metric"]): r for r in rows}


def row(qc, month, scope, metric, scope_type="service"):
    key = (f"{month}-01", scope_type, scope, metric)
    assert key in qc, f"no dora_quick_check row for {key}"
    return qc[key]


@pytest.mark.parametrize("service", list(LEAD_TIMES))
def test_lead_time_buckets_at_the_edges(qc, service):
    lead, bucket = LEAD_TIMES[service]
    r = row(qc, "2024-01", service, "lead_time_for_changes_p50_hours")
    assert r["value"] == pytest.approx(lead / HOUR)
    # score = (bucket - 1) x 2
    assert (r["bucket"], r["score"]) == (bucket, (bucket - 1) * 2)


@pytest.mark.parametrize("service", list(FREQUENCIES))
def test_deployment_frequency_buckets_at_the_edges(qc, service):
    count, bucket = FREQUENCIES[service]
    r = row(qc, "2023-02", service, "deployment_frequency")
    assert r["value"] == count
    assert (r["bucket"], r["score"]) == (bucket, (bucket - 1) * 2)


def test_months_without_deployments_look_back_six_months(qc):
    # No deployment in Feb 2023: one in Nov 2022 (within Sep..Feb) -> "once per month to once per
    # 6 months", bucket 2; one in Aug 2022 (outside) or never -> "less than once per 6 months", bucket 1.
    assert row(qc, "2023-02", "df_0_recent", "deployment_frequency")["bucket"] == 2
    assert row(qc, "2023-02", "df_0_old", "deployment_frequency")["bucket"] == 1
    assert row(qc, "2023-02", "df_0_never", "deployment_frequency")["bucket"] == 1
    # Aug 2022 is inside the window of Jan 2023 (Aug..Jan): still bucket 2 then.
    assert row(qc, "2023-01", "df_0_old", "deployment_frequency")["bucket"] == 2


def test_rates_composites_and_percentile_against_2025_all_industries(qc):
    # rates, Jan 2024: 4 deployments (31-day month: 1 < 4 and 4 x 7 = 28 <= 31 -> bucket 3, score 4).
    # Failed: r1 (rolled back) and r3 (i1 names it): change fail 2/4 = 50% -> 10 - 50/10 = 5.0.
    # Rework: r2 (rollback) 1/4 = 25% -> 10 - 25/10 = 7.5.
    # Recovery: r1 0.5 h (rollback), r3 3 h (i1 resolved 03:00); median 1.75 h -> bucket 5, score 8.
    # No change deployed: no lead time score.
    expected = {
        "deployment_frequency": 4.0,
        "change_failure_rate": 5.0,
        "rework_rate": 7.5,
        "failed_deployment_recovery_time_p50_hours": 8.0,
    }
    for metric, score in expected.items():
        assert row(qc, "2024-01", "rates", metric)["score"] == pytest.approx(score), metric
    assert row(qc, "2024-01", "rates", "lead_time_for_changes_p50_hours")["score"] is None
    # throughput = mean(4, 8) = 6; stability = mean(5, 7.5) = 6.25; overall = mean(4, 8, 5, 7.5) = 6.125
    assert row(qc, "2024-01", "rates", "throughput")["score"] == pytest.approx(6.0)
    assert row(qc, "2024-01", "rates", "stability")["score"] == pytest.approx(6.25)
    assert row(qc, "2024-01", "rates", "overall")["score"] == pytest.approx(6.125)

    # 2025 "all industries" (stored): deploy freq 4.8 +- 2.8, recovery 7.4 +- 2.1, change fail 1.9 +- 2.1
    # and rework 2.2 +- 2.2 as p/10, i.e. score-scale means 10 - 1.9 = 8.1 and 10 - 2.2 = 7.8.
    def phi(z: float) -> float:
        return 0.5 * (1 + math.erf(z / math.sqrt(2)))

    bench = {
        "deployment_frequency": (4.0, 4.8, 2.8),  # z = -0.2857 -> about the 38.8th percentile
        "failed_deployment_recovery_time_p50_hours": (8.0, 7.4, 2.1),  # z = 0.2857 -> 61.2
        "change_failure_rate": (5.0, 8.1, 2.1),  # z = -1.4762 -> 7.0
        "rework_rate": (7.5, 7.8, 2.2),  # z = -0.1364 -> 44.6
    }
    for metric, (score, mean, sd) in bench.items():
        r = row(qc, "2024-01", "rates", metric)
        assert (r["benchmark_edition"], r["industry"]) == (2025, "all")
        assert (r["industry_mean"], r["industry_sd"]) == (pytest.approx(mean), pytest.approx(sd))
        assert r["industry_percentile"] == pytest.approx(100 * phi((score - mean) / sd), abs=1e-4), metric
    assert row(qc, "2024-01", "rates", "change_failure_rate")["industry_percentile"] == pytest.approx(
        6.99, abs=0.01
    )
    # No org-size row is chosen by default; composites have no benchmark.
    assert row(qc, "2024-01", "rates", "rework_rate")["org_size_percentile"] is None
    assert row(qc, "2024-01", "rates", "overall")["industry_percentile"] is None


def test_team_and_org_rows_are_roll_ups_of_service_scores_with_their_spread(qc):
    # Team lt, Jan 2024, lead-time scores of its 8 services: 10, 10, 8, 6, 4, 2, 2, 0.
    # Sorted 0, 2, 2, 4, 6, 8, 10, 10: median (4 + 6) / 2 = 5; p25 at position 1.75 -> 2;
    # p75 at position 5.25 -> 8 + 0.25 x (10 - 8) = 8.5; min 0, max 10.
    r = row(qc, "2024-01", "lt", "lead_time_for_changes_p50_hours", "team")
    assert (r["score"], r["services"], r["score_min"], r["score_p25"], r["score_p75"], r["score_max"]) == (
        pytest.approx(5.0),
        8,
        0,
        pytest.approx(2.0),
        pytest.approx(8.5),
        10,
    )
    # The team's value column is the team's own KPI value (median lead time of its 8 changes, hours
    # sorted 0.5, 0.9997, 1, 24, 168, 720, 4319, 4320: (24 + 168) / 2 = 96 h), shown beside the
    # roll-up, not the source of its score.
    assert r["value"] == pytest.approx(96.0)
    # Org: the same 8 lead-time scores (no other service deployed a change): the same roll-up.
    org = row(qc, "2024-01", "all", "lead_time_for_changes_p50_hours", "org")
    assert (org["score"], org["services"]) == (pytest.approx(5.0), 8)
    # The org percentile places the median score 5 in 5.5 +- 2.4.
    assert org["industry_percentile"] == pytest.approx(
        100 * 0.5 * (1 + math.erf((5 - 5.5) / 2.4 / math.sqrt(2))), abs=1e-4
    )


def test_org_size_rows_store_recovery_inverted(tmp_path):
    # DORA's 2025 org-size file stores recovery as 10 - score: its "2 to 9 employees" row says 2.3 for a
    # score of 7.7; change fail 1.9 and rework 2.3 (p/10) mean 8.1 and 7.7; lead time 6.4 and deployment
    # frequency 4.8 are scores already.
    chosen = select_quick_check(
        QuickCheckChoice(edition=2025, industry="all", org_size="2_to_9"), tmp_path / "kpi.yaml"
    )
    sizes = {r["kpi_id"]: (r["mean"], r["sd"]) for r in chosen.rows if r["cut_type"] == "org_size"}
    assert sizes == {
        "lead_time_for_changes_p50_hours": (pytest.approx(6.4), pytest.approx(2.7)),
        "deployment_frequency": (pytest.approx(4.8), pytest.approx(2.9)),
        "failed_deployment_recovery_time_p50_hours": (pytest.approx(7.7), pytest.approx(2.2)),
        "change_failure_rate": (pytest.approx(8.1), pytest.approx(2.2)),
        "rework_rate": (pytest.approx(7.7), pytest.approx(2.3)),
    }
    industry = {r["kpi_id"]: r["mean"] for r in chosen.rows if r["cut_type"] == "industry"}
    assert industry["failed_deployment_recovery_time_p50_hours"] == pytest.approx(7.4)  # not inverted
    assert industry["change_failure_rate"] == pytest.approx(8.1)
    # The two files agree on all organisations once the org-size recovery is turned back: 10 - 2.6.
    everyone = select_quick_check(
        QuickCheckChoice(edition=2025, industry="all", org_size="all"), tmp_path / "kpi.yaml"
    )
    by_cut = {(r["cut_type"], r["kpi_id"]): r["mean"] for r in everyone.rows}
    for kpi_id in ("lead_time_for_changes_p50_hours", "failed_deployment_recovery_time_p50_hours"):
        assert by_cut[("org_size", kpi_id)] == pytest.approx(by_cut[("industry", kpi_id)]), kpi_id
    # 2024 stores recovery as a score in both files.
    old = select_quick_check(
        QuickCheckChoice(edition=2024, industry="all", org_size="10_to_19"), tmp_path / "kpi.yaml"
    )
    recovery = [r["mean"] for r in old.rows if r["kpi_id"] == "failed_deployment_recovery_time_p50_hours"]
    assert recovery == [pytest.approx(7.5), pytest.approx(8.0)]


def test_quick_check_choice_mistakes_are_config_errors(tmp_path):
    from platform_kpi.config import load_config

    kpi = tmp_path / "kpi.yaml"
    kpi.write_text("quick_check: {edition: 2025, industry: fintech}\n")
    with pytest.raises(ConfigError) as err:
        load_config(kpi)
    assert err.value.key == "quick_check.industry"
    assert "has no industry row 'fintech'; it has: all, technology, financial_services" in err.value.problem
    kpi.write_text("quick_check: {edition: 2021}\n")
    with pytest.raises(ConfigError) as err:
        load_config(kpi)
    assert (err.value.key, err.value.problem) == (
        "quick_check.edition",
        "no DORA Quick Check benchmark for 2021 (catalog/benchmarks/quick_check_2021.yaml); available editions: 2024, 2025",
    )
    kpi.write_text("quick_check: {edition: 2025, org_size: 10_to_19}\n")  # DORA's 2025 file has none
    with pytest.raises(ConfigError) as err:
        load_config(kpi)
    assert (err.value.key, err.value.problem) == (
        "quick_check.org_size",
        "the 2025 Quick Check benchmark has no org size row '10_to_19'; it has: all, solo, 2_to_9, "
        "20_to_99, 100_to_499, 500_to_999, 1000_to_4999, 5000_to_9999, 10000_or_more",
    )
    # 2024 has no rework rate: its rows cover four metrics.
    kpi.write_text("quick_check: {edition: 2024}\n")
    chosen = load_config(kpi).quick_check
    assert {r["kpi_id"] for r in chosen.rows} == {
        "lead_time_for_changes_p50_hours",
        "deployment_frequency",
        "failed_deployment_recovery_time_p50_hours",
        "change_failure_rate",
    }
