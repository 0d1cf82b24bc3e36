"""Golden tests: platform support resolution time and architecture review cycle time, read from a real
PostgreSQL server (tests/postgres.py) through the SQL source and the whole pipeline. Every expected
number is worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.execute import run_pipeline
from platform_kpi.settings import DEFAULT_CONFIG
from tests.conftest import _KPI_TABLES, AS_OF, DEFAULT_SERVICES, kpi, query
from tests.postgres import PASSWORD, start_postgres

UTC = dt.UTC


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def pg():
    yield from start_postgres()


@pytest.fixture()
def itsm(pg, tmp_path, monkeypatch):
    """A service-desk replica: ServiceNow-like ticket rows (number, opened_at, resolved_at, state,
    assignment group) and an architecture review register, with the sources.yaml that reads them."""
    with pg.admin() as con:
        con.execute("drop table if exists sn_tickets; drop table if exists arch_reviews")
        con.execute(
            "create table sn_tickets (number text, opened_at timestamptz, resolved_at timestamptz, "
            "state text, requester_group text, cmdb_ci text, sys_updated_on timestamptz)"
        )
        con.execute(
            "create table arch_reviews (id int, requested timestamp, decided timestamp, team text, "
            "outcome text, modified timestamp)"
        )
        tickets = [
            # 4 h, payments
            ("T1", t("2026-03-02 09:00"), t("2026-03-02 13:00"), "Resolved", "payments", None),
            # 24 h; no group given: the team of its service (indexer -> search)
            ("T2", t("2026-03-03 10:00"), t("2026-03-04 10:00"), "Closed", None, "indexer"),
            # resolved after 24 h in March; reopened and resolved again later (see the test)
            ("T3", t("2026-03-10 08:00"), t("2026-03-11 08:00"), "Resolved", "payments", None),
            # cancelled: never counts
            ("T4", t("2026-03-05 09:00"), t("2026-03-05 12:00"), "Canceled", "payments", None),
            # opened on 31 March, resolved 3 h later on 1 April: an April observation
            ("T5", t("2026-03-31 22:00"), t("2026-04-01 01:00"), "Resolved", "search", None),
        ]
        with con.cursor() as cur:
            cur.executemany(
                "insert into sn_tickets values (%s, %s, %s, %s, %s, %s, coalesce(%s, %s))",
                [(*row, row[2], row[1]) for row in tickets],
            )
            cur.executemany(
                "insert into arch_reviews values (%s, %s, %s, %s, %s, %s)",
                [
                    # Fri 13 Mar 10:00 -> Tue 17 Mar 10:00, Mon 16 a holiday: Fri 14 h + Tue 10 h = 1.0 day
                    (1, "2026-03-13 10:00", "2026-03-17 10:00", "payments", "approved", "2026-03-17 10:00"),
                    # Mon 2 Mar 09:00 -> Wed 4 Mar 15:00: 2 days 6 h = 2.25 days
                    (2, "2026-03-02 09:00", "2026-03-04 15:00", "payments", "approved", "2026-03-04 15:00"),
                    # Sat 7 Mar 12:00 -> Mon 9 Mar 06:00: only Monday's 6 h = 0.25 days
                    (3, "2026-03-07 12:00", "2026-03-09 06:00", "search", "rejected", "2026-03-09 06:00"),
                    # still in review: not an observation
                    (4, "2026-03-20 09:00", None, "search", None, "2026-03-20 09:00"),
                ],
            )
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"""
history_days: 36500
lookback_hours: 0
sql:
  url: {pg.url()}
  password_env: ITSM_DB_PASSWORD
  entities:
    tickets:
      query: >-
        select number as ticket_id, opened_at as created_at, resolved_at, state as status,
               requester_group as team, cmdb_ci as service, sys_updated_on as updated_at
        from sn_tickets
    reviews:
      query: >-
        select id as review_id, requested as requested_at, decided as completed_at, team, outcome,
               modified as updated_at
        from arch_reviews
"""
    )
    files = tmp_path / "files"
    files.mkdir()
    (files / "services.csv").write_text(DEFAULT_SERVICES)
    config = tmp_path / "kpi.yaml"
    config.write_text(DEFAULT_CONFIG.read_text().replace("holidays: []", "holidays: [2026-03-16]"))
    monkeypatch.setenv("ITSM_DB_PASSWORD", PASSWORD)
    return pg, sources, files, config


def build(tmp_path, sources, files, config):
    warehouse = tmp_path / "w.duckdb"
    for table in ("kpi_monthly", "kpi_weekly"):
        _KPI_TABLES.pop((warehouse, table), None)
    run_pipeline(files, warehouse, config=config, sources=sources, checks=False, as_of=AS_OF)
    return warehouse


def test_support_resolution_time_counts_a_reopened_ticket_once_at_its_last_resolution(itsm, tmp_path):
    pg, sources, files, config = itsm
    wh = build(tmp_path, sources, files, config)
    # March: T1 4 h, T2 24 h, T3 24 h (T4 cancelled; T5 resolved in April) -> median 24
    march = kpi(wh, "support_resolution_time_p50_hours", "2026-03")
    assert (march["value"], march["sample_size"]) == (24.0, 3)
    assert (
        kpi(wh, "support_resolution_time_p50_hours", "2026-03", "team", "payments")["value"] == 14.0
    )  # 4, 24
    assert kpi(wh, "support_resolution_time_p50_hours", "2026-03", "team", "search")["value"] == 24.0  # T2
    assert kpi(wh, "support_resolution_time_p50_hours", "2026-03", "service", "indexer")["value"] == 24.0
    # April: T5 only (31 Mar 22:00 -> 1 Apr 01:00)
    assert kpi(wh, "support_resolution_time_p50_hours", "2026-04")["value"] == 3.0

    # T3 is reopened: while open it counts nowhere ...
    with pg.admin() as con:
        con.execute(
            "update sn_tickets set state = 'In Progress', resolved_at = null, "
            "sys_updated_on = '2026-04-01 09:00+00' where number = 'T3'"
        )
    wh = build(tmp_path, sources, files, config)
    march = kpi(wh, "support_resolution_time_p50_hours", "2026-03")
    assert (march["value"], march["sample_size"]) == (14.0, 2)  # 4, 24

    # ... and once resolved again on 2 April 08:00 it counts in April, from its creation: 23 days = 552 h
    with pg.admin() as con:
        con.execute(
            "update sn_tickets set state = 'Resolved', resolved_at = '2026-04-02 08:00+00', "
            "sys_updated_on = '2026-04-02 08:00+00' where number = 'T3'"
        )
    wh = build(tmp_path, sources, files, config)
    assert kpi(wh, "support_resolution_time_p50_hours", "2026-03")["sample_size"] == 2
    april = kpi(wh, "support_resolution_time_p50_hours", "2026-04")
    assert (april["value"], april["sample_size"]) == ((3 + 552) / 2, 2)
    assert kpi(wh, "support_resolution_time_p50_hours", "2026-04", "team", "payments")["value"] == 552.0
    rows = query(wh, "select count(*) as n from core.tickets where ticket_id = 'sql:ticket:T3'")
    assert rows == [{"n": 1}]


def test_review_cycle_time_counts_business_days_without_weekends_and_holidays(itsm, tmp_path):
    pg, sources, files, config = itsm
    wh = build(tmp_path, sources, files, config)
    days = {
        r["review_id"]: r["cycle_business_days"]
        for r in query(wh, "select review_id, cycle_business_days from core.reviews")
    }
    assert days == {"sql:review:1": 1.0, "sql:review:2": 2.25, "sql:review:3": 0.25, "sql:review:4": None}
    march = kpi(wh, "architecture_review_cycle_time_p50_days", "2026-03")
    assert (march["value"], march["sample_size"]) == (1.0, 3)  # median of 0.25, 1.0, 2.25; 3 completed
    assert kpi(wh, "architecture_review_cycle_time_p50_days", "2026-03", "team", "payments")["value"] == 1.625
    assert kpi(wh, "architecture_review_cycle_time_p50_days", "2026-03", "team", "search")["value"] == 0.25


def test_a_bad_row_is_quarantined_with_its_reason_and_the_rest_kept(itsm, tmp_path):
    pg, sources, files, config = itsm
    with pg.admin() as con:
        con.execute(
            "insert into sn_tickets values ('T9', '2026-03-09 10:00+00', '2026-03-08 10:00+00', 'Resolved', "
            "'payments', null, '2026-03-09 10:00+00')"
        )
    wh = build(tmp_path, sources, files, config)
    bad = query(wh, "select source, entity, record_key, reason from ops.quarantine where source = 'sql'")
    assert bad == [
        {
            "source": "sql",
            "entity": "tickets",
            "record_key": "T9",
            "reason": "resolved_at is before created_at",
        }
    ]
    assert kpi(wh, "support_resolution_time_p50_hours", "2026-03")["sample_size"] == 3


def test_deployments_and_incidents_from_a_database_join_the_delivery_kpis(pg, tmp_path, monkeypatch):
    with pg.admin() as con:
        con.execute("drop table if exists releases; drop table if exists outages")
        con.execute(
            "create table releases (id text, app text, env text, result text, started timestamptz, "
            "finished timestamptz, changed timestamptz)"
        )
        con.execute(
            "create table outages (id text, app text, opened timestamptz, closed timestamptz, changed timestamptz)"
        )
        with con.cursor() as cur:
            cur.executemany(
                "insert into releases values (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        "R1",
                        "api",
                        "PROD",
                        "succeeded",
                        t("2026-03-02 10:00"),
                        t("2026-03-02 10:10"),
                        t("2026-03-02 10:10"),
                    ),
                    (
                        "R2",
                        "api",
                        "PROD",
                        "succeeded",
                        t("2026-03-05 10:00"),
                        t("2026-03-05 10:20"),
                        t("2026-03-05 10:20"),
                    ),
                    (
                        "R3",
                        "web",
                        "PROD",
                        "exploded",
                        t("2026-03-06 10:00"),
                        t("2026-03-06 10:20"),
                        t("2026-03-06 10:20"),
                    ),
                ],
            )
            cur.execute(
                "insert into outages values ('O1', 'api', %s, %s, %s)",
                (t("2026-03-05 12:00"), t("2026-03-05 15:00"), t("2026-03-05 15:00")),
            )
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"""
history_days: 36500
sql:
  url: {pg.url()}
  password_env: ITSM_DB_PASSWORD
  environments: {{production: [PROD]}}
  entities:
    deployments:
      query: >-
        select id as deployment_id, app as service, env as environment, result as status,
               started as started_at, finished as finished_at, changed as updated_at from releases
    incidents:
      query: >-
        select id as incident_id, app as service, opened as created_at, closed as resolved_at,
               changed as updated_at from outages
"""
    )
    files = tmp_path / "files"
    files.mkdir()
    (files / "services.csv").write_text(DEFAULT_SERVICES)
    monkeypatch.setenv("ITSM_DB_PASSWORD", PASSWORD)
    wh = build(tmp_path, sources, files, DEFAULT_CONFIG)
    deployments = query(wh, "select deployment_id, environment, status from core.deployments order by 1")
    assert deployments == [
        {"deployment_id": "sql:deployment:R1", "environment": "production", "status": "SUCCESS"},
        {"deployment_id": "sql:deployment:R2", "environment": "production", "status": "SUCCESS"},
    ]
    assert kpi(wh, "deployment_frequency", "2026-03", "service", "api")["value"] == 2
    # 3 h to restore; the incident follows R2 within the link window, so R2 failed: 1 of 2
    assert kpi(wh, "mttr_hours", "2026-03")["value"] == 3.0
    assert kpi(wh, "change_failure_rate", "2026-03", "service", "api")["value"] == 0.5
    bad = query(wh, "select entity, record_key, reason from ops.quarantine where source = 'sql'")
    assert bad == [{"entity": "deployments", "record_key": "R3", "reason": "unknown status exploded"}]
