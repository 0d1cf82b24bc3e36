"""Syncing every configured API source into the raw layer (pure Python: the CLI, Dagster and tests use it).

``write_source_config`` stores what sources.yaml says about names (services and teams, where each
service lives, environment names, deployment jobs) in ``ops.source_*`` tables the staging models join;
it always runs, so the graph works with no source configured. ``sync_source`` reads one source.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from connectors.base import StreamResult, SyncFailed
from connectors.http import AuthError, SourceError
from platform_kpi.raw import SOURCE_CONFIG_DDL, RawStore, ensure_tables
from platform_kpi.sources_config import SOURCES, SourcesConfig

Progress = Callable[[str], None]

SOURCE_CONFIG_TABLES = tuple(SOURCE_CONFIG_DDL)


def _connector_module(source: str):
    return importlib.import_module(f"connectors.{source}")


@dataclass
class SourceSyncResult:
    source: str
    configured: bool
    seconds: float = 0.0
    requests: int = 0
    streams: list[StreamResult] = field(default_factory=list)
    error: str | None = None

    @property
    def written(self) -> int:
        return sum(s.written for s in self.streams)


def write_source_config(con: duckdb.DuckDBPyConnection, config: SourcesConfig) -> dict[str, int]:
    """Replace the ops.source_* tables with what ``config`` says (empty tables when nothing is configured)."""
    ensure_tables(con)
    services = pd.DataFrame(
        [(s.service, s.team, s.tier, s.repo) for s in config.services],
        columns=["service", "team", "tier", "repo"],
    )
    mapping = pd.DataFrame(config.mapping_rows(), columns=["source", "scope", "path", "service"])
    envs = pd.DataFrame(config.environment_rows(), columns=["source", "original", "environment"])
    jobs = []
    for name, sc in config.sources.items():
        for job, env in (sc.options.get("deployment_jobs") or {}).items():
            jobs.append((name, str(job), str(env)))
        for wf, env in (sc.options.get("deployment_workflows") or {}).items():
            jobs.append((name, str(wf), str(env)))
    deploy_jobs = pd.DataFrame(jobs, columns=["source", "job", "environment"])
    fields = pd.DataFrame(
        [
            (name, role, str(sc.options[f"{role}_field"]))
            for name, sc in config.sources.items()
            for role in ("team", "service")
            if sc.options.get(f"{role}_field")
        ],
        columns=["source", "role", "field"],
    )
    scopes = pd.DataFrame(
        # '*' marks a configured source (Opsgenie may read everything, without scopes)
        [(name, scope) for name, sc in config.sources.items() for scope in (*sc.scopes, "*")],
        columns=["source", "scope"],
    )
    frames = {
        "source_scopes": scopes,
        "source_services": services,
        "source_service_map": mapping,
        "source_environments": envs,
        "source_deploy_jobs": deploy_jobs,
        "source_fields": fields,
    }
    counts = {}
    for table, frame in frames.items():
        con.execute(f"create or replace table ops.{table} ({SOURCE_CONFIG_DDL[table]})")
        if len(frame):
            con.register("_frame", frame)
            con.execute(f"insert into ops.{table} select * from _frame")
            con.unregister("_frame")
        counts[table] = len(frame)
    return counts


def sync_source(
    con: duckdb.DuckDBPyConnection,
    config: SourcesConfig,
    source: str,
    *,
    env: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> SourceSyncResult:
    """Sync one source's streams into its raw tables. Configuration and token errors are raised;
    a source that fails while reading is reported in the result (and in ops.sync_state)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source}; expected one of {SOURCES}")
    if source not in config.sources:
        return SourceSyncResult(source, configured=False)
    store = RawStore(con)
    say = progress or (lambda _m: None)
    module = _connector_module(source)
    started = time.perf_counter()
    client = module.make_client(config, env)
    store.redact_errors(source, client.redact)  # errors stored before redaction existed
    result = SourceSyncResult(source, configured=True)
    try:
        connector = module.CONNECTOR(config, client, now=now)
        say(
            f"{source}: syncing {len(config.sources[source].scopes) or 'all'} scope(s) from {config.sources[source].base_url}"
        )
        try:
            result.streams = connector.sync(store, say)
        except SyncFailed as exc:
            result.streams, result.error = exc.results, str(exc)
        except AuthError:
            raise
        except SourceError as exc:
            result.error = client.redact(str(exc))
    finally:
        result.requests = client.stats.requests
        client.close()
    result.seconds = round(time.perf_counter() - started, 2)
    say(
        f"{source}: {'FAILED' if result.error else 'done'} in {result.seconds:.1f}s, {result.requests} requests, "
        f"{result.written} records new or changed"
    )
    return result


def sync_all(
    con: duckdb.DuckDBPyConnection,
    config: SourcesConfig,
    *,
    env: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> dict[str, SourceSyncResult]:
    """Write the source config tables, then sync every configured source in turn."""
    write_source_config(con, config)
    return {s: sync_source(con, config, s, env=env, progress=progress, now=now) for s in SOURCES}
