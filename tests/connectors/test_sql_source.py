"""The SQL source against a real PostgreSQL server the tests start (tests/postgres.py): incremental
reads on the updated_at watermark, chunked writes that survive a dropped connection, clear errors for
a query returning the wrong columns, and a password that appears nowhere."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from connectors.sql import make_client
from platform_kpi.sources_config import load_sources_config
from platform_kpi.sync import sync_source
from tests.postgres import PASSWORD, start_postgres

NOW = dt.datetime(2026, 6, 1)
ENV = {"ITSM_DB_PASSWORD": PASSWORD}

TICKETS_QUERY = """
    select number as ticket_id, opened_at as created_at, resolved_at, state as status,
           assignment_group as team, sys_updated_on as updated_at
    from tickets
"""


@pytest.fixture(scope="module")
def pg():
    yield from start_postgres()


@pytest.fixture()
def db(pg):
    with pg.admin() as con:
        con.execute("drop table if exists tickets")
        con.execute(
            "create table tickets (number text primary key, opened_at timestamptz, resolved_at timestamptz, "
            "state text, assignment_group text, sys_updated_on timestamptz)"
        )
        rows = [
            (
                f"INC{i:04d}",
                dt.datetime(2026, 5, 1 + i, 9, tzinfo=dt.UTC),
                None,
                "New",
                "payments",
                dt.datetime(2026, 5, 1 + i, 9, tzinfo=dt.UTC),
            )
            for i in range(9)
        ]
        with con.cursor() as cur:
            cur.executemany("insert into tickets values (%s, %s, %s, %s, %s, %s)", rows)
    return pg


def sources_file(tmp_path: Path, pg, *, query: str = TICKETS_QUERY, chunk_rows: int = 5000) -> Path:
    path = tmp_path / "sources.yaml"
    indented = "\n".join("        " + line for line in query.strip().splitlines())
    path.write_text(
        f"""
lookback_hours: 0
sql:
  url: {pg.url()}
  password_env: ITSM_DB_PASSWORD
  chunk_rows: {chunk_rows}
  entities:
    tickets:
      query: |
{indented}
""",
        encoding="utf-8",
    )
    return path


def raw_tickets(con) -> dict[str, dict]:
    import json

    return {k: json.loads(p) for k, p in con.execute("select key, payload from raw.sql__tickets").fetchall()}


def test_reads_incrementally_and_rereads_a_row_updated_later_once(db, tmp_path):
    config = load_sources_config(sources_file(tmp_path, db))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))

    first = sync_source(con, config, "sql", env=ENV, now=NOW)
    assert first.error is None and first.written == 9
    stored = raw_tickets(con)
    assert sorted(stored) == [f"INC{i:04d}" for i in range(9)]
    assert stored["INC0002"] == {
        "ticket_id": "INC0002",
        "created_at": "2026-05-03T09:00:00Z",
        "resolved_at": None,
        "status": "New",
        "team": "payments",
        "updated_at": "2026-05-03T09:00:00Z",
    }
    watermark = con.execute("select cursor from ops.sync_state where source = 'sql' and stream = 'tickets'")
    assert watermark.fetchone()[0] == "2026-05-09T09:00:00Z"

    # Nothing changed: the second read brings nothing new (only the row at the watermark is read again).
    second = sync_source(con, config, "sql", env=ENV, now=NOW)
    assert second.written == 0
    assert second.streams[0].fetched == 1

    with db.admin() as pgcon:
        pgcon.execute(
            "update tickets set state = 'Resolved', resolved_at = '2026-05-20 10:00+00', "
            "sys_updated_on = '2026-05-20 10:00+00' where number = 'INC0001'"
        )
    third = sync_source(con, config, "sql", env=ENV, now=NOW)
    assert third.written == 1
    assert third.streams[0].fetched == 2  # the old watermark row and the updated one
    assert raw_tickets(con)["INC0001"]["status"] == "Resolved"
    assert con.execute("select count(*) from raw.sql__tickets").fetchone()[0] == 9

    fourth = sync_source(con, config, "sql", env=ENV, now=NOW)
    assert fourth.written == 0


def test_a_connection_dropped_mid_read_loses_and_duplicates_nothing(db, tmp_path):
    config = load_sources_config(sources_file(tmp_path, db, chunk_rows=2))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    messages: list[str] = []

    def drop_after_first_chunk(message: str) -> None:
        messages.append(message)
        if "2 rows read" in message:  # the first chunk is written: kill the reading session
            with db.admin() as pgcon:
                pgcon.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity "
                    "where datname = current_database() and pid <> pg_backend_pid()"
                )

    broken = sync_source(con, config, "sql", env=ENV, now=NOW, progress=drop_after_first_chunk)
    assert broken.error is not None and "tickets" in broken.error
    kept = raw_tickets(con)
    assert sorted(kept) == ["INC0000", "INC0001"]
    state = con.execute(
        "select cursor, last_error is not null from ops.sync_state where source = 'sql' and stream = 'tickets'"
    ).fetchone()
    assert state == ("2026-05-02T09:00:00Z", True)

    again = sync_source(con, config, "sql", env=ENV, now=NOW)
    assert again.error is None
    assert again.written == 7
    assert con.execute("select count(*), count(distinct key) from raw.sql__tickets").fetchone() == (9, 9)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        (TICKETS_QUERY.replace("resolved_at,", "resolved_at as resolvd_at,"), "returns column resolvd_at"),
        (TICKETS_QUERY.replace("state as status,", ""), "returns no column status"),
    ],
)
def test_a_query_returning_a_wrong_column_is_an_error_naming_source_entity_and_column(
    db, tmp_path, query, named
):
    config = load_sources_config(sources_file(tmp_path, db, query=query))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    result = sync_source(con, config, "sql", env=ENV, now=NOW)
    assert result.error is not None
    assert "sql.entities.tickets.query" in result.error and named in result.error
    assert con.execute("select count(*) from raw.sql__tickets").fetchone()[0] == 0


def test_the_password_appears_nowhere(db, tmp_path):
    path = sources_file(tmp_path, db)
    config = load_sources_config(path)
    assert PASSWORD not in path.read_text()
    client = make_client(config, ENV)
    assert PASSWORD not in repr(client) and PASSWORD not in repr(config)
    client.close()

    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    messages: list[str] = []
    assert sync_source(con, config, "sql", env=ENV, now=NOW, progress=messages.append).written == 9

    # a wrong password and a server that refuses: the error says so without the password
    wrong = sync_source(
        con, config, "sql", env={"ITSM_DB_PASSWORD": PASSWORD + "x"}, now=NOW, progress=messages.append
    )
    assert wrong.error is not None and "password authentication failed" in wrong.error
    with db.admin() as pgcon:
        pgcon.execute("alter table tickets rename to tickets_gone")
    try:
        missing = sync_source(con, config, "sql", env=ENV, now=NOW, progress=messages.append)
    finally:
        with db.admin() as pgcon:
            pgcon.execute("alter table tickets_gone rename to tickets")
    assert missing.error is not None and "tickets" in missing.error
    con.execute("checkpoint")
    con.close()
    for text in (*messages, wrong.error, missing.error):
        assert PASSWORD not in text and (PASSWORD + "x") not in text
    assert PASSWORD.encode() not in warehouse.read_bytes()


def test_a_password_in_the_url_is_refused_without_echoing_it(tmp_path):
    from platform_kpi.sources_config import SourcesConfigError

    path = tmp_path / "sources.yaml"
    path.write_text(
        f"sql:\n  url: postgresql+psycopg://kpi:{PASSWORD}@db.example.com/itsm\n"
        "  entities: {tickets: {query: select 1}}\n"
    )
    with pytest.raises(SourcesConfigError) as info:
        load_sources_config(path)
    assert "sql.url" in str(info.value) and "password_env" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_kpi_sync_reads_the_database_as_a_subprocess_and_never_prints_the_password(db, tmp_path):
    """The CLI a user runs: `kpi sync --no-run` with the password in the environment only."""
    import os
    import subprocess
    import sys
    from pathlib import Path as _Path

    kpi = _Path(sys.executable).with_name("kpi")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KPI_")} | ENV
    warehouse = tmp_path / "w.duckdb"
    out = subprocess.run(
        [
            str(kpi),
            "sync",
            "--sources",
            str(sources_file(tmp_path, db)),
            "--warehouse",
            str(warehouse),
            "--no-run",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "sql tickets: 9 rows read, 9 new or changed" in out.stdout
    assert PASSWORD not in out.stdout + out.stderr
    stored = list(tmp_path.glob("w*.duckdb"))  # --no-run keeps the fetched rows in the run's work file
    assert stored and all(PASSWORD.encode() not in f.read_bytes() for f in stored)
