"""GitHub connector against the simulator on 127.0.0.1: a multi-page sync gives the hand-written domain
rows; a re-run with no upstream change only re-reads the first listing pages; new items fetch only those."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.http import AuthError
from platform_kpi.simulator.server import Simulator
from platform_kpi.sources_config import SourcesConfigError
from tests.connectors import fixtures_api as fx
from tests.connectors.api_helpers import NOW, TOKEN_ENVS, build, env_for, rows, sync, write_sources


@pytest.fixture
def org(tmp_path):
    with Simulator(fx.org_data()) as sim:
        cfg = write_sources(
            tmp_path / "sources.yaml", sim, {"github": fx.GITHUB, "pagerduty": fx.PAGERDUTY}, fx.SERVICES
        )
        yield sim, cfg, tmp_path / "wh.duckdb"


def _domain(wh):
    deps = {
        r["deployment_id"]: (
            r["service"],
            r["environment"],
            r["status"],
            r["finished_at"],
            r["is_rollback"],
            r["is_hotfix"],
        )
        for r in rows(wh, "select * from core.deployments where source = 'github'")
    }
    builds = {
        r["build_id"]: (r["service"], r["branch"], r["status"], r["duration_sec"])
        for r in rows(wh, "select * from core.cicd_builds where source = 'github'")
    }
    changes = {
        r["change_id"]: (r["service"], r["first_commit_at"], r["merged_at"], r["deployment_id"])
        for r in rows(wh, "select * from core.changes where source = 'github'")
    }
    return deps, builds, changes


def test_multi_page_sync_gives_the_hand_written_domain_rows(org):
    sim, cfg, wh = org
    results = sync(wh, cfg, env_for(sim))
    assert results["github"].error is None
    build(wh, cfg)
    deps, builds, changes = _domain(wh)
    assert deps == fx.EXPECTED_DEPLOYMENTS
    assert builds == fx.EXPECTED_BUILDS
    assert changes == fx.EXPECTED_CHANGES
    # Several pages were followed (page size 2): acme/api has 6 deployments -> 3 listing pages.
    assert len(sim.requests("github", r"^/github/repos/acme/api/deployments$")) == 3
    # Teams come from sources.yaml; the vendor's environment name is kept.
    assert rows(wh, "select service, team from core.services order by service") == [
        {"service": "api", "team": "payments"},
        {"service": "indexer", "team": "search"},
        {"service": "web", "team": "payments"},
    ]
    orig = rows(
        wh, "select original_environment from staging.stg_github__deployments where deployment_key = '2'"
    )
    assert orig == [{"original_environment": "Prod-EU"}]
    quarantined = {
        (r["source"], r["entity"], r["record_key"]): r["reason"]
        for r in rows(wh, "select * from ops.quarantine where source = 'github'")
    }
    assert set(quarantined) == {k for k in fx.EXPECTED_QUARANTINE if k[0] == "github"}
    for key, reason in quarantined.items():
        assert reason.startswith(fx.EXPECTED_QUARANTINE[key]), reason


def test_rerun_without_upstream_change_writes_nothing_and_reads_only_first_pages(org):
    sim, cfg, wh = org
    sync(wh, cfg, env_for(sim))
    before = rows(wh, "select key, fetched_at from raw.github__deployments order by key")
    sim.reset_log()
    results = sync(wh, cfg, env_for(sim))
    assert results["github"].written == 0
    paths = [r[1] for r in sim.requests("github")]
    # Per repo one first page of each listing (deployments and pull requests come newest first and stop
    # at the cursor; runs are read from the cursor on), plus the statuses of the one deployment still
    # queued, which is re-checked until it finishes. The in-progress run 104 is inside the runs window.
    assert sorted(paths) == sorted(
        [
            "/github/repos/acme/api/deployments",
            "/github/repos/acme/api/deployments/6/statuses",
            "/github/repos/acme/api/actions/runs",
            "/github/repos/acme/api/pulls",
            "/github/repos/acme/mono/deployments",
            "/github/repos/acme/mono/actions/runs",
            "/github/repos/acme/mono/pulls",
        ]
    )
    assert rows(wh, "select key, fetched_at from raw.github__deployments order by key") == before
    state = rows(wh, "select sum(rows_written) as w from ops.sync_state where source = 'github'")
    assert state == [{"w": 0}]


def test_new_items_and_late_statuses_fetch_only_those(org):
    sim, cfg, wh = org
    sync(wh, cfg, env_for(sim))
    g = sim.data.github
    # Upstream changes: deployment 6 finishes; a new deployment, run and merged pull request appear.
    g.statuses[6].append(fx.status(6, 9, "success", fx.T(2026, 11, 15, 10, 30)))
    next(d for d in g.deployments["acme/api"] if d["id"] == 6)["updated_at"] = fx.z(
        fx.T(2026, 11, 15, 10, 30)
    )
    fx.add_deployment(
        g_data := sim.data,
        fx.deployment(9, "acme/api", "production", fx.T(2026, 11, 15, 9)),
        [("success", fx.T(2026, 11, 15, 9, 7))],
    )
    g.runs["acme/api"].append(fx.run(106, "main", "completed", "success", fx.T(2026, 11, 15, 8), 3))
    g.pulls["acme/api"].append(fx.pull(4, fx.T(2026, 11, 14, 9), fx.T(2026, 11, 15, 8), "9" * 40))
    g.pull_commits[("acme/api", 4)] = [fx.commit(fx.T(2026, 11, 14, 7), 4)]
    assert g_data is sim.data
    sim.reset_log()
    results = sync(wh, cfg, env_for(sim), now=NOW)
    assert results["github"].error is None
    sub = sorted(p for _, p, _, _ in sim.requests("github", r"/(statuses|commits|files)$|/runs/\d+$"))
    assert sub == [
        "/github/repos/acme/api/deployments/6/statuses",
        "/github/repos/acme/api/deployments/9/statuses",
        "/github/repos/acme/api/pulls/4/commits",
    ]
    build(wh, cfg)
    deps, builds, changes = _domain(wh)
    assert deps["github:deployment:6"][2:4] == ("SUCCESS", fx.T(2026, 11, 15, 10, 30))
    assert deps["github:deployment:9"][2] == "SUCCESS"
    assert builds["github:build:106"] == ("api", "main", "SUCCESS", 180)
    assert changes["github:change:acme/api#4"] == ("api", fx.T(2026, 11, 14, 7), fx.T(2026, 11, 15, 8), None)
    assert len(deps) == 9 and len(builds) == 8 and len(changes) == 4
    # The listings' first pages (acme/api's deployments now need two: 9 and 6 are both new or open, and
    # page size is 2) + the three sub-resources + the new merged pull request's flow: itself (size),
    # its reviews and its issue events.
    flow = sorted(p for _, p, _, _ in sim.requests("github", r"/pulls/\d+$|/reviews$|/events$"))
    assert flow == [
        "/github/repos/acme/api/issues/4/events",
        "/github/repos/acme/api/pulls/4",
        "/github/repos/acme/api/pulls/4/reviews",
    ]
    assert len(sim.requests("github")) == 8 + 3 + 3


def test_missing_token_variable_is_named(tmp_path):
    with Simulator(fx.org_data()) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"github": fx.GITHUB}, fx.SERVICES)
        with pytest.raises(SourcesConfigError) as err:
            sync(tmp_path / "wh.duckdb", cfg, {})
    assert "github" in str(err.value) and TOKEN_ENVS["github"] in str(err.value)


def test_wrong_token_is_a_clear_error_naming_source_and_variable(tmp_path):
    with Simulator(fx.org_data()) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"github": fx.GITHUB}, fx.SERVICES)
        with pytest.raises(AuthError) as err:
            sync(tmp_path / "wh.duckdb", cfg, {TOKEN_ENVS["github"]: "ghp_wrong_value_123"})
    message = str(err.value)
    assert message.startswith("github: HTTP 401") and TOKEN_ENVS["github"] in message
    assert "ghp_wrong_value_123" not in message


def test_runs_of_deployment_workflows_are_deployments_not_builds(tmp_path):
    data = fx.org_data()
    data.github.runs["acme/api"].append(
        fx.run(301, "main", "completed", "success", fx.T(2026, 11, 12, 14), 9, ".github/workflows/deploy.yml")
    )
    with Simulator(data) as sim:
        github = {**fx.GITHUB, "deployment_workflows": {".github/workflows/deploy.yml": "production"}}
        cfg = write_sources(tmp_path / "s.yaml", sim, {"github": github}, fx.SERVICES)
        wh = tmp_path / "wh.duckdb"
        sync(wh, cfg, env_for(sim))
    build(wh, cfg)
    deps, builds, _ = _domain(wh)
    assert deps["github:deployment:run-301"] == (
        "api",
        "production",
        "SUCCESS",
        fx.T(2026, 11, 12, 14, 9),
        False,
        False,
    )
    assert "github:build:301" not in builds and builds == fx.EXPECTED_BUILDS
    assert rows(
        wh, "select is_production from core.deployments where deployment_id = 'github:deployment:run-301'"
    ) == [{"is_production": True}]


def test_a_runs_window_over_the_1000_result_cap_is_split_by_date(tmp_path):
    data = fx.org_data()
    start = fx.T(2026, 11, 1)
    data.github.runs["acme/api"] = [
        fx.run(10_000 + i, "main", "completed", "success", start + dt.timedelta(minutes=10 * i), 5)
        for i in range(1_050)  # 1,050 runs between Nov 1 and Nov 8: one 31-day window would hold them all
    ]
    with Simulator(data) as sim:
        github = {**fx.GITHUB, "per_page": 100}
        cfg = write_sources(tmp_path / "s.yaml", sim, {"github": github}, fx.SERVICES)
        wh = tmp_path / "wh.duckdb"
        assert sync(wh, cfg, env_for(sim))["github"].error is None
        windows = [
            q["created"][0]
            for _, _, q, _ in sim.requests("github", r"/acme/api/actions/runs$")
            if "page" not in q
        ]
    assert len(windows) > 2  # the over-full window was asked again in halves
    assert rows(
        wh,
        "select count(*) as n, count(distinct key) as k from raw.github__workflow_runs "
        "where scope = 'acme/api'",
    ) == [{"n": 1_050, "k": 1_050}]
