"""Opsgenie connector against the simulator: paging.next, incidents with impacted services, alerts kept,
open incidents re-read, GenieKey auth."""

from __future__ import annotations

import datetime as dt

from platform_kpi.simulator.server import SimData, Simulator
from tests.connectors.api_helpers import build, env_for, rows, sync, write_sources

T = dt.datetime
SERVICES = [{"service": "api", "team": "payments", "opsgenie_services": ["OG-API"]}]
OPSGENIE = {"limit": 2}


def z(t):
    return t.isoformat(timespec="milliseconds") + "Z"


def incident(i, status, created, updated, services=("OG-API",), impact_end=None, priority="P2"):
    out = {
        "id": i,
        "tinyId": i[-1],
        "message": f"incident {i}",
        "status": status,
        "tags": [],
        "priority": priority,
        "createdAt": z(created),
        "updatedAt": z(updated),
        "ownerTeam": "t1",
        "impactedServices": list(services),
        "impactStartDate": z(created),
    }
    if impact_end:
        out["impactEndDate"] = z(impact_end)
    return out


def alert(i, status, created, ack_ms=None, close_ms=None):
    return {
        "id": i,
        "tinyId": i[-1],
        "alias": i,
        "message": "disk",
        "status": status,
        "acknowledged": ack_ms is not None,
        "isSeen": True,
        "tags": ["service:api"],
        "snoozed": False,
        "count": 3,
        "lastOccurredAt": z(created),
        "createdAt": z(created),
        "updatedAt": z(created),
        "source": "prometheus",
        "owner": "",
        "priority": "P3",
        "teams": [],
        "responders": [],
        "integration": {"type": "API"},
        "report": {k: v for k, v in (("ackTime", ack_ms), ("closeTime", close_ms)) if v is not None},
    }


def data() -> SimData:
    d = SimData()
    d.opsgenie_incidents = [
        incident(
            "inc-1",
            "resolved",
            T(2026, 11, 5, 10),
            T(2026, 11, 5, 13),
            impact_end=T(2026, 11, 5, 12),
            priority="P1",
        ),
        incident("inc-2", "open", T(2026, 11, 8, 10), T(2026, 11, 8, 10)),
        incident("inc-3", "closed", T(2026, 11, 9, 10), T(2026, 11, 9, 10, 30)),
        incident("inc-4", "exploded", T(2026, 11, 10, 10), T(2026, 11, 10, 10)),
        incident("inc-5", "resolved", T(2026, 11, 11, 10), T(2026, 11, 11, 11), services=("OG-OTHER",)),
    ]
    d.opsgenie_alerts = [
        alert("al-1", "closed", T(2026, 11, 5, 9), 60_000, 3_600_000),
        alert("al-2", "open", T(2026, 11, 6, 9), 120_000),
        alert("al-3", "open", T(2026, 11, 7, 9)),
    ]
    return d


def test_incidents_alerts_paging_and_late_resolution(tmp_path):
    with Simulator(data()) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"opsgenie": OPSGENIE}, SERVICES)
        wh = tmp_path / "wh.duckdb"
        assert sync(wh, cfg, env_for(sim))["opsgenie"].error is None
        # 5 incidents at 2 per page: the first page, then two pages named by paging.next
        offsets = [q.get("offset") for _, _, q, _ in sim.requests("opsgenie", r"/v1/incidents$")]
        assert offsets == [["0"], ["2"], ["4"]]
        build(wh, cfg)
        got = {
            r["incident_id"]: (r["service"], r["severity"], r["created_at"], r["resolved_at"])
            for r in rows(wh, "select * from core.incidents where source = 'opsgenie'")
        }
        assert got == {
            "opsgenie:incident:inc-1": ("api", "P1", T(2026, 11, 5, 10), T(2026, 11, 5, 12)),
            "opsgenie:incident:inc-2": ("api", "P2", T(2026, 11, 8, 10), None),
            "opsgenie:incident:inc-3": ("api", "P2", T(2026, 11, 9, 10), T(2026, 11, 9, 10, 30)),
        }
        reasons = {
            r["record_key"]: r["reason"]
            for r in rows(wh, "select * from ops.quarantine where source = 'opsgenie'")
        }
        assert reasons == {
            "inc-4": "unknown incident status exploded",
            "inc-5": "no service mapped for the impacted services (sources.yaml services)",
        }
        alerts = rows(
            wh, "select alert_key, status, ack_sec, close_sec from staging.stg_opsgenie__alerts order by 1"
        )
        assert alerts == [
            {"alert_key": "al-1", "status": "closed", "ack_sec": 60.0, "close_sec": 3600.0},
            {"alert_key": "al-2", "status": "open", "ack_sec": 120.0, "close_sec": None},
            {"alert_key": "al-3", "status": "open", "ack_sec": None, "close_sec": None},
        ]
        # inc-2 is resolved upstream: one listing page per stream plus the open records, one by one.
        sim.data.opsgenie_incidents[1] = incident(
            "inc-2", "resolved", T(2026, 11, 8, 10), T(2026, 11, 15, 9), impact_end=T(2026, 11, 15, 8)
        )
        sim.reset_log()
        assert sync(wh, cfg, env_for(sim))["opsgenie"].written == 1
        assert sorted(p for _, p, _, _ in sim.requests("opsgenie")) == [
            "/opsgenie/v1/incidents",
            "/opsgenie/v1/incidents/inc-2",
            "/opsgenie/v1/incidents/inc-4",
            "/opsgenie/v2/alerts",
            "/opsgenie/v2/alerts/al-2",
        ]
    build(wh, cfg)
    assert rows(
        wh, "select resolved_at from core.incidents where incident_id = 'opsgenie:incident:inc-2'"
    ) == [{"resolved_at": T(2026, 11, 15, 8)}]
