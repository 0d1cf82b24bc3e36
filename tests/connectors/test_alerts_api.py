"""PagerDuty alerts and log entries and Opsgenie alerts against the local API simulator (127.0.0.1):
classic offset pagination, incremental syncs, service mapping, acknowledged by a person vs an
integration, auto-resolved, faults (429 with Retry-After, 5xx, a malformed alert quarantined while the
rest load).

Payload shapes are the vendors' documented examples:
* PagerDuty alert: the ``GET /incidents/{id}/alerts`` example of PagerDuty/api-schema
  reference/REST/openapiv3.json (id, type alert, alert_key, status, service, body alert_body, incident
  reference, suppressed, severity, integration generic_email_inbound_integration_reference).
* PagerDuty log entry: the ``GET /log_entries`` example of the same file (id, type
  trigger_log_entry, agent, channel {type}, service, incident reference, teams, contexts,
  event_details), with agent.type user_reference / service_reference / integration_reference and
  channel.type auto / timeout / api / web_trigger as documented.
* Opsgenie alert: the List Alerts example of docs.opsgenie.com (alert-api#list-alerts) and
  opsgenie-sdk 2.1.5 api/alert/base_alert.py + alert_report.py (report.ackTime/closeTime in ms,
  acknowledgedBy/closedBy user names, which are e-mail addresses).
"""

from __future__ import annotations

import datetime as dt

from platform_kpi.simulator.server import Fault, SimData, Simulator
from tests.connectors import fixtures_api as fx
from tests.connectors.api_helpers import FAST_HTTP, build, env_for, rows, sync, write_sources

T = dt.datetime
PD = "https://api.pagerduty.com"
PD_HTML = "https://subdomain.pagerduty.com"
PAGERDUTY = {"services": ["PAPI", "PWEB"], "limit": 2}


def z(t: dt.datetime) -> str:
    return t.isoformat() + "Z"


def pd_alert(
    alert_id, incident_id, service_id, created, status, severity="critical", integration="Email Integration"
):
    return {
        "id": alert_id,
        "type": "alert",
        "summary": "The server is on fire.",
        "self": f"{PD}/incidents/{incident_id}/alerts/{alert_id}",
        "html_url": f"{PD_HTML}/alerts/{alert_id}",
        "created_at": z(created),
        "status": status,
        "alert_key": f"baf7cf21b1da41b4b0221008339ff357-{alert_id}",
        "service": {
            "id": service_id,
            "type": "service_reference",
            "summary": "My Mail Service",
            "self": f"{PD}/services/{service_id}",
            "html_url": f"{PD_HTML}/service-directory/{service_id}",
        },
        "body": {
            "type": "alert_body",
            "contexts": [{"type": "link"}],
            "details": {"customKey": "Server is on fire!", "customKey2": "Other stuff!"},
        },
        "incident": {"id": incident_id, "type": "incident_reference"},
        "suppressed": False,
        "severity": severity,
        "integration": {
            "id": "PQ12345",
            "type": "generic_email_inbound_integration_reference",
            "summary": integration,
            "self": f"{PD}/services/{service_id}/integrations/PQ12345",
            "html_url": f"{PD_HTML}/services/{service_id}/integrations/PQ12345",
        },
    }


def pd_log_entry(entry_id, kind, incident_id, service_id, at, agent_type, channel_type):
    agent = {
        "user_reference": ("PXPGF42", "Earline Greenholt", "users"),
        "service_reference": (service_id, "My Mail Service", "services"),
        "integration_reference": ("PQ12345", "Email Integration", "integrations"),
    }[agent_type]
    return {
        "id": entry_id,
        "type": f"{kind}_log_entry",
        "summary": f"{kind.capitalize()}d",
        "self": f"{PD}/log_entries/{entry_id}?incident_id={incident_id}",
        "html_url": f"{PD_HTML}/incidents/{incident_id}/log_entries/{entry_id}",
        "created_at": z(at),
        "agent": {
            "id": agent[0],
            "type": agent_type,
            "summary": agent[1],
            "self": f"{PD}/{agent[2]}/{agent[0]}",
            "html_url": f"{PD_HTML}/{agent[2]}/{agent[0]}",
        },
        "channel": {"type": channel_type},
        "service": {"id": service_id, "type": "service_reference", "summary": "My Mail Service"},
        "incident": {
            "id": incident_id,
            "type": "incident_reference",
            "summary": "The server is on fire.",
            "self": f"{PD}/incidents/{incident_id}",
            "html_url": f"{PD_HTML}/incidents/{incident_id}",
        },
        "teams": [
            {
                "id": "PQ9K7I8",
                "type": "team_reference",
                "summary": "Engineering",
                "self": f"{PD}/teams/PQ9K7I8",
                "html_url": f"{PD_HTML}/teams/PQ9K7I8",
            }
        ],
        "contexts": [],
        "event_details": {"description": "Tasks::SFDCValidation - PD_Data__c: Missing PD_Data__c record"},
    }


def pd_data() -> SimData:
    """Four incidents with alerts, by hand:
    Q1 (PAPI): alerts A1, A2; a person acknowledges, a person resolves -> both actionable.
    Q2 (PAPI): alert A3; resolved by the service itself (service_reference, channel auto), never
       acknowledged -> noise (auto-resolved).
    Q3 (PWEB): alerts A4, A5; acknowledged only by the integration, then resolved on timeout -> noise.
    Q4 (PWEB): alert A6, still triggered, nobody acknowledged yet -> part of an open incident.
    A7 on Q4 has no created_at: quarantined, the rest load."""
    d = SimData()
    d.pagerduty_incidents = [
        fx.incident("Q1", "PAPI", T(2026, 11, 2, 10), "resolved", T(2026, 11, 2, 11), priority="P1"),
        fx.incident("Q2", "PAPI", T(2026, 11, 3, 3), "resolved", T(2026, 11, 3, 3, 5)),
        fx.incident("Q3", "PWEB", T(2026, 11, 4, 3), "resolved", T(2026, 11, 4, 4)),
        fx.incident("Q4", "PWEB", T(2026, 11, 14, 9), "triggered"),
    ]
    bad = pd_alert("A7", "Q4", "PWEB", T(2026, 11, 14, 9, 2), "triggered")
    del bad["created_at"]
    d.pagerduty_alerts = {
        "Q1": [
            pd_alert("A1", "Q1", "PAPI", T(2026, 11, 2, 10), "resolved"),
            pd_alert("A2", "Q1", "PAPI", T(2026, 11, 2, 10, 1), "resolved", severity="error"),
        ],
        "Q2": [
            pd_alert(
                "A3", "Q2", "PAPI", T(2026, 11, 3, 3), "resolved", severity="warning", integration="Datadog"
            )
        ],
        "Q3": [
            pd_alert("A4", "Q3", "PWEB", T(2026, 11, 4, 3), "resolved", integration="Datadog"),
            pd_alert(
                "A5", "Q3", "PWEB", T(2026, 11, 4, 3, 1), "resolved", severity="info", integration="Datadog"
            ),
        ],
        "Q4": [pd_alert("A6", "Q4", "PWEB", T(2026, 11, 14, 9), "triggered"), bad],
    }
    d.pagerduty_log_entries = [
        pd_log_entry("L1", "trigger", "Q1", "PAPI", T(2026, 11, 2, 10), "service_reference", "api"),
        pd_log_entry(
            "L2", "acknowledge", "Q1", "PAPI", T(2026, 11, 2, 10, 5), "user_reference", "web_trigger"
        ),
        pd_log_entry("L3", "resolve", "Q1", "PAPI", T(2026, 11, 2, 11), "user_reference", "web_trigger"),
        pd_log_entry("L4", "trigger", "Q2", "PAPI", T(2026, 11, 3, 3), "service_reference", "api"),
        pd_log_entry("L5", "resolve", "Q2", "PAPI", T(2026, 11, 3, 3, 5), "service_reference", "auto"),
        pd_log_entry("L6", "acknowledge", "Q3", "PWEB", T(2026, 11, 4, 3, 2), "integration_reference", "api"),
        pd_log_entry("L7", "escalate", "Q3", "PWEB", T(2026, 11, 4, 3, 30), "service_reference", "timeout"),
        pd_log_entry("L8", "resolve", "Q3", "PWEB", T(2026, 11, 4, 4), "service_reference", "timeout"),
        pd_log_entry("L9", "trigger", "Q4", "PWEB", T(2026, 11, 14, 9), "service_reference", "api"),
        # a notification: not part of the story, not kept
        {**pd_log_entry("L10", "notify", "Q4", "PWEB", T(2026, 11, 14, 9, 1), "service_reference", "api")},
    ]
    return d


EXPECTED_PD = {
    # alert: (service, acknowledged_by_person, auto_resolved, incident, actionable, severity, source)
    "pagerduty:alert:A1": (
        "api",
        True,
        False,
        "pagerduty:incident:Q1",
        True,
        "critical",
        "Email Integration",
    ),
    "pagerduty:alert:A2": ("api", True, False, "pagerduty:incident:Q1", True, "high", "Email Integration"),
    "pagerduty:alert:A3": ("api", False, True, "pagerduty:incident:Q2", False, "medium", "Datadog"),
    "pagerduty:alert:A4": ("web", False, True, "pagerduty:incident:Q3", False, "critical", "Datadog"),
    "pagerduty:alert:A5": ("web", False, True, "pagerduty:incident:Q3", False, "info", "Datadog"),
    "pagerduty:alert:A6": (
        "web",
        False,
        False,
        "pagerduty:incident:Q4",
        True,
        "critical",
        "Email Integration",
    ),
}


def _alerts(wh, source):
    return {
        r["alert_id"]: (
            r["service"],
            r["acknowledged_by_person"],
            r["auto_resolved"],
            r["incident_id"],
            r["is_actionable"],
            r["severity"],
            r["alert_source"],
        )
        for r in rows(wh, "select * from core.alerts where source = ?", [source])
    }


def test_pagerduty_alerts_and_log_entries_paged_mapped_and_incremental(tmp_path):
    with Simulator(pd_data()) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"pagerduty": PAGERDUTY}, fx.SERVICES)
        wh = tmp_path / "wh.duckdb"
        result = sync(wh, cfg, env_for(sim))["pagerduty"]
        assert result.error is None
        # Q1 holds 2 alerts at limit 2: one page whose more is false; Q4's 2 alerts likewise
        q1 = [q for _, p, q, _ in sim.requests("pagerduty", r"/incidents/Q1/alerts$")]
        assert [(q["offset"], q["limit"]) for q in q1] == [(["0"], ["2"])]
        # 10 log entries in the window at limit 2: offsets 0, 2, 4, 6, 8
        pages = [q for _, _, q, _ in sim.requests("pagerduty", r"/log_entries$")]
        assert sorted(
            int(q["offset"][0]) for q in pages if q["since"][0] <= "2026-11-02" < q["until"][0]
        ) == [
            0,
            2,
            4,
            6,
            8,
        ]
        assert rows(wh, "select count(*) as n from raw.pagerduty__log_entries") == [
            {"n": 9}
        ]  # notify dropped
        build(wh, cfg)
        assert _alerts(wh, "pagerduty") == EXPECTED_PD
        escalated = rows(wh, "select alert_id from core.alerts where escalated order by 1")
        assert [r["alert_id"] for r in escalated] == ["pagerduty:alert:A4", "pagerduty:alert:A5"]  # Q3's L7
        acknowledged = rows(
            wh,
            "select alert_id, acknowledged_at, resolved_at from core.alerts where source = 'pagerduty' order by 1",
        )
        assert [(r["acknowledged_at"], r["resolved_at"]) for r in acknowledged] == [
            (T(2026, 11, 2, 10, 5), T(2026, 11, 2, 11)),  # A1: Q1's acknowledgement and resolution
            (T(2026, 11, 2, 10, 5), T(2026, 11, 2, 11)),  # A2
            (None, T(2026, 11, 3, 3, 5)),  # A3: never acknowledged
            (T(2026, 11, 4, 3, 2), T(2026, 11, 4, 4)),  # A4: by the integration
            (T(2026, 11, 4, 3, 2), T(2026, 11, 4, 4)),  # A5
            (None, None),  # A6: open
        ]
        quarantined = rows(
            wh, "select source, entity, record_key, reason from ops.quarantine where entity = 'alerts'"
        )
        assert quarantined == [
            {"source": "pagerduty", "entity": "alerts", "record_key": "A7", "reason": "created_at is missing"}
        ]

        # A second sync brings nothing new: Q4 is re-read (still open), its alerts unchanged.
        sim.reset_log()
        again = sync(wh, cfg, env_for(sim))["pagerduty"]
        assert again.error is None and again.written == 0
        assert sorted({p for _, p, _, _ in sim.requests("pagerduty", r"/alerts$")}) == [
            "/pagerduty/incidents/Q4/alerts"
        ]

        # Q4 is acknowledged by a person later: the new log entry and nothing else arrives.
        sim.data.pagerduty_log_entries.append(
            pd_log_entry(
                "L11", "acknowledge", "Q4", "PWEB", T(2026, 11, 15, 9), "user_reference", "web_trigger"
            )
        )
        third = sync(wh, cfg, env_for(sim), now=T(2026, 11, 15, 12, 0, 1))["pagerduty"]
        assert third.written == 1
    build(wh, cfg)
    got = _alerts(wh, "pagerduty")
    assert got["pagerduty:alert:A6"][1] is True
    assert {k: v for k, v in got.items() if k != "pagerduty:alert:A6"} == {
        k: v for k, v in EXPECTED_PD.items() if k != "pagerduty:alert:A6"
    }


def og_alert(i, created, status, *, ack_ms=None, ack_by=None, close_ms=None, closed_by=None, **extra):
    report = {"ackTime": ack_ms, "closeTime": close_ms, "acknowledgedBy": ack_by, "closedBy": closed_by}
    return {
        "id": f"70413a06-38d6-4c85-92b8-5ebc900d42e{i}",
        "tinyId": str(1790 + i),
        "alias": f"event_57{i}",
        "message": "Our servers are in danger",
        "status": status,
        "acknowledged": ack_ms is not None,
        "isSeen": True,
        "tags": extra.get("tags", ["OverwriteQuietHours", "Critical"]),
        "snoozed": False,
        "count": extra.get("count", 79),
        "lastOccurredAt": z(created),
        "createdAt": z(created),
        "updatedAt": z(created),
        "source": extra.get("source", "Isengard"),
        "owner": "morpheus@opsgenie.com",
        "priority": extra.get("priority", "P5"),
        "responders": extra.get(
            "responders",
            [
                {"type": "team", "id": "8418d193-2dab-4490-b331-8c02cdd196b7"},
                {"type": "user", "id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c"},
            ],
        ),
        "integration": extra.get(
            "integration",
            {"id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c", "name": "Nebuchadnezzar", "type": "API"},
        ),
        "report": {k: v for k, v in report.items() if v is not None},
    }


OG_SERVICES = [
    {"service": "api", "team": "payments", "opsgenie_services": ["OG-API", "Nebuchadnezzar"]},
    {"service": "web", "team": "payments", "opsgenie_services": ["OG-WEB"]},
]


def og_data() -> SimData:
    """By hand: o1 acknowledged by a user (an e-mail user name) -> actionable, service api through its
    integration's name; o2 closed by the integration, never acknowledged -> noise (auto-resolved),
    service web through a tag; o3 acknowledged by "System" (no user), closed by a user -> not a person's
    acknowledgement, not auto-resolved, no incident -> noise; o4 a responder names OG-WEB, open, unseen
    -> noise; o5 an unknown priority -> quarantined."""
    d = SimData()
    d.opsgenie_alerts = [
        og_alert(
            1,
            T(2026, 11, 2, 10),
            "closed",
            ack_ms=15702,
            ack_by="agent_smith@opsgenie.com",
            close_ms=60503,
            closed_by="neo@opsgenie.com",
            priority="P1",
        ),  # fmt: skip
        og_alert(
            2,
            T(2026, 11, 3, 10),
            "closed",
            close_ms=30000,
            closed_by="Prometheus",
            tags=["OG-WEB"],
            integration={"id": "x", "name": "Prometheus", "type": "Prometheus"},
            source="prometheus",
            priority="P3",
            count=12,
        ),  # fmt: skip
        og_alert(
            3,
            T(2026, 11, 4, 10),
            "closed",
            ack_ms=1000,
            ack_by="System",
            close_ms=7_200_000,
            closed_by="trinity@opsgenie.com",
            priority="P2",
        ),  # fmt: skip
        og_alert(
            4,
            T(2026, 11, 5, 10),
            "open",
            tags=[],
            responders=[{"type": "team", "id": "t", "name": "OG-WEB"}],
            integration={"id": "y", "name": "Heartbeat", "type": "API"},
            source="heartbeat",
        ),  # fmt: skip
        og_alert(6, T(2026, 11, 6, 10), "open", priority="P9"),
    ]
    return d


def test_opsgenie_alerts_mapped_acknowledged_and_auto_resolved(tmp_path):
    with Simulator(og_data()) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"opsgenie": {"limit": 2}}, OG_SERVICES)
        wh = tmp_path / "wh.duckdb"
        assert sync(wh, cfg, env_for(sim))["opsgenie"].error is None
        offsets = [q.get("offset") for _, _, q, _ in sim.requests("opsgenie", r"/v2/alerts$")]
        assert offsets == [["0"], ["2"], ["4"]]  # 5 alerts, 2 a page, followed through paging.next
        build(wh, cfg)
        key = "opsgenie:alert:70413a06-38d6-4c85-92b8-5ebc900d42e"
        assert _alerts(wh, "opsgenie") == {
            f"{key}1": ("api", True, False, None, True, "critical", "Isengard"),
            f"{key}2": ("web", False, True, None, False, "medium", "prometheus"),
            f"{key}3": ("api", False, False, None, False, "high", "Isengard"),
            f"{key}4": ("web", False, False, None, False, "info", "heartbeat"),
        }
        times = rows(
            wh,
            "select acknowledged_at, resolved_at, occurrences from core.alerts where alert_id = ?",
            [f"{key}1"],
        )
        assert times == [
            {
                "acknowledged_at": T(2026, 11, 2, 10, 0, 15, 702000),
                "resolved_at": T(2026, 11, 2, 10, 1, 0, 503000),
                "occurrences": 79,
            }
        ]
        assert rows(wh, "select record_key, reason from ops.quarantine where entity = 'alerts'") == [
            {"record_key": "70413a06-38d6-4c85-92b8-5ebc900d42e6", "reason": "unknown alert priority P9"}
        ]
        sim.reset_log()
        again = sync(wh, cfg, env_for(sim))["opsgenie"]
        assert again.error is None and again.written == 0  # the second sync brings nothing new


def _raw(wh):
    return {
        t: rows(wh, f"select key, payload_sha from raw.{t} order by key")
        for t in ("pagerduty__incidents", "pagerduty__alerts", "pagerduty__log_entries")
    }


def test_pagerduty_alert_syncs_survive_a_429_with_retry_after_and_5xx_bursts(tmp_path):
    stored = {}
    for label, faults in (
        ("clean", []),
        (
            "faulty",
            [
                Fault(r"/incidents/Q1/alerts$", "429", times=1, retry_after=1),
                Fault(r"/incidents/Q3/alerts$", "502", times=2),
                Fault(r"/log_entries$", "503", times=2, skip=1),
                Fault(r"/log_entries$", "429", times=1, skip=4, retry_after=1),
            ],
        ),
    ):
        with Simulator(pd_data()) as sim:
            for f in faults:
                sim.add_fault(f)
            cfg = write_sources(
                tmp_path / f"{label}.yaml", sim, {"pagerduty": PAGERDUTY}, fx.SERVICES, http=FAST_HTTP
            )
            wh = tmp_path / f"{label}.duckdb"
            assert sync(wh, cfg, env_for(sim))["pagerduty"].error is None
            assert all(f.fired == f.times for f in sim.faults)
        stored[label] = _raw(wh)
    assert stored["faulty"] == stored["clean"]
    assert len(stored["clean"]["pagerduty__alerts"]) == 7


def test_opsgenie_alert_listing_survives_a_429_with_retry_after_a_5xx_burst_and_a_truncated_page(tmp_path):
    stored = {}
    for label, faults in (
        ("clean", []),
        (
            "faulty",
            [
                Fault(r"/v2/alerts$", "429", times=1, retry_after=1),
                Fault(r"/v2/alerts$", "503", times=2, skip=1),
                Fault(r"/v2/alerts$", "truncate", times=1, skip=2),
            ],
        ),
    ):
        with Simulator(og_data()) as sim:
            for f in faults:
                sim.add_fault(f)
            cfg = write_sources(
                tmp_path / f"{label}.yaml", sim, {"opsgenie": {"limit": 2}}, OG_SERVICES, http=FAST_HTTP
            )
            wh = tmp_path / f"{label}.duckdb"
            assert sync(wh, cfg, env_for(sim))["opsgenie"].error is None
            assert all(f.fired == f.times for f in sim.faults)
        stored[label] = rows(wh, "select key, payload_sha from raw.opsgenie__alerts order by key")
    assert stored["faulty"] == stored["clean"] and len(stored["clean"]) == 5


def test_a_log_entry_window_over_the_offset_cap_is_split(tmp_path):
    data = SimData()
    start = T(2026, 11, 10)
    data.pagerduty_log_entries = [
        pd_log_entry(
            f"L{i}",
            "trigger",
            f"Q{i}",
            "PAPI",
            start + dt.timedelta(seconds=5 * i),
            "service_reference",
            "api",
        )
        for i in range(1, 10_051)
    ]
    with Simulator(data) as sim:
        cfg = write_sources(
            tmp_path / "s.yaml", sim, {"pagerduty": {"services": ["PAPI"], "limit": 100}}, fx.SERVICES
        )
        wh = tmp_path / "wh.duckdb"
        assert sync(wh, cfg, env_for(sim))["pagerduty"].error is None
        pages = sim.requests("pagerduty", r"/log_entries$")
        assert all(status == 200 for *_, status in pages)
        assert max(int(q["offset"][0]) + int(q["limit"][0]) for _, _, q, _ in pages) <= 10_000
    assert rows(wh, "select count(*) as n, count(distinct key) as k from raw.pagerduty__log_entries") == [
        {"n": 10_050, "k": 10_050}
    ]
