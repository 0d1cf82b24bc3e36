"""PagerDuty connector against the simulator: offset pages, the 10,000-offset cap, open incidents re-read."""

from __future__ import annotations

import datetime as dt

from platform_kpi.simulator.server import SimData, Simulator
from tests.connectors import fixtures_api as fx
from tests.connectors.api_helpers import build, env_for, rows, sync, write_sources


def _incidents(wh):
    return {
        r["incident_id"]: (r["service"], r["severity"], r["created_at"], r["resolved_at"])
        for r in rows(wh, "select * from core.incidents where source = 'pagerduty'")
    }


def test_multi_page_sync_and_late_resolution(tmp_path):
    with Simulator(fx.pagerduty_data(SimData())) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"pagerduty": fx.PAGERDUTY}, fx.SERVICES)
        wh = tmp_path / "wh.duckdb"
        assert sync(wh, cfg, env_for(sim))["pagerduty"].error is None
        # 5 incidents, limit 2: the window holding them is read in 3 pages.
        pages = [q for _, _, q, _ in sim.requests("pagerduty", r"^/pagerduty/incidents$")]
        assert sorted(int(q["offset"][0]) for q in pages if q["since"][0] <= "2026-11-05")[-3:] == [0, 2, 4]
        assert all(q["service_ids[]"] == ["PAPI", "PWEB", "PNOPE"] for q in pages)
        build(wh, cfg)
        assert _incidents(wh) == fx.EXPECTED_INCIDENTS
        quarantined = rows(wh, "select record_key, reason from ops.quarantine where source = 'pagerduty'")
        assert [q["record_key"] for q in quarantined] == ["Q4"]
        assert quarantined[0]["reason"].startswith(fx.EXPECTED_QUARANTINE[("pagerduty", "incidents", "Q4")])

        # Q2 is resolved upstream later; nothing else changes.
        q2 = next(i for i in sim.data.pagerduty_incidents if i["id"] == "Q2")
        q2.update(status="resolved", resolved_at="2026-11-15T11:00:00Z", updated_at="2026-11-15T11:00:00Z")
        sim.reset_log()
        result = sync(wh, cfg, env_for(sim))["pagerduty"]
        # the listing from the oldest incident still open (Q2, Q3 come back in its pages, not one GET
        # each; the alerts and log entries streams are tests/connectors/test_alerts_api.py's)
        listed = sim.requests("pagerduty", r"^/pagerduty/incidents(/[^/]+)?$")
        assert {p for _, p, _, _ in listed} == {"/pagerduty/incidents"}
        open_since = min(i["created_at"] for i in sim.data.pagerduty_incidents if i["id"] in ("Q2", "Q3"))
        assert min(q["since"][0] for _, _, q, _ in listed) <= open_since
        assert result.written == 1
        build(wh, cfg)
        got = _incidents(wh)
        assert got["pagerduty:incident:Q2"][3] == dt.datetime(2026, 11, 15, 11)
        assert len(got) == 4


def test_windows_over_the_offset_cap_are_split(tmp_path):
    data = SimData()
    start = dt.datetime(2026, 11, 10)
    data.pagerduty_incidents = [
        fx.incident(
            f"Q{i}",
            "PAPI",
            start + dt.timedelta(seconds=5 * i),
            "resolved",
            start + dt.timedelta(seconds=5 * i + 60),
        )
        for i in range(1, 10_051)
    ]
    with Simulator(data) as sim:
        cfg = write_sources(
            tmp_path / "s.yaml",
            sim,
            {"pagerduty": {"services": ["PAPI"], "limit": 100, "alerts": False}},
            fx.SERVICES,
        )
        wh = tmp_path / "wh.duckdb"
        result = sync(wh, cfg, env_for(sim))["pagerduty"]
        assert result.error is None
        offsets = [int(q["offset"][0]) + int(q["limit"][0]) for _, _, q, _ in sim.requests("pagerduty")]
        assert max(offsets) <= 10_000
        assert all(status == 200 for *_, status in sim.requests("pagerduty"))
        assert rows(wh, "select count(*) as n, count(distinct key) as k from raw.pagerduty__incidents") == [
            {"n": 10_050, "k": 10_050}
        ]
