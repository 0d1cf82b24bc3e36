"""The demo organisation's costs and utilization: consistent with its builds, deployments and teams."""

from __future__ import annotations

import datetime as dt

import pytest

from platform_kpi.demo.org import generate_demo_costs, generate_demo_org, team_profiles
from tests.costs.helpers import build_cost_warehouse, query

TODAY = dt.date(2026, 5, 9)


@pytest.fixture(scope="module")
def demo(module_tmp):
    files = module_tmp / "files"
    generate_demo_org(files, services=12, seed=3, today=TODAY)
    counts = generate_demo_costs(files, seed=3, today=TODAY)
    config = (
        __import__("tests.repo", fromlist=["REPO_ROOT"]).REPO_ROOT / "config" / "costs.yaml"
    ).read_text()
    wh = build_cost_warehouse(files.parent, {}, costs_yaml=config, files_dir=files)
    return files, counts, wh


def test_writes_aws_parquet_1_2_azure_csv_gz_1_0_and_opencost(demo):
    files, counts, wh = demo
    assert counts["focus_aws"] > 0 and counts["focus_azure"] > 0 and counts["opencost_allocations"] > 0
    versions = query(
        wh, "select _file like 'aws/%' as aws, list(distinct focus_version) as v from core.costs group by 1"
    )
    assert {r["aws"]: r["v"] for r in versions} == {True: ["1.2"], False: ["1.0"]}
    assert query(wh, "select count(*) as n from marts.cost_quarantine") == [{"n": 0}]
    assert sorted(p.name for p in (files / "opencost").glob("*.json"))[0] == "2024-05.json"


def test_same_seed_same_costs(demo, tmp_path):
    files, counts, _ = demo
    again = tmp_path / "files"
    generate_demo_org(again, services=12, seed=3, today=TODAY)
    assert generate_demo_costs(again, seed=3, today=TODAY) == counts
    for name in ("focus/azure/202601/part_0_0001.csv.gz", "opencost/2026-01.json"):
        assert (again / name).read_bytes() == (files / name).read_bytes()


def test_costs_cover_the_builds_months_and_cost_per_build_falls(demo):
    _, _, wh = demo
    rows = query(
        wh,
        "select month, value, sample_size from marts.kpi_monthly where kpi_id = 'cost_per_build' "
        "and scope_type = 'org' order by month",
    )
    assert [str(r["month"]) for r in rows][0] == "2024-05-01" and str(rows[-1]["month"]) == "2026-05-01"
    assert all(r["value"] is not None and r["sample_size"] > 0 for r in rows)
    full = rows[:-1]  # May 2026 is partial
    assert full[-1]["value"] < full[0]["value"]  # runner prices fall ~1.5% a month
    teams = query(
        wh,
        "select count(distinct scope) as n from marts.kpi_monthly where kpi_id = 'cloud_cost' "
        "and scope_type = 'team' and value > 0",
    )
    assert teams[0]["n"] == len({r["team"] for r in query(wh, "select team from core.services")})


def test_efficiency_follows_team_tier_and_unattributed_is_visible(demo):
    _, _, wh = demo
    tiers = team_profiles()
    eff = {
        r["scope"]: r["value"]
        for r in query(
            wh,
            "select scope, value from marts.kpi_monthly where kpi_id = 'cluster_cpu_efficiency' "
            "and scope_type = 'team' and month = date '2026-04-01' and value is not null",
        )
    }
    elite = [v for t, v in eff.items() if tiers.get(t) == "elite"]
    low = [v for t, v in eff.items() if tiers.get(t) == "low"]
    assert elite and low and min(elite) > max(low)
    kinds = {r["cost_kind"] for r in query(wh, "select distinct cost_kind from marts.cost_unattributed")}
    assert {"ci_compute", "deployment", "other"} <= kinds  # runner overhead, shared NAT, tax and credits
    split = query(wh, "select sum(split_rows) as n from marts.cost_monthly")
    assert split[0]["n"] > 0  # weekly charges crossing a month boundary
