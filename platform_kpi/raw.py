"""The raw layer of API sources and their sync state, in DuckDB.

Every raw table ``raw.<source>__<entity>`` (declared in sql/raw/_sources.yml, see
platform_kpi.raw_tables) keeps each record as the API sent it (``payload`` JSON),
with its key, the scope it was read from (repository, project, job, ...) and when it was fetched, so
staging and domain tables can always be rebuilt without fetching again. Writes are upserts by key,
and only of records whose payload changed, so a re-run never duplicates and an unchanged re-run
writes nothing. ``ops.sync_state`` holds each stream's cursor; :meth:`RawStore.commit` writes a
batch of rows and the cursor that covers them in one transaction, so a crash leaves either both or
neither.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from platform_kpi.raw_tables import ensure_raw_tables, upsert_raw

#: Every raw table API connectors write, by source (created empty when a source is not configured).
RAW_TABLES: dict[str, tuple[str, ...]] = {
    "github": (
        "deployments",
        "deployment_statuses",
        "workflow_runs",
        "pulls",
        "pull_commits",
        "pull_files",
        "pull_reviews",
        "pull_events",
    ),
    "gitlab": (
        "deployments",
        "pipelines",
        "merge_requests",
        "merge_request_commits",
        "merge_request_approvals",
        "merge_request_notes",
    ),
    "jenkins": ("builds",),
    "pagerduty": ("incidents", "alerts", "log_entries"),
    "opsgenie": ("alerts", "incidents"),
    "sql": ("incidents", "deployments", "tickets", "reviews"),
    # platform adoption (catalog snapshots, repository scans, documentation edits)
    "backstage_catalog": ("entities", "snapshots"),
    "github_repo_scans": ("ci_files", "ci_scans", "docs_commits"),
    "gitlab_repo_scans": ("ci_files", "ci_scans", "docs_commits"),
    "confluence_pages": ("pages",),
    "hcp_terraform": ("assessment_results",),
    # service management over REST (Jira issues, ServiceNow records)
    "jira": ("tickets", "reviews"),
    "servicenow": ("tickets", "incidents"),
}

SYNC_STATE_DDL = """
create table if not exists ops.sync_state (
    source varchar,
    stream varchar,
    cursor varchar,
    last_attempt_at timestamp,
    last_success_at timestamp,
    last_error varchar,
    rows_written bigint,
    requests bigint,
    seconds double
)
"""


#: What sources.yaml says about names, for the staging models (see platform_kpi.sync.write_source_config).
SOURCE_CONFIG_DDL: dict[str, str] = {
    "source_services": "service varchar, team varchar, tier varchar, repo varchar",
    "source_service_map": "source varchar, scope varchar, path varchar, service varchar",
    "source_environments": "source varchar, original varchar, environment varchar",
    "source_deploy_jobs": "source varchar, job varchar, environment varchar",
    #: which field of a service desk's records names the team / the service (jira.team_field, ...)
    "source_fields": "source varchar, role varchar, field varchar",
    #: the repos/projects/jobs/services sources.yaml reads now: raw rows of other scopes (a repository
    #: removed from the file, a source no longer configured) stay in raw but leave the domain tables
    "source_scopes": "source varchar, scope varchar",
}


def ensure_tables(con: duckdb.DuckDBPyConnection, *, sync_state: bool = False) -> None:
    """Create every raw table and the ops.source_* tables if missing (empty when no source is configured).

    ops.sync_state is created only once a sync runs (``sync_state=True``): its absence tells the
    dashboard that no connector was ever configured for this warehouse.
    """
    for schema in ("raw", "ops"):
        con.execute(f"create schema if not exists {schema}")
    ensure_raw_tables(
        con, [f"{source}__{entity}" for source, entities in RAW_TABLES.items() for entity in entities]
    )
    if sync_state:
        con.execute(SYNC_STATE_DDL)
        # warehouses synced before streams were timed
        con.execute("alter table ops.sync_state add column if not exists seconds double")
    for table, columns in SOURCE_CONFIG_DDL.items():
        con.execute(f"create table if not exists ops.{table} ({columns})")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def payload_text(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Batch:
    """Records to upsert, per raw table: ``{entity: {key: (scope, payload)}}``."""

    source: str
    rows: dict[str, dict[str, tuple[str, Any]]] = field(default_factory=dict)

    def add(self, entity: str, key: str, scope: str, payload: Any) -> None:
        if entity not in RAW_TABLES[self.source]:
            raise ValueError(f"{self.source}: no raw table for {entity}")
        self.rows.setdefault(entity, {})[str(key)] = (scope, payload)

    def __len__(self) -> int:
        return sum(len(v) for v in self.rows.values())


@dataclass
class PreparedBatch:
    """A batch ready to upsert: per raw table, its rows (key, scope, payload text, payload hash)."""

    source: str
    frames: dict[str, pd.DataFrame]


class RawStore:
    """Reads and writes raw tables and sync state through one DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        ensure_tables(con, sync_state=True)

    # -- reading -----------------------------------------------------------------------------------

    def cursor(self, source: str, stream: str) -> str | None:
        row = self.con.execute(
            "select cursor from ops.sync_state where source = ? and stream = ?", [source, stream]
        ).fetchone()
        return row[0] if row else None

    def payloads(
        self, source: str, entity: str, keys: Iterable[str] | None = None, scope: str | None = None
    ) -> dict:
        """Stored payloads by key (optionally only ``keys`` / one ``scope``)."""
        sql = f"select key, payload from raw.{source}__{entity} where true"
        params: list = []
        if scope is not None:
            sql += " and scope = ?"
            params.append(scope)
        if keys is not None:
            keys = list(keys)
            if not keys:
                return {}
            sql += " and list_contains(?, key)"
            params.append(keys)
        return {k: json.loads(p) for k, p in self.con.execute(sql, params).fetchall()}

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    # -- writing -----------------------------------------------------------------------------------

    @staticmethod
    def prepare(batch: Batch) -> PreparedBatch:
        """The batch's records as the rows to upsert (payload text and its hash): the Python work of a
        commit, which needs no connection."""
        frames = {
            entity: pd.DataFrame(
                [
                    (key, scope, text, hashlib.sha256(text.encode()).hexdigest())
                    for key, (scope, payload) in records.items()
                    for text in (payload_text(payload),)
                ],
                columns=["key", "scope", "payload", "payload_sha"],
            )
            for entity, records in batch.rows.items()
        }
        return PreparedBatch(batch.source, frames)

    def commit(
        self,
        batch: Batch | PreparedBatch,
        stream: str,
        cursor: str | None,
        *,
        requests: int = 0,
        seconds: float | None = None,
    ) -> int:
        """Upsert the batch's changed records and set the stream's cursor, in one transaction.

        Returns how many records were written (new or changed); unchanged records are not rewritten.
        ``batch`` may come as :meth:`prepare` made it (streams read at once prepare their batches
        without the connection, then commit one at a time).
        """
        prepared = batch if isinstance(batch, PreparedBatch) else self.prepare(batch)
        now = _now()
        written = 0
        con = self.con
        con.execute("begin transaction")
        try:
            for entity, frame in prepared.frames.items():
                table = f"raw.{prepared.source}__{entity}"
                if frame.empty:
                    continue
                con.register("_incoming", frame)
                con.execute(
                    "create or replace temp table _changed as select i.*, ?::timestamp as fetched_at "
                    f"from _incoming as i left join {table} as t on t.key = i.key and t.payload_sha = i.payload_sha "
                    "where t.key is null",
                    [now],
                )
                con.unregister("_incoming")
                n = upsert_raw(con, table, con.table("_changed"))
                con.execute("drop table _changed")
                written += int(n)
            self._set_state(
                prepared.source,
                stream,
                cursor,
                now,
                success=True,
                rows=written,
                requests=requests,
                seconds=seconds,
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        return written

    def record_failure(self, source: str, stream: str, error: str) -> None:
        """Remember a failed attempt (the cursor and last success stay as they were)."""
        con = self.con
        con.execute("begin transaction")
        try:
            exists = con.execute(
                "select count(*) from ops.sync_state where source = ? and stream = ?", [source, stream]
            ).fetchone()[0]
            if exists:
                con.execute(
                    "update ops.sync_state set last_attempt_at = ?, last_error = ? where source = ? and stream = ?",
                    [_now(), error[:1000], source, stream],
                )
            else:
                con.execute(
                    "insert into ops.sync_state (source, stream, cursor, last_attempt_at, last_success_at, "
                    "last_error, rows_written, requests) values (?, ?, null, ?, null, ?, 0, 0)",
                    [source, stream, _now(), error[:1000]],
                )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise

    def redact_errors(self, source: str, redact: Callable[[str], str]) -> int:
        """Apply ``redact`` to the source's stored errors (ones written before secrets were redacted);
        returns how many changed."""
        changed = [
            (redact(error), source, stream)
            for stream, error in self.con.execute(
                "select stream, last_error from ops.sync_state where source = ? and last_error is not null",
                [source],
            ).fetchall()
            if redact(error) != error
        ]
        if changed:
            self.con.executemany(
                "update ops.sync_state set last_error = ? where source = ? and stream = ?", changed
            )
        return len(changed)

    def _set_state(
        self,
        source: str,
        stream: str,
        cursor: str | None,
        now: dt.datetime,
        *,
        success: bool,
        rows: int,
        requests: int,
        seconds: float | None = None,
    ) -> None:
        self.con.execute("delete from ops.sync_state where source = ? and stream = ?", [source, stream])
        self.con.execute(
            "insert into ops.sync_state (source, stream, cursor, last_attempt_at, last_success_at, last_error, "
            "rows_written, requests, seconds) values (?, ?, ?, ?, ?, null, ?, ?, ?)",
            [source, stream, cursor, now, now if success else None, rows, requests, seconds],
        )
