"""Faults the real APIs throw, against the simulator: whatever happens, nothing is lost and nothing is
duplicated. Each case syncs the hand-written organisation with one fault injected and must end with
exactly the rows of a clean sync."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from platform_kpi.simulator.server import Fault, Simulator
from tests.connectors import fixtures_api as fx
from tests.connectors.api_helpers import FAST_HTTP, build, env_for, rows, sync, write_sources
from tests.repo import REPO_ROOT

RAW_COUNTS = (
    "select 'deployments' as t, count(*) as n, count(distinct key) as k from raw.github__deployments "
    "union all select 'statuses', count(*), count(distinct key) from raw.github__deployment_statuses "
    "union all select 'runs', count(*), count(distinct key) from raw.github__workflow_runs "
    "union all select 'pulls', count(*), count(distinct key) from raw.github__pulls "
    "union all select 'commits', count(*), count(distinct key) from raw.github__pull_commits "
    "union all select 'files', count(*), count(distinct key) from raw.github__pull_files "
    "union all select 'incidents', count(*), count(distinct key) from raw.pagerduty__incidents order by t"
)
DOMAIN = {
    "deployments": "select deployment_id, service, environment, status, started_at, finished_at from core.deployments",
    "builds": "select build_id, service, branch, status, started_at, finished_at from core.cicd_builds",
    "changes": "select change_id, service, first_commit_at, merged_at, deployment_id from core.changes",
    "incidents": "select incident_id, service, created_at, resolved_at from core.incidents",
    "kpis": "select month, scope_type, scope, kpi_id, value, sample_size from marts.kpi_monthly",
}


def _snapshot(wh):
    return {"raw": rows(wh, RAW_COUNTS)} | {
        name: sorted(rows(wh, sql), key=repr) for name, sql in DOMAIN.items()
    }


def _setup(tmp_path, sim, name="s.yaml", graphql=False, **http):
    extra = {"http": {**FAST_HTTP, **http}}
    github = fx.GITHUB_GRAPHQL if graphql else fx.GITHUB
    return write_sources(
        tmp_path / name, sim, {"github": github, "pagerduty": fx.PAGERDUTY}, fx.SERVICES, **extra
    )


@pytest.fixture(scope="module")
def clean(module_tmp):
    """The rows of an uninterrupted, fault-free sync."""
    tmp = module_tmp
    with Simulator(fx.org_data()) as sim:
        cfg = _setup(tmp, sim)
        wh = tmp / "wh.duckdb"
        sync(wh, cfg, env_for(sim))
        build(wh, cfg)
        requests = len(sim.requests())
    snap = _snapshot(wh)
    assert all(r["n"] == r["k"] and r["n"] > 0 for r in snap["raw"])
    return snap, requests


TIMEOUT_HTTP = {"timeout": 1.0}
FAULTS = {
    "429 with Retry-After": [Fault(r"/deployments$", "429", times=1)],
    "secondary-limit 403": [Fault(r"/actions/runs$", "403-secondary", times=1)],
    "primary-limit 403 (x-ratelimit-reset)": [Fault(r"/pulls$", "403-primary", times=1)],
    "burst of 5xx": [
        Fault(r"/statuses$", "500", times=2),
        Fault(r"/commits$", "502", times=2),
        Fault(r"/pagerduty/incidents$", "503", times=3),
    ],
    # answered after 3 s, against a 1 s timeout for this case (TIMEOUT_HTTP)
    "timeouts": [Fault(r"/pulls/\d+/commits$", "timeout", times=2, delay=3.0)],
    "truncated JSON page": [
        Fault(r"/acme/api/deployments$", "truncate", times=1, skip=1),
        Fault(r"/pagerduty/incidents$", "truncate", times=1, skip=1),
    ],
    "PagerDuty 429": [Fault(r"/pagerduty/incidents", "429", times=2)],
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_loses_and_duplicates_nothing(name, clean, tmp_path):
    expected, clean_requests = clean
    with Simulator(fx.org_data()) as sim:
        for fault in FAULTS[name]:
            sim.add_fault(Fault(**{k: v for k, v in vars(fault).items() if k not in ("seen", "fired")}))
        timed_out = any(f.kind == "timeout" for f in FAULTS[name])
        cfg = _setup(tmp_path, sim, **(TIMEOUT_HTTP if timed_out else {}))
        wh = tmp_path / "wh.duckdb"
        started = time.monotonic()
        results = sync(wh, cfg, env_for(sim))
        assert results["github"].error is None and results["pagerduty"].error is None
        fired = sum(f.fired for f in sim.faults)
        assert fired == sum(f.times for f in sim.faults)
        # every faulty answer was retried once more, nothing else was fetched twice
        assert len(sim.requests()) == clean_requests + fired
    if any(f.kind in ("429", "403-secondary", "403-primary") for f in FAULTS[name]):
        assert time.monotonic() - started >= 1.0  # the wait was honoured, not skipped
    build(wh, cfg)
    assert _snapshot(wh) == expected


GRAPHQL_FAULTS = {
    "GraphQL 5xx burst": [Fault(r"/graphql$", "502", times=2), Fault(r"/graphql$", "500", times=1, skip=1)],
    "GraphQL truncated page": [Fault(r"/graphql$", "truncate", times=1, skip=1)],
    "GraphQL primary limit": [Fault(r"/graphql$", "403-primary", times=1, skip=2)],
}


@pytest.mark.parametrize("name", list(GRAPHQL_FAULTS))
def test_graphql_fault_loses_and_duplicates_nothing(name, clean, tmp_path):
    """Pull requests through GraphQL (POST /graphql, paged by cursor) survive the same faults, and store
    exactly the raw rows and domain rows the clean REST sync stores."""
    expected, _ = clean
    with Simulator(fx.org_data()) as sim:
        for fault in GRAPHQL_FAULTS[name]:
            sim.add_fault(Fault(**{k: v for k, v in vars(fault).items() if k not in ("seen", "fired")}))
        cfg = _setup(tmp_path, sim, graphql=True)
        wh = tmp_path / "wh.duckdb"
        results = sync(wh, cfg, env_for(sim))
        assert results["github"].error is None and results["pagerduty"].error is None
        assert all(f.fired == f.times for f in sim.faults)
        assert sim.requests("github", r"/graphql$") and not sim.requests("github", r"/pulls")
    build(wh, cfg)
    assert _snapshot(wh) == expected


def test_give_up_after_a_bounded_time_keeps_previous_rows_then_recovers(clean, tmp_path):
    expected, _ = clean
    with Simulator(fx.org_data()) as sim:
        cfg = _setup(tmp_path, sim, give_up_after=1.0, backoff_base=0.2, backoff_cap=0.4)
        wh = tmp_path / "wh.duckdb"
        sim.add_fault(Fault(r"/acme/mono/pulls$", "503", times=10_000))
        started = time.monotonic()
        result = sync(wh, cfg, env_for(sim))["github"]
        took = time.monotonic() - started
        assert took < 10
        assert "pulls:acme/mono" in result.error and "giving up" in result.error
        assert "/repos/acme/mono/pulls" in result.error
        # the other streams were committed, the failed one has no rows and no cursor
        state = {r["stream"]: r for r in rows(wh, "select * from ops.sync_state where source = 'github'")}
        assert state["pulls:acme/mono"]["cursor"] is None and state["pulls:acme/mono"]["last_error"]
        assert state["pulls:acme/api"]["last_error"] is None
        assert rows(wh, "select count(*) as n from raw.github__pulls where scope = 'acme/mono'") == [{"n": 0}]
        sim.faults.clear()
        assert sync(wh, cfg, env_for(sim))["github"].error is None
    build(wh, cfg)
    assert _snapshot(wh) == expected


def test_unknown_enum_and_schema_changes_are_quarantined_rest_kept(clean, tmp_path):
    expected, _ = clean
    data = fx.org_data()
    g = data.github
    # new fields everywhere: ignored
    for deps in g.deployments.values():
        for d in deps:
            d["new_field"] = {"nested": [1, 2]}
    for runs in g.runs.values():
        for r in runs:
            r["triggering_actor"] = {"login": "someone"}
    # an unknown deployment state, a deployment without created_at, a run without head_branch
    fx.add_deployment(
        data,
        fx.deployment(50, "acme/api", "production", fx.T(2026, 11, 12, 10)),
        [("exploded", fx.T(2026, 11, 12, 10, 5))],
    )
    missing = fx.deployment(51, "acme/api", "production", fx.T(2026, 11, 12, 11))
    fx.add_deployment(data, missing, [("success", fx.T(2026, 11, 12, 11, 5))])
    del missing["created_at"]
    bad_run = fx.run(150, "main", "completed", "success", fx.T(2026, 11, 12, 8), 3)
    del bad_run["head_branch"]
    g.runs["acme/api"].append(bad_run)
    with Simulator(data) as sim:
        cfg = _setup(tmp_path, sim)
        wh = tmp_path / "wh.duckdb"
        sync(wh, cfg, env_for(sim))
    build(wh, cfg)
    got = _snapshot(wh)
    for name in DOMAIN:
        assert got[name] == expected[name], name
    reasons = {
        r["record_key"]: r["reason"]
        for r in rows(wh, "select record_key, reason from ops.quarantine where source = 'github'")
    }
    assert reasons["50"] == "unknown deployment status state exploded"
    assert reasons["51"] == "created_at is missing"
    assert reasons["150"] == "head_branch is missing"


_CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.connectors.api_helpers import sync
import json
sync(Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3]))
print("finished")
"""


def test_sync_killed_mid_way_then_rerun_equals_an_uninterrupted_sync(clean, tmp_path):
    import json

    expected, clean_requests = clean
    with Simulator(fx.org_data()) as sim:
        cfg = _setup(tmp_path, sim)
        wh = tmp_path / "wh.duckdb"
        sim.add_fault(Fault(r".", "delay", times=10_000, delay=0.05))
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD.format(root=str(REPO_ROOT)),
                str(wh),
                str(cfg),
                json.dumps(env_for(sim)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 180  # the child needs its imports first (slow on a loaded machine)
        while len(sim.requests()) < clean_requests // 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
        out, _ = child.communicate(timeout=10)
        assert child.returncode == -signal.SIGKILL and b"finished" not in out
        assert 0 < len(sim.requests()) < clean_requests
        sim.faults.clear()
        results = sync(wh, cfg, env_for(sim))
        assert results["github"].error is None and results["pagerduty"].error is None
    build(wh, cfg)
    assert _snapshot(wh) == expected


def test_a_spent_quota_holds_the_next_request_until_the_reset(clean, tmp_path):
    """GitHub answers normally but says the window's last request is spent: the client waits for the reset
    instead of spending a request on a certain 403, and the sync is complete."""
    expected, clean_requests = clean
    with Simulator(fx.org_data()) as sim:
        sim.add_fault(Fault(r"/acme/api/deployments$", "quota-spent", times=1, retry_after=2))
        cfg = _setup(tmp_path, sim)
        wh = tmp_path / "wh.duckdb"
        started = time.monotonic()
        assert sync(wh, cfg, env_for(sim))["github"].error is None
        assert time.monotonic() - started >= 1.0
        assert all(status == 200 for *_, status in sim.requests())
        assert len(sim.requests()) == clean_requests  # no request was wasted on a 403
    build(wh, cfg)
    assert _snapshot(wh) == expected


def _raw(wh):
    tables = [
        r["t"]
        for r in rows(
            wh,
            "select table_name as t from information_schema.tables where table_schema = 'raw' "
            "and table_name not like 'files%' order by 1",
        )
    ]
    return {t: rows(wh, f"select key, payload_sha from raw.{t} order by key") for t in tables}


@pytest.mark.parametrize("source", ["gitlab", "jenkins", "opsgenie"])
def test_other_sources_survive_a_429_a_5xx_burst_and_a_truncated_page(source, tmp_path):
    """The other connectors share the client: with a rate limit, a burst of 5xx and a truncated page
    injected into their listings they store exactly what a clean sync stores."""
    from tests.connectors import test_gitlab, test_jenkins, test_opsgenie

    module, settings, listing = {
        "gitlab": (test_gitlab, test_gitlab.GITLAB, r"/pipelines$"),
        "jenkins": (test_jenkins, test_jenkins.JENKINS, r"/job/main/api/json$"),
        "opsgenie": (test_opsgenie, test_opsgenie.OPSGENIE, r"/v1/incidents$"),
    }[source]
    stored = {}
    for label, faults in (
        ("clean", []),
        (
            "faulty",
            [
                Fault(listing, "429", times=1),
                Fault(listing, "502", times=2, skip=1),
                Fault(listing, "truncate", times=1, skip=1),
            ],
        ),
    ):
        with Simulator(module.data()) as sim:
            for f in faults:
                sim.add_fault(f)
            cfg = write_sources(
                tmp_path / f"{label}.yaml", sim, {source: settings}, module.SERVICES, http=FAST_HTTP
            )
            wh = tmp_path / f"{label}.duckdb"
            assert sync(wh, cfg, env_for(sim))[source].error is None
            assert all(f.fired == f.times for f in sim.faults)
        stored[label] = _raw(wh)
    assert stored["faulty"] == stored["clean"]
    assert sum(len(v) for v in stored["clean"].values()) > 3
