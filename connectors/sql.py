"""A database a user can reach with a SQLAlchemy URL (PostgreSQL, MySQL, SQL Server, SQLite ...).

Service-management data often lives in a database replica rather than behind an API. sources.yaml
gives one query per entity (``incidents``, ``deployments``, ``tickets``, ``reviews``) that returns the
entity's canonical columns (:data:`ENTITIES`), ``updated_at`` among them. Each sync reads, per entity,

    select * from (<the query>) as q where q.updated_at >= :since order by q.updated_at, q.<key>

with ``since`` bound as a parameter (never formatted into the SQL): the entity's watermark (the latest
``updated_at`` stored) minus ``lookback_hours``, or the history start on the first sync. Rows stream in
chunks of ``chunk_rows``; each chunk is written with the watermark that covers it in one transaction,
so a connection dropped mid-read loses nothing (the next sync starts at the last chunk written) and
duplicates nothing (raw rows are upserted by key, and an unchanged row is not rewritten). The
comparison is ``>=`` because rows sharing the watermark's time may straddle two chunks.

The URL in sources.yaml carries no password; the password comes from the variable ``password_env``
names and is redacted from every message. Naive times are taken as UTC; PostgreSQL sessions run in UTC.
"""

from __future__ import annotations

import datetime as dt
import decimal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from connectors.base import StreamResult, SyncFailed, parse_ts
from connectors.files import ENTITIES as FILE_ENTITIES
from connectors.http import Secret, SourceError, redact
from platform_kpi.raw import Batch, RawStore
from platform_kpi.sources_config import SourcesConfig

SOURCE = "sql"
DEFAULT_CHUNK_ROWS = 5000
Progress = Callable[[str], None]


@dataclass(frozen=True)
class SqlEntity:
    """The canonical columns a configured query must return for one entity."""

    name: str
    key: str
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


def _like_files(name: str) -> SqlEntity:
    # incidents and deployments take the file import's canonical columns, plus the watermark column
    spec = FILE_ENTITIES[name]
    return SqlEntity(name, spec.key, (*spec.required, "updated_at"), spec.optional)


#: What each entity's query returns. Tickets are platform support requests; reviews are architecture
#: (design) reviews. ``team`` is the requesting team, ``service`` the service concerned (either may be
#: empty; a ticket with a known service takes its team).
ENTITIES: dict[str, SqlEntity] = {
    e.name: e
    for e in (
        _like_files("incidents"),
        _like_files("deployments"),
        SqlEntity(
            "tickets",
            "ticket_id",
            ("ticket_id", "created_at", "status", "updated_at"),
            ("resolved_at", "team", "service", "priority", "kind", "url"),
        ),
        SqlEntity(
            "reviews",
            "review_id",
            ("review_id", "requested_at", "updated_at"),
            ("completed_at", "team", "service", "outcome", "title", "url"),
        ),
    )
}


@dataclass
class QueryStats:
    requests: int = 0  #: queries run (the API clients' "requests", for the same reports)


class SqlClient:
    """The configured database: a SQLAlchemy engine whose URL's password never leaves this object."""

    def __init__(self, url: str, password: Secret | None, secrets: list[Secret], chunk_rows: int) -> None:
        parsed = sa.make_url(url)
        if password is not None:
            parsed = parsed.set(password=password.reveal())
        connect_args: dict[str, Any] = {}
        if parsed.get_backend_name() == "postgresql":
            connect_args["options"] = "-c TimeZone=UTC"
        self._secrets = [s for s in (password, *secrets) if s is not None]
        self.display_url = sa.make_url(url).render_as_string(hide_password=True)
        self.engine = sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
        self.chunk_rows = chunk_rows
        self.stats = QueryStats()

    def __repr__(self) -> str:
        return f"SqlClient({self.display_url!r})"

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def close(self) -> None:
        self.engine.dispose()


def make_client(config: SourcesConfig, env: Mapping[str, str] | None = None) -> SqlClient:
    sc = config.sources[SOURCE]
    password = sc.token(env) if sc.options.get("password_env") else None
    return SqlClient(
        sc.base_url,
        password,
        config.secrets(env),
        int(sc.options.get("chunk_rows") or DEFAULT_CHUNK_ROWS),
    )


def _value(value: Any) -> Any:
    """A database value as JSON: times as ISO-8601 UTC (naive ones taken as UTC)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return value


@dataclass
class SqlConnector:
    """Reads each configured entity's query incrementally into ``raw.sql__<entity>``."""

    config: SourcesConfig
    client: SqlClient
    now: dt.datetime | None = None
    source: str = field(default=SOURCE, init=False)

    def __post_init__(self) -> None:
        self.source_config = self.config.sources[SOURCE]
        self.now = self.now or dt.datetime.now(dt.UTC).replace(tzinfo=None)

    @property
    def queries(self) -> dict[str, str]:
        return {
            name: spec["query"] for name, spec in (self.source_config.options.get("entities") or {}).items()
        }

    def since(self, store: RawStore, entity: str) -> dt.datetime:
        start = self.config.history_start(self.now)
        watermark = parse_ts(store.cursor(SOURCE, entity))
        return start if watermark is None else max(start, watermark - self.config.lookback)

    def sync(self, store: RawStore, progress: Progress | None = None) -> list[StreamResult]:
        say = progress or (lambda _m: None)
        results = []
        for entity, query in self.queries.items():
            result = StreamResult(SOURCE, entity)
            started = time.perf_counter()
            try:
                self._read(store, entity, query, result, say)
            except Exception as exc:
                result.error = self.client.redact(str(exc).split("\n(Background on this error")[0])
                store.record_failure(SOURCE, entity, result.error)
                say(f"  {SOURCE} {entity}: FAILED after {result.written} rows written: {result.error}")
            else:
                say(f"  {SOURCE} {entity}: {result.fetched} rows read, {result.written} new or changed")
            result.seconds = round(time.perf_counter() - started, 3)
            results.append(result)
        failed = [r for r in results if r.error]
        if failed:
            raise SyncFailed(f"{SOURCE}: " + "; ".join(f"{r.stream}: {r.error}" for r in failed), results)
        return results

    def _read(self, store: RawStore, entity: str, query: str, result: StreamResult, say: Progress) -> None:
        spec = ENTITIES[entity]
        where = f"{self.source_config.file}: sql.entities.{entity}.query"
        sql = sa.text(
            f"select * from ({query.strip().rstrip(';')}) as q where q.updated_at >= :since "
            f"order by q.updated_at, q.{spec.key}"
        )
        cursor = store.cursor(SOURCE, entity)
        started = time.perf_counter()
        with self.client.engine.connect() as conn:
            rows = conn.execution_options(stream_results=True, yield_per=self.client.chunk_rows).execute(
                sql, {"since": self.since(store, entity)}
            )
            self.client.stats.requests += 1
            result.requests += 1
            columns = [str(c).lower() for c in rows.keys()]  # noqa: SIM118 (a Result, not a dict)
            missing = [c for c in spec.required if c not in columns]
            unknown = [c for c in columns if c not in spec.columns]
            if missing or unknown:
                rows.close()
                problems = [f"returns no column {c}" for c in missing] + [
                    f"returns column {c}, which is not a {entity} column" for c in unknown
                ]
                raise SourceError(
                    f"{where} {'; '.join(problems)}. A {entity} query returns {', '.join(spec.required)} "
                    f"and optionally {', '.join(spec.optional)} (rename with `as`)."
                )
            for chunk in rows.partitions(self.client.chunk_rows):
                batch = Batch(SOURCE)
                for row in chunk:
                    record = {c: _value(v) for c, v in zip(columns, row, strict=True)}
                    key = record.get(spec.key)
                    batch.add(entity, "" if key is None else str(key), entity, record)
                    cursor = _later(cursor, record.get("updated_at"))
                result.fetched += len(chunk)
                result.written += store.commit(batch, entity, cursor, requests=1)
                say(
                    f"  {SOURCE} {entity}: {result.fetched} rows read "
                    f"({time.perf_counter() - started:.1f}s), watermark {cursor}"
                )


def _later(cursor: str | None, value: Any) -> str | None:
    """The later of the watermark and a row's updated_at (a time that does not parse is ignored: the
    row is kept, and staging quarantines it)."""
    new = parse_ts(value)
    if new is None:
        return cursor
    old = parse_ts(cursor)
    return value if old is None or new > old else cursor


CONNECTOR = SqlConnector
