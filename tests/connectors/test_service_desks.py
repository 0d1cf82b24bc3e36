"""Jira Cloud and ServiceNow as service-desk sources, against local servers speaking their documented
APIs (tests/connectors/service_desk_apis.py): pagination (nextPageToken; Link + sysparm_offset),
incremental reads, faults survived, bad records quarantined, and golden KPI values worked out by hand
in the comments — a ticket reopened, a review across a weekend and a holiday, a ServiceNow state change
across a month boundary whose display values (the API user's zone) would put it in the wrong month."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipelines.execute import run_pipeline
from platform_kpi.settings import DEFAULT_CONFIG
from platform_kpi.sources_config import load_sources_config
from platform_kpi.sync import sync_source
from tests.conftest import _KPI_TABLES, AS_OF, DEFAULT_SERVICES, kpi, query
from tests.connectors.service_desk_apis import (
    JIRA_TOKEN,
    JIRA_USER,
    SN_PASSWORD,
    SN_USER,
    JiraApi,
    ServiceNowApi,
    history,
    jira_issue,
    sn_record,
)

ENV = {
    "TEST_JIRA_USER": JIRA_USER,
    "TEST_JIRA_TOKEN": JIRA_TOKEN,
    "TEST_SN_USER": SN_USER,
    "TEST_SN_PASSWORD": SN_PASSWORD,
}
HTTP = "http: {backoff_base: 0.01, backoff_cap: 0.02, give_up_after: 20}\n"


def sources_yaml(
    tmp_path: Path, jira: JiraApi | None = None, sn: ServiceNowApi | None = None, **opts
) -> Path:
    text = "history_days: 36500\nlookback_hours: 24\n" + HTTP
    if jira is not None:
        text += f"""
jira:
  base_url: {jira.url}
  user_env: TEST_JIRA_USER
  token_env: TEST_JIRA_TOKEN
  team_field: customfield_10001
  max_results: {opts.get("max_results", 2)}
  entities:
    tickets: {{jql: "project = PSUP"}}
    reviews: {{jql: "project = ARCH"}}
"""
    if sn is not None:
        text += f"""
servicenow:
  base_url: {sn.url}
  user_env: TEST_SN_USER
  token_env: TEST_SN_PASSWORD
  team_field: u_requesting_team
  limit: {opts.get("limit", 2)}
  entities:
    tickets: {{table: sc_req_item, query: "assignment_group.name=Platform Support"}}
    incidents: {{table: incident}}
"""
    path = tmp_path / "sources.yaml"
    path.write_text(text)
    return path


def site(api: JiraApi) -> str:
    return api.url


def jira_fixture(api: JiraApi) -> None:
    s = site(api)
    # PSUP-1: 4 h, payments (the Team field), service api (its component)
    api.put(
        jira_issue(
            s,
            "PSUP-1",
            created="2026-03-02 09:00",
            updated="2026-03-02 13:00",
            status="done",
            resolution="Done",
            resolved="2026-03-02 13:00",
            components=("api",),
            team="payments",
            histories=[
                history(
                    1,
                    "2026-03-02 13:00",
                    ("resolution", None, None, "10000", "Done"),
                    ("status", "1", "Open", "10001", "Done"),
                )
            ],
        )
    )
    # PSUP-2: resolved 11 Mar 08:00 after 24 h, reopened 1 Apr 09:00, resolved again 2 Apr 08:00: counts
    # once, in April, from its creation on 10 Mar 08:00: 23 days = 552 h. Five histories: the search
    # embeds the last two, so the connector must read the whole changelog to see the first resolution.
    api.put(
        jira_issue(
            s,
            "PSUP-2",
            created="2026-03-10 08:00",
            updated="2026-04-02 08:00",
            status="done",
            resolution="Done",
            resolved="2026-04-02 08:00",
            components=("indexer",),
            team="search",
            histories=[
                history(10, "2026-03-10 09:00", ("status", "1", "Open", "3", "In Progress")),
                history(
                    11,
                    "2026-03-11 08:00",
                    ("resolution", None, None, "10000", "Done"),
                    ("status", "3", "In Progress", "10001", "Done"),
                ),
                history(
                    12,
                    "2026-04-01 09:00",
                    ("resolution", "10000", "Done", None, None),
                    ("status", "10001", "Done", "3", "In Progress"),
                ),
                history(13, "2026-04-01 10:00", ("assignee", None, None, "abc", "Mia Krystof")),
                history(
                    14,
                    "2026-04-02 08:00",
                    ("resolution", None, None, "10000", "Done"),
                    ("status", "3", "In Progress", "10001", "Done"),
                ),
            ],
        )
    )
    # PSUP-3: closed as Won't Do: CANCELED, never counts
    api.put(
        jira_issue(
            s,
            "PSUP-3",
            created="2026-03-05 09:00",
            updated="2026-03-05 12:00",
            status="done",
            resolution="Won't Do",
            resolved="2026-03-05 12:00",
            components=("api",),
            team="payments",
        )
    )
    # PSUP-4: a workflow without a resolution screen: done since 3 Mar 10:00 (statuscategorychangedate),
    # opened 3 Mar 08:00 -> 2 h, no team field: the team of its service (web -> payments)
    api.put(
        jira_issue(
            s,
            "PSUP-4",
            created="2026-03-03 08:00",
            updated="2026-03-03 10:00",
            status="done",
            category_changed="2026-03-03 10:00",
            components=("web",),
        )
    )
    # PSUP-5: still open
    api.put(
        jira_issue(
            s,
            "PSUP-5",
            created="2026-03-20 08:00",
            updated="2026-03-20 08:00",
            status="progress",
            components=("api",),
            team="payments",
        )
    )
    # ARCH-1: requested Fri 13 Mar 10:00, approved Tue 17 Mar 10:00; Sat, Sun and the holiday Mon 16 Mar
    # do not count: Fri 14 h + Tue 10 h = 24 h = 1.0 business day
    api.put(
        jira_issue(
            s,
            "ARCH-1",
            created="2026-03-13 10:00",
            updated="2026-03-17 10:00",
            status="done",
            resolution="Approved",
            resolved="2026-03-17 10:00",
            components=("api",),
            team="payments",
            issuetype="Architecture Review",
            summary="Event bus for payments",
        )
    )
    # ARCH-2: Mon 2 Mar 09:00 -> Wed 4 Mar 15:00: 2 days 6 h = 2.25 business days
    api.put(
        jira_issue(
            s,
            "ARCH-2",
            created="2026-03-02 09:00",
            updated="2026-03-04 15:00",
            status="done",
            resolution="Approved",
            resolved="2026-03-04 15:00",
            components=("indexer",),
            team="search",
            issuetype="Architecture Review",
            summary="Index sharding",
        )
    )


def sn_fixture(api: ServiceNowApi) -> None:
    # RITM1: 5 h, payments; RITM2: 31 Mar 22:00 -> 1 Apr 01:00 UTC: an April observation of 3 h, though
    # its display values (Los Angeles) both fall on 31 March
    api.put(
        "sc_req_item",
        sn_record(
            "sc_req_item",
            "RITM0010001",
            opened="2026-03-09 09:00",
            updated="2026-03-09 14:00",
            state="3",
            closed="2026-03-09 14:00",
            ci="api",
            team="payments",
        ),
    )
    api.put(
        "sc_req_item",
        sn_record(
            "sc_req_item",
            "RITM0010002",
            opened="2026-03-31 22:00",
            updated="2026-04-01 01:00",
            state="3",
            closed="2026-04-01 01:00",
            ci="indexer",
            team="search",
        ),
    )
    # closed incomplete: CANCELED
    api.put(
        "sc_req_item",
        sn_record(
            "sc_req_item",
            "RITM0010003",
            opened="2026-03-12 09:00",
            updated="2026-03-12 10:00",
            state="4",
            closed="2026-03-12 10:00",
            ci="api",
            team="payments",
        ),
    )
    # another group's request: not read (the configured query)
    api.put(
        "sc_req_item",
        sn_record(
            "sc_req_item",
            "RITM0010004",
            opened="2026-03-12 09:00",
            updated="2026-03-12 10:00",
            state="3",
            closed="2026-03-12 10:00",
            ci="api",
            team="payments",
            group="Facilities",
        ),
    )
    # INC1: opened 31 Mar 23:30 UTC, in progress when first read
    api.put(
        "incident",
        sn_record(
            "incident",
            "INC0010001",
            opened="2026-03-31 23:30",
            updated="2026-03-31 23:40",
            state="2",
            ci="api",
            priority="1",
        ),
    )
    # INC2: 2 h in March; INC3 canceled: not an incident
    api.put(
        "incident",
        sn_record(
            "incident",
            "INC0010002",
            opened="2026-03-05 10:00",
            updated="2026-03-05 12:00",
            state="6",
            resolved="2026-03-05 12:00",
            ci="web",
            priority="2",
        ),
    )
    api.put(
        "incident",
        sn_record(
            "incident",
            "INC0010003",
            opened="2026-03-06 10:00",
            updated="2026-03-06 10:05",
            state="8",
            ci="web",
        ),
    )


def build(tmp_path: Path, sources: Path, monkeypatch) -> Path:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    files = tmp_path / "files"
    files.mkdir(exist_ok=True)
    (files / "services.csv").write_text(DEFAULT_SERVICES)
    config = tmp_path / "kpi.yaml"
    config.write_text(DEFAULT_CONFIG.read_text().replace("holidays: []", "holidays: [2026-03-16]"))
    warehouse = tmp_path / "w.duckdb"
    for table in ("kpi_monthly", "kpi_weekly"):
        _KPI_TABLES.pop((warehouse, table), None)
    run_pipeline(files, warehouse, config=config, sources=sources, checks=False, as_of=AS_OF)
    return warehouse


def test_jira_tickets_and_reviews_golden(tmp_path, monkeypatch):
    with JiraApi() as jira:
        jira_fixture(jira)
        wh = build(tmp_path, sources_yaml(tmp_path, jira), monkeypatch)
    tickets = {
        r["ticket_id"]: r
        for r in query(
            wh,
            "select ticket_id, team, service, status, resolved_at, reopen_count, first_resolved_at, "
            "resolution_time_sec from core.tickets",
        )
    }
    assert set(tickets) == {f"jira:ticket:PSUP-{n}" for n in range(1, 6)}
    t2 = tickets["jira:ticket:PSUP-2"]
    assert (t2["status"], t2["reopen_count"], t2["resolution_time_sec"]) == ("RESOLVED", 1, 552 * 3600)
    assert t2["first_resolved_at"] == dt.datetime(2026, 3, 11, 8)  # only in the full changelog
    assert tickets["jira:ticket:PSUP-3"]["status"] == "CANCELED"
    t4 = tickets["jira:ticket:PSUP-4"]
    assert (t4["status"], t4["team"], t4["resolution_time_sec"]) == ("RESOLVED", "payments", 7200)
    assert tickets["jira:ticket:PSUP-5"]["status"] == "OPEN"
    # March: PSUP-1 4 h, PSUP-4 2 h -> median 3 h; April: PSUP-2 552 h
    march = kpi(wh, "support_resolution_time_p50_hours", "2026-03")
    assert (march["value"], march["sample_size"]) == (3.0, 2)
    assert kpi(wh, "support_resolution_time_p50_hours", "2026-04", "team", "search")["value"] == 552.0
    # reviews: 1.0 and 2.25 business days -> median 1.625
    days = {r["review_id"]: r["cycle_business_days"] for r in query(wh, "select * from core.reviews")}
    assert days == {"jira:review:ARCH-1": 1.0, "jira:review:ARCH-2": 2.25}
    assert kpi(wh, "architecture_review_cycle_time_p50_days", "2026-03")["value"] == 1.625
    assert kpi(wh, "architecture_review_cycle_time_p50_days", "2026-03", "team", "payments")["value"] == 1.0


def test_jira_sync_pages_by_token_reads_incrementally_and_survives_faults(tmp_path):
    with JiraApi() as jira:
        jira_fixture(jira)
        config = load_sources_config(sources_yaml(tmp_path, jira))
        jira.faults = [("/search/jql", "429"), ("/changelog", "500"), ("/search/jql", "truncate")]
        con = duckdb.connect(str(tmp_path / "sync.duckdb"))
        first = sync_source(con, config, "jira", env=ENV)
        assert first.error is None and jira.faults == []  # every fault was served and survived
        keys = {r[0] for r in con.execute("select key from raw.jira__tickets").fetchall()}
        assert keys == {f"PSUP-{n}" for n in range(1, 6)}
        searches = [p for p in jira.requests if p.startswith("/rest/api/3/search/jql")]
        # tickets: 5 issues at 2 a page = 3 pages (+1 retried 429, +1 retried truncated page); reviews: 1
        assert len(searches) == 3 + 2 + 1
        assert any("nextPageToken=" in p for p in searches)
        # only PSUP-2 has more histories than the search embeds: one changelog read (+1 retried 500)
        assert len([p for p in jira.requests if "/changelog" in p]) == 2
        stored = con.execute(
            "select json_array_length(payload -> 'changelog' -> 'histories') from raw.jira__tickets where key = 'PSUP-2'"
        ).fetchone()
        assert stored == (5,)

        # nothing new: one search page per entity, nothing written
        jira.requests.clear()
        second = sync_source(con, config, "jira", env=ENV)
        assert second.written == 0
        # the bound is written in the account's zone (Sydney, +11:00 in April): the latest update,
        # 2 Apr 08:00 UTC, minus the 24 h look-back is 1 Apr 08:00 UTC = 1 Apr 19:00 in Sydney
        bounded = [p for p in jira.requests if "search/jql" in p and "PSUP" in p]
        assert "2026-04-01+19%3A00" in bounded[0] or "2026-04-01%2019%3A00" in bounded[0]
        # a later update is read once
        jira.issues["PSUP-5"]["fields"]["updated"] = "2026-12-01T10:00:00.000+1100"
        third = sync_source(con, config, "jira", env=ENV)
        # PSUP-2 (inside the look-back) comes again, unchanged; PSUP-5 is the one record written
        assert [(s.fetched, s.written) for s in third.streams if s.stream == "tickets"] == [(2, 1)]
        con.close()


def test_jira_bad_issue_is_quarantined_and_the_rest_kept(tmp_path, monkeypatch):
    with JiraApi() as jira:
        jira_fixture(jira)
        bad = jira_issue(
            jira.url,
            "PSUP-9",
            created="2026-03-04 08:00",
            updated="2026-03-04 09:00",
            status="done",
            resolution="Done",
            resolved="2026-03-04 09:00",
            components=("api",),
        )
        bad["fields"]["created"] = "yesterday"
        jira.put(bad)
        wh = build(tmp_path, sources_yaml(tmp_path, jira), monkeypatch)
    rows = query(wh, "select source, entity, record_key, reason from ops.quarantine where source = 'jira'")
    assert rows == [
        {
            "source": "jira",
            "entity": "tickets",
            "record_key": "PSUP-9",
            "reason": "fields.created yesterday is not a time",
        }
    ]
    assert kpi(wh, "support_resolution_time_p50_hours", "2026-03")["sample_size"] == 2


def test_servicenow_golden_month_boundary_uses_stored_utc_values(tmp_path, monkeypatch):
    with ServiceNowApi() as sn:
        sn_fixture(sn)
        sources = sources_yaml(tmp_path, sn=sn)
        wh = build(tmp_path, sources, monkeypatch)
        tickets = {r["ticket_id"]: r for r in query(wh, "select * from core.tickets")}
        assert set(tickets) == {f"servicenow:ticket:RITM001000{n}" for n in (1, 2, 3)}  # not Facilities'
        assert tickets["servicenow:ticket:RITM0010003"]["status"] == "CANCELED"
        assert tickets["servicenow:ticket:RITM0010003"]["original_status"] == "Closed Incomplete"
        # March: RITM1 5 h; April: RITM2 3 h (1 Apr 01:00 UTC, 31 Mar 18:00 in Los Angeles)
        assert kpi(wh, "support_resolution_time_p50_hours", "2026-03")["value"] == 5.0
        april = kpi(wh, "support_resolution_time_p50_hours", "2026-04")
        assert (april["value"], april["sample_size"]) == (3.0, 1)
        assert kpi(wh, "support_resolution_time_p50_hours", "2026-04", "team", "search")["value"] == 3.0
        incidents = {r["incident_id"]: r for r in query(wh, "select * from core.incidents")}
        assert set(incidents) == {"servicenow:incident:INC0010001", "servicenow:incident:INC0010002"}
        assert incidents["servicenow:incident:INC0010001"]["resolved_at"] is None
        assert incidents["servicenow:incident:INC0010002"]["severity"] == "2 - High"
        assert kpi(wh, "mttr_hours", "2026-03")["value"] == 2.0

        # INC1 changes state 2 -> 6 on 1 April 00:45 UTC (31 March 17:45 in Los Angeles): read again
        # once, it is resolved after 1.25 h, in April
        sn.put(
            "incident",
            sn_record(
                "incident",
                "INC0010001",
                opened="2026-03-31 23:30",
                updated="2026-04-01 00:45",
                state="6",
                resolved="2026-04-01 00:45",
                ci="api",
                priority="1",
            ),
        )
        wh = build(tmp_path, sources, monkeypatch)
    inc1 = query(
        wh,
        "select resolved_at, time_to_restore_sec from core.incidents where incident_id = 'servicenow:incident:INC0010001'",
    )
    assert inc1 == [{"resolved_at": dt.datetime(2026, 4, 1, 0, 45), "time_to_restore_sec": 4500}]
    assert kpi(wh, "mttr_hours", "2026-04")["value"] == 1.25
    assert kpi(wh, "mttr_hours", "2026-03")["value"] == 2.0


def test_servicenow_sync_follows_link_pages_incrementally_and_survives_faults(tmp_path):
    with ServiceNowApi() as sn:
        sn_fixture(sn)
        config = load_sources_config(sources_yaml(tmp_path, sn=sn))
        sn.faults = [("/incident", "429"), ("/sc_req_item", "500"), ("/sc_req_item", "truncate")]
        con = duckdb.connect(str(tmp_path / "sync.duckdb"))
        first = sync_source(con, config, "servicenow", env=ENV)
        assert first.error is None and sn.faults == []
        assert {r[0] for r in con.execute("select key from raw.servicenow__tickets").fetchall()} == {
            "RITM0010001",
            "RITM0010002",
            "RITM0010003",
        }
        items = [p for p in sn.requests if "/sc_req_item" in p]
        # 3 requests of Platform Support at 2 a page: 2 pages (+1 retried 500, +1 retried truncated
        # page), the second by its Link
        assert len(items) == 4 and "sysparm_offset=2" in items[-1]
        assert all("sysparm_display_value=all" in p for p in items)
        state = dict(
            con.execute("select stream, cursor from ops.sync_state where source = 'servicenow'").fetchall()
        )
        assert state == {"tickets": "2026-04-01 01:00:00", "incidents": "2026-03-31 23:40:00"}

        sn.requests.clear()
        again = sync_source(con, config, "servicenow", env=ENV)
        assert again.written == 0 and again.requests == 2  # one page per entity
        con.close()


def test_servicenow_unknown_state_is_quarantined_naming_record_and_field(tmp_path, monkeypatch):
    with ServiceNowApi() as sn:
        sn_fixture(sn)
        odd = sn_record(
            "sc_req_item",
            "RITM0010009",
            opened="2026-03-10 09:00",
            updated="2026-03-10 10:00",
            state="3",
            closed="2026-03-10 10:00",
            ci="api",
            team="payments",
        )
        odd["state"] = {"display_value": "Awaiting Vendor", "value": "-9"}
        sn.put("sc_req_item", odd)
        wh = build(tmp_path, sources_yaml(tmp_path, sn=sn), monkeypatch)
    rows = query(wh, "select entity, record_key, reason from ops.quarantine where source = 'servicenow'")
    assert rows == [
        {
            "entity": "tickets",
            "record_key": "RITM0010009",
            "reason": "unknown sc_req_item state -9 (Awaiting Vendor)",
        }
    ]
    assert kpi(wh, "support_resolution_time_p50_hours", "2026-03")["sample_size"] == 1


@pytest.mark.parametrize("source", ["jira", "servicenow"])
def test_a_refused_login_names_the_variable_and_never_shows_the_secret(tmp_path, source):
    with JiraApi() as jira, ServiceNowApi() as sn:
        config = load_sources_config(sources_yaml(tmp_path, jira, sn))
        env = {**ENV, "TEST_JIRA_TOKEN": "wrong-" + JIRA_TOKEN, "TEST_SN_PASSWORD": "wrong-" + SN_PASSWORD}
        con = duckdb.connect(str(tmp_path / "sync.duckdb"))
        with pytest.raises(Exception) as err:
            sync_source(con, config, source, env=env)
        text = str(err.value)
        assert "401" in text or "refused" in text.lower()
        assert "TEST_JIRA_TOKEN" in text or "TEST_SN_PASSWORD" in text
        assert JIRA_TOKEN not in text and SN_PASSWORD not in text
        con.close()


def test_kpi_sync_reads_both_service_desks_as_a_subprocess_and_never_prints_a_secret(tmp_path):
    """The CLI a user runs: `kpi sync --no-run` with the credentials in the environment only."""
    import os
    import subprocess
    import sys

    kpi_bin = Path(sys.executable).with_name("kpi")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KPI_")} | ENV
    with JiraApi() as jira, ServiceNowApi() as sn:
        jira_fixture(jira)
        sn_fixture(sn)
        out = subprocess.run(
            [
                str(kpi_bin),
                "sync",
                "--sources",
                str(sources_yaml(tmp_path, jira, sn)),
                "--warehouse",
                str(tmp_path / "w.duckdb"),
                "--no-run",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert out.returncode == 0, out.stdout + out.stderr
    # 5 Jira tickets and 2 reviews; 3 ServiceNow requests of Platform Support and 3 incidents
    assert "jira tickets:" in out.stdout and "5 records fetched, 5 new or changed" in out.stdout
    assert "servicenow incidents:" in out.stdout and "3 records fetched, 3 new or changed" in out.stdout
    text = out.stdout + out.stderr
    assert JIRA_TOKEN not in text and SN_PASSWORD not in text
    stored = list(tmp_path.glob("w*.duckdb"))
    assert stored and all(
        JIRA_TOKEN.encode() not in f.read_bytes() and SN_PASSWORD.encode() not in f.read_bytes()
        for f in stored
    )
