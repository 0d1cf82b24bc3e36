"""Golden tests: alert noise (actionable ratio, alerts per on-call week) and the platform incident rate
and MTTR, from the alerts and incidents files. Every expected number is worked out by hand below."""

from __future__ import annotations

import pytest
import yaml

from platform_kpi.settings import DEFAULT_CONFIG
from tests.conftest import build_warehouse, csv_text, kpi, query

SERVICES = (
    "service,team\napi,payments\nweb,payments\nci-runners,platform\nregistry,platform\nindexer,search\n"
)
ALERT_HEADER = (
    "alert_id,service,created_at,acknowledged_at,acknowledged_by,resolved_at,resolved_by,"
    "incident_id,severity,occurrences,alert_source"
)
INCIDENT_HEADER = "incident_id,service,created_at,resolved_at,severity"

ALERTS = [
    # February: one payments alert, resolved by its monitor (noise). payments is on call from here.
    "p0,api,2026-02-10T03:00:00Z,,,2026-02-10T03:05:00Z,auto,,warning,1,prometheus",
    # March, payments (6 alerts):
    # a1 resolved automatically, nobody acknowledged it: noise
    "a1,api,2026-03-02T01:00:00Z,,,2026-03-02T01:04:00Z,auto,,critical,4,prometheus",
    # a2 acknowledged by a person: actionable
    "a2,api,2026-03-03T10:00:00Z,2026-03-03T10:02:00Z,person,2026-03-03T11:00:00Z,person,,P2,1,prometheus",
    # a3 acknowledged only by an integration, then resolved automatically: noise
    "a3,api,2026-03-04T10:00:00Z,2026-03-04T10:00:30Z,integration,2026-03-04T10:20:00Z,timeout,,warning,2,"
    "prometheus",
    # a4 part of incident inc-1, nobody acknowledged the alert, a person resolved it: actionable
    "a4,web,2026-03-05T10:00:00Z,,,2026-03-05T12:00:00Z,person,inc-1,error,1,synthetics",
    # a5 part of inc-1 too, but it resolved itself before anyone looked: noise
    "a5,web,2026-03-05T10:01:00Z,,,2026-03-05T10:03:00Z,auto,inc-1,error,1,synthetics",
    # a6 never acknowledged, still open, no incident: not actionable
    "a6,web,2026-03-06T10:00:00Z,,,,,,info,1,synthetics",
    # March, search (1 alert): acknowledged by a person. search is on call from March.
    "s1,indexer,2026-03-07T10:00:00Z,2026-03-07T10:10:00Z,person,2026-03-07T12:00:00Z,person,,P3,1,elastic",
    # April, search: resolved automatically (noise). payments has no alert in April: 0.
    "s2,indexer,2026-04-02T10:00:00Z,,,2026-04-02T10:01:00Z,integration,,P4,1,elastic",
    # quarantined: an unknown acknowledger, and a service nobody owns
    "q1,api,2026-03-08T10:00:00Z,2026-03-08T10:01:00Z,robot,,,,P3,1,prometheus",
    "q2,nowhere,2026-03-08T10:00:00Z,,,,,,P3,1,prometheus",
]

INCIDENTS = [
    # not a platform service (payments): in no platform KPI
    "inc-1,web,2026-03-05T10:00:00Z,2026-03-05T12:00:00Z,SEV1",
    # platform-owned (team platform): SEV1 weighs 10, 2 h to resolve
    "p1,ci-runners,2026-03-02T10:00:00Z,2026-03-02T12:00:00Z,SEV1",
    # sev3 (lower case) weighs 2, 6 h
    "p2,registry,2026-03-15T08:00:00Z,2026-03-15T14:00:00Z,sev3",
    # a severity the config does not list: default_weight 0.5; opened in March, resolved in April (6 h)
    "p3,ci-runners,2026-03-31T20:00:00Z,2026-04-01T02:00:00Z,Major",
    # indexer is search's, but listed in platform_incidents.services: SEV2 weighs 5, 1 h
    "p4,indexer,2026-03-25T09:00:00Z,2026-03-25T10:00:00Z,SEV2",
]


def _config() -> str:
    doc = yaml.safe_load(DEFAULT_CONFIG.read_text())
    doc["platform_incidents"] = {
        "owner_teams": ["platform"],
        "services": ["indexer"],
        "weights": {"SEV1": 10, "SEV2": 5, "sev3": 2},
        "default_weight": 0.5,
    }
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.fixture(scope="module")
def wh(module_tmp):
    return build_warehouse(
        module_tmp,
        {
            "services.csv": SERVICES,
            "alerts.csv": csv_text(ALERT_HEADER, *ALERTS),
            "incidents.csv": csv_text(INCIDENT_HEADER, *INCIDENTS),
        },
        _config(),
    )


def test_auto_resolved_vs_acknowledged_by_a_person_vs_an_integration_vs_an_incident(wh):
    got = {
        r["alert_id"]: (r["acknowledged_by_person"], r["auto_resolved"], r["incident_id"], r["is_actionable"])
        for r in query(wh, "select * from core.alerts where team = 'payments' and created_at >= '2026-03-01'")
    }
    assert got == {
        "files:alert:a1": (False, True, None, False),
        "files:alert:a2": (True, False, None, True),
        "files:alert:a3": (False, True, None, False),
        "files:alert:a4": (False, False, "files:incident:inc-1", True),
        "files:alert:a5": (False, True, "files:incident:inc-1", False),
        "files:alert:a6": (False, False, None, False),
    }


def test_actionable_ratio_per_team_service_and_organisation(wh):
    # payments: a2 and a4 of 6; search: s1 of 1; the organisation: 3 of 7
    row = kpi(wh, "alert_actionable_ratio", "2026-03", "team", "payments")
    assert (row["value"], row["sample_size"]) == (pytest.approx(2 / 6), 6)
    assert kpi(wh, "alert_actionable_ratio", "2026-03", "team", "search")["value"] == 1.0
    assert kpi(wh, "alert_actionable_ratio", "2026-03", "service", "api")["value"] == pytest.approx(1 / 3)
    assert kpi(wh, "alert_actionable_ratio", "2026-03", "service", "web")["value"] == pytest.approx(1 / 3)
    org = kpi(wh, "alert_actionable_ratio", "2026-03")
    assert (org["value"], org["sample_size"]) == (pytest.approx(3 / 7), 7)
    assert kpi(wh, "alert_actionable_ratio", "2026-04")["value"] == 0.0  # s2 was noise
    assert kpi(wh, "alert_actionable_ratio", "2026-03")["target"] == 0.70


def test_alerts_per_oncall_week(wh):
    # weeks = days in the month / 7: February 4, March 31/7, April 30/7
    assert kpi(wh, "alerts_per_oncall_week", "2026-02", "team", "payments")["value"] == pytest.approx(1 / 4)
    assert kpi(wh, "alerts_per_oncall_week", "2026-03", "team", "payments")["value"] == pytest.approx(
        6 / (31 / 7)
    )
    assert kpi(wh, "alerts_per_oncall_week", "2026-04", "team", "payments")["value"] == 0.0  # a quiet month
    assert kpi(wh, "alerts_per_oncall_week", "2026-03", "team", "search")["value"] == pytest.approx(
        1 / (31 / 7)
    )
    # search was not on call before its first alert
    assert kpi(wh, "alerts_per_oncall_week", "2026-02", "team", "search")["value"] is None
    # the organisation: all alerts / all on-call team-weeks
    org = kpi(wh, "alerts_per_oncall_week", "2026-03")
    assert (org["value"], org["sample_size"]) == (pytest.approx(7 / (2 * 31 / 7)), 2)
    assert kpi(wh, "alerts_per_oncall_week", "2026-02")["value"] == pytest.approx(1 / 4)
    assert kpi(wh, "alerts_per_oncall_week", "2026-04")["value"] == pytest.approx(1 / (2 * 30 / 7))


def test_platform_incident_rate_weighs_severity_on_owned_and_listed_services(wh):
    # p1 10 + p2 2 + p3 0.5 (unlisted severity) + p4 5 (listed service); inc-1 is not the platform's
    org = kpi(wh, "platform_incident_rate", "2026-03")
    assert (org["value"], org["sample_size"]) == (17.5, 4)
    assert kpi(wh, "platform_incident_rate", "2026-03", "team", "platform")["value"] == 12.5
    assert kpi(wh, "platform_incident_rate", "2026-03", "team", "search")["value"] == 5.0
    assert kpi(wh, "platform_incident_rate", "2026-03", "team", "payments")["value"] == 0.0
    assert kpi(wh, "platform_incident_rate", "2026-04")["value"] == 0.0


def test_platform_incident_mttr_is_the_mean_in_the_month_of_resolution(wh):
    # resolved in March: p1 2 h, p2 6 h, p4 1 h -> 3 h; p3 (6 h) counts in April
    march = kpi(wh, "platform_incident_mttr_hours", "2026-03")
    assert (march["value"], march["sample_size"]) == (3.0, 3)
    assert kpi(wh, "platform_incident_mttr_hours", "2026-04")["value"] == 6.0
    assert kpi(wh, "platform_incident_mttr_hours", "2026-03", "team", "platform")["value"] == 4.0


def test_severity_normalized_with_the_original_kept(wh):
    got = {
        r["alert_id"]: (r["severity"], r["original_severity"], r["occurrences"], r["alert_source"])
        for r in query(wh, "select * from core.alerts where alert_id in ('files:alert:a1', 'files:alert:a2')")
    }
    assert got == {
        "files:alert:a1": ("critical", "critical", 4, "prometheus"),
        "files:alert:a2": ("high", "P2", 1, "prometheus"),
    }


def test_bad_alerts_are_quarantined_naming_file_line_and_field(wh):
    got = {
        r["record_key"]: (r["file"], r["line"], r["reason"])
        for r in query(wh, "select * from ops.quarantine where entity = 'alerts'")
    }
    assert got == {
        "q1": ("alerts.csv", 11, "acknowledged_by robot is not person or integration"),
        "q2": ("alerts.csv", 12, "unknown service nowhere (not in the services file)"),
    }
