"""Golden tests: the enablement KPIs from a sessions register (sessions held, unique attendees, share
of teams reached in the quarter so far), with attendees counted without being named and bad rows
quarantined. Every expected number is worked out by hand in the comments."""

from __future__ import annotations

import pytest

from tests.conftest import build_warehouse, csv_text, kpi, query

HEADER = "session_id,held_at,topic,team,attendees"
ROWS = [
    # line 2: for payments; attendees ana, bo
    "e1,2026-01-20T10:00:00Z,Golden path onboarding,payments,ana@acme.io; bo@acme.io",
    # line 3: organisation-wide (no team); Ana again (ids compare trimmed and lower-cased), cy, dee
    "e2,2026-02-10T15:00:00Z,Platform office hours,, Ana@acme.io;cy@acme.io;dee@acme.io",
    # line 4: payments again; bo
    "e3,2026-02-25T10:00:00Z,Terraform modules,payments,bo@acme.io",
    # line 5: search; eve, fay
    "e4,2026-03-05T10:00:00Z,CI templates,search,eve@acme.io;fay@acme.io",
    # line 6: search, in Q2, nobody listed
    "e5,2026-04-02T10:00:00Z,Observability,search,",
    # line 7: a team that owns no service; line 8: e4 again
    "x1,2026-03-10T10:00:00Z,Secrets,marketing,gus@acme.io",
    "e4,2026-03-06T10:00:00Z,CI templates (repeat),search,hal@acme.io",
]


@pytest.fixture(scope="module")
def wh(module_tmp):
    return build_warehouse(module_tmp, {"enablement_sessions.csv": csv_text(HEADER, *ROWS)})


def test_sessions_held_count_per_team_and_organisation_wide_sessions_for_the_organisation(wh):
    # Jan e1; Feb e2 (organisation-wide) + e3; Mar e4 (its repeat is quarantined); Apr e5
    assert [
        kpi(wh, "enablement_sessions_held", m)["value"] for m in ("2026-01", "2026-02", "2026-03", "2026-04")
    ] == [
        1,
        2,
        1,
        1,
    ]
    assert kpi(wh, "enablement_sessions_held", "2026-02", "team", "payments")["value"] == 1  # e3 only
    assert kpi(wh, "enablement_sessions_held", "2026-03", "team", "search")["value"] == 1


def test_unique_attendees_are_distinct_people_per_month(wh):
    # Jan: ana, bo = 2; Feb: ana, cy, dee (e2) and bo (e3) = 4; Mar: eve, fay = 2 (hal's row is a
    # duplicate id); Apr: nobody listed = 0
    values = [
        kpi(wh, "enablement_unique_attendees", m)["value"]
        for m in ("2026-01", "2026-02", "2026-03", "2026-04")
    ]
    assert values == [2, 4, 2, 0]


def test_reach_is_the_share_of_teams_with_a_session_in_the_quarter_so_far(wh):
    # two teams (payments, search). Q1: Jan payments only = 1/2; Feb still 1/2 (the organisation-wide
    # e2 reaches no team in particular); Mar search too = 2/2. Q2 starts afresh: Apr search = 1/2,
    # May 1/2 (April's session is in Q2). Q3: nobody = 0.
    months = ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-07")
    assert [kpi(wh, "enablement_reach", m)["value"] for m in months] == [0.5, 0.5, 1.0, 0.5, 0.5, 0.0]
    assert kpi(wh, "enablement_reach", "2026-04", "team", "payments")["value"] == 0.0
    assert kpi(wh, "enablement_reach", "2026-04", "team", "search")["value"] == 1.0
    assert kpi(wh, "enablement_reach", "2026-03")["sample_size"] == 2


def test_bad_rows_are_quarantined_with_their_reason_and_attendees_are_never_named(wh):
    bad = query(
        wh,
        "select record_key, reason from ops.quarantine where entity = 'enablement_sessions' order by reason",
    )
    assert bad == [
        {"record_key": "e4", "reason": "duplicate session_id e4 (first at enablement_sessions.csv:5)"},
        {"record_key": "x1", "reason": "unknown team marketing (no service of the services file has it)"},
    ]
    sessions = query(wh, "select * from core.enablement_sessions order by held_at")
    assert [s["attendee_count"] for s in sessions] == [2, 3, 1, 2, 0]
    text = repr(sessions) + repr(query(wh, "select * from marts.enablement_observations"))
    assert "acme.io" not in text and "ana" not in text.lower().replace("enablement", "")
