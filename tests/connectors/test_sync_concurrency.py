"""Requests of a source run concurrently within the rate limit, and every stream reports its requests
and wall time (issue #16)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from platform_kpi.simulator.server import Simulator
from tests.connectors import fixtures_api as fx
from tests.connectors.api_helpers import FAST_HTTP, build, env_for, rows, sync, write_sources
from tests.connectors.test_faults import _snapshot


def _sources(tmp_path, sim, name):
    return write_sources(
        tmp_path / name, sim, {"github": fx.GITHUB, "pagerduty": fx.PAGERDUTY}, fx.SERVICES, http=FAST_HTTP
    )


def test_concurrent_workers_never_exceed_the_rate_limit_and_the_sync_completes(tmp_path):
    """A GitHub that allows 8 requests per 2-second window and refuses (403, remaining 0) any beyond:
    the client's workers share the limit headers, wait for the reset together, and send none too many."""
    with Simulator(fx.org_data()) as sim:
        clean_wh = tmp_path / "clean.duckdb"
        sync(clean_wh, _sources(tmp_path, sim, "clean.yaml"), env_for(sim))
        clean_requests = len(sim.requests("github"))
        assert sim.max_in_flight > 1  # the requests of a source did run at once
        sim.reset_log()
        sim.github_limit = (8, 2)
        cfg = _sources(tmp_path, sim, "limited.yaml")
        wh = tmp_path / "limited.duckdb"
        results = sync(wh, cfg, env_for(sim))
        assert results["github"].error is None and results["pagerduty"].error is None
        assert sim.over_limit == 0  # no request beyond the limit
        assert all(status == 200 for vendor, _, _, status in sim.requests("github"))
        assert len(sim.requests("github")) == clean_requests > 8 * 2  # several windows were needed
    build(clean_wh, cfg)
    build(wh, cfg)
    assert _snapshot(wh) == _snapshot(clean_wh)


def test_every_stream_counts_its_own_requests_and_time(tmp_path):
    """Streams run at once on one client: each stream's requests (its sub-requests included) are its own,
    they add up to what the server saw, and the requests and seconds are kept in ops.sync_state."""
    with Simulator(fx.org_data()) as sim:
        cfg = _sources(tmp_path, sim, "s.yaml")
        wh = tmp_path / "wh.duckdb"
        results = sync(wh, cfg, env_for(sim))
        for vendor in ("github", "pagerduty"):
            r = results[vendor]
            assert sum(s.requests for s in r.streams) == r.requests == len(sim.requests(vendor))
            assert all(s.seconds > 0 for s in r.streams)
        by_path = {}
        for _, path, _, _ in sim.requests("github"):
            stream = (
                "pulls"
                if "/pulls" in path or "/issues/" in path
                else "deployments"
                if "/deployments" in path
                else "runs"
            )
            repo = path.split("/")[4]
            by_path[(stream, repo)] = by_path.get((stream, repo), 0) + 1
        streams = {s.stream: s.requests for s in results["github"].streams}
        assert streams["pulls:acme/mono"] == by_path[("pulls", "mono")]
        assert streams["deployments:acme/api"] == by_path[("deployments", "api")]
    state = {
        r["stream"]: r
        for r in rows(wh, "select stream, requests, seconds from ops.sync_state where source = 'github'")
    }
    assert {k: v["requests"] for k, v in state.items()} == streams
    assert all(v["seconds"] > 0 for v in state.values())


def test_kpi_sync_prints_requests_and_seconds_per_stream(tmp_path):
    kpi = Path(sys.executable).parent / "kpi"
    with Simulator(fx.org_data()) as sim:
        cfg = _sources(tmp_path, sim, "s.yaml")
        out = subprocess.run(
            [str(kpi), "sync", "--sources", str(cfg), "--warehouse", str(tmp_path / "w.duckdb"), "--no-run"],
            env={**os.environ, **env_for(sim)},
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [line.split() for line in out.stdout.splitlines()]
    # the summary: "  <stream> <requests> <written> <seconds> ok" under its source's line
    stream_rows = {p[0]: p for p in lines if len(p) == 5 and p[0].startswith(("pulls:", "deployments:"))}
    assert set(stream_rows) >= {"pulls:acme/api", "pulls:acme/mono", "deployments:acme/api"}
    for p in stream_rows.values():
        assert int(p[1]) >= 1 and float(p[3]) >= 0 and p[4] == "ok"
