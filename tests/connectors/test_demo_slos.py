"""The demo organisation's SLOs (platform_kpi/demo/slos.py): spec files the product reads without a
problem, daily results for every day of the window, reliability improving over the two years with a
few breached months, and the same files for the same arguments."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from connectors.slo_specs import read_specs
from platform_kpi.demo.slos import generate_slos

SERVICES = "service,team\npayments-api,payments\nplatform-auth,platform\nplatform-feed,platform\nplatform-ingest,platform\n"
TODAY = dt.date(2026, 11, 28)


def _generate(folder: Path) -> Path:
    folder.mkdir()
    (folder / "services.csv").write_text(SERVICES)
    generate_slos(folder, seed=7, today=TODAY)
    return folder / "slos"


def test_demo_slos_are_platform_slos_of_the_platform_team_with_a_result_every_day(tmp_path):
    slos = _generate(tmp_path / "a")
    specs, errors = read_specs([slos])
    assert errors == []
    assert {(s.slo_id, s.service, s.labels.get("tier")) for s in specs} == {
        ("openslo:slo:ci-build-success", "platform-auth", "platform"),
        ("openslo:slo:cluster-api-availability", "platform-feed", "platform"),
        ("sloth:slo:platform-ingest-availability", "platform-ingest", "platform"),
    }
    results = pd.read_csv(slos / "results.csv")
    days = pd.date_range("2024-11-01", TODAY - dt.timedelta(days=1)).strftime("%Y-%m-%d")
    for spec in specs:
        assert list(results.loc[results.slo_id == spec.slo_id, "day"]) == list(days)
    assert (results.good_events <= results.total_events).all() and results.hours_with_data.between(
        0, 24
    ).all()
    assert (results.hours_with_data < 24).any()  # a few days with a gap

    objective = {s.slo_id: s.objective for s in specs}
    results["month"] = results.day.str[:7]
    monthly = results.groupby(["slo_id", "month"])[["good_events", "total_events"]].sum().reset_index()
    monthly["met"] = monthly.good_events / monthly.total_events >= monthly.slo_id.map(objective)
    first_year = monthly[monthly.month < "2025-11"]
    last_year = monthly[monthly.month >= "2025-11"]
    breached_early, breached_late = (~first_year.met).sum(), (~last_year.met).sum()
    assert 3 <= breached_early <= 24 and breached_late < breached_early


def test_the_demo_slos_are_the_same_for_the_same_arguments(tmp_path):
    a, b = _generate(tmp_path / "a"), _generate(tmp_path / "b")
    for name in ("platform-openslo.yaml", "artifacts-sloth.yaml", "results.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
