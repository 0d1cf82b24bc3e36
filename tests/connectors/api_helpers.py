"""Helpers for the API connector tests: a sources.yaml for a running simulator, a sync, and the warehouse
built from what was synced (the same functions the Dagster assets call, no Dagster)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from connectors.files import ENTITIES
from platform_kpi.loading import load_file_entity, write_config_tables, write_load_errors
from platform_kpi.models import discover_models, execute_model, needed_for
from platform_kpi.raw import ensure_tables
from platform_kpi.settings import DEFAULT_CONFIG
from platform_kpi.simulator.server import Simulator
from platform_kpi.sources_config import load_sources_config
from platform_kpi.sync import sync_all
from platform_kpi.warehouse import write_connection

NOW = dt.datetime(2026, 11, 15, 12, 0, 0)
TOKEN_ENVS = {
    "github": "TEST_GITHUB_TOKEN",
    "gitlab": "TEST_GITLAB_TOKEN",
    "jenkins": "TEST_JENKINS_TOKEN",
    "pagerduty": "TEST_PAGERDUTY_TOKEN",
    "opsgenie": "TEST_OPSGENIE_KEY",
}
# Short waits between retries, so that fault tests run fast. The request timeout is not short: tests
# count requests exactly, and with 0.5 s one answer on a loaded 2-core machine (the full suite) came
# late, was retried and counted twice (tests/connectors/test_sync_concurrency.py, 41 against 40). A
# test of timeouts sets its own (test_faults.py).
FAST_HTTP = {
    "timeout": 5.0,
    "backoff_base": 0.01,
    "backoff_cap": 0.05,
    "max_attempts": 6,
    "give_up_after": 20,
    "secondary_limit_wait": 0.2,
}


def z(t: dt.datetime) -> str:
    return t.replace(microsecond=0).isoformat() + "Z"


def ago(hours: float = 0, days: float = 0) -> str:
    return z(NOW - dt.timedelta(hours=hours, days=days))


def env_for(sim: Simulator) -> dict[str, str]:
    return {TOKEN_ENVS[s]: sim.tokens[s] for s in TOKEN_ENVS} | {"TEST_JENKINS_USER": "kpi-bot"}


def write_sources(
    path: Path, sim: Simulator, sources: dict[str, dict], services: list[dict], **top: Any
) -> Path:
    """sources.yaml pointing each named source at the simulator."""
    data: dict[str, Any] = {"history_days": 60, "lookback_hours": 0, "http": dict(FAST_HTTP)}
    data.update(top)
    for name, cfg in sources.items():
        data[name] = {"base_url": sim.url(name), "token_env": TOKEN_ENVS[name], **cfg}
    data["services"] = services
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def sync(warehouse: Path, sources_yaml: Path, env: dict[str, str], now: dt.datetime = NOW) -> dict:
    config = load_sources_config(sources_yaml)
    with write_connection(warehouse) as con:
        return sync_all(con, config, env=env, now=now)


# Only what these tests read: the domain tables, the quarantine, the monthly KPIs and what they need.
_TARGETS = {("ops", "quarantine"), ("marts", "kpi_monthly"), ("staging", "stg_opsgenie__alerts")}


_MODELS = needed_for(
    discover_models(), {*_TARGETS, *((m.layer, m.name) for m in discover_models() if m.layer == "core")}
)


def build(
    warehouse: Path,
    sources_yaml: Path | None = None,
    files_dir: Path | None = None,
    config: Path = DEFAULT_CONFIG,
) -> Path:
    """Rebuild config, staging, core and marts from the raw tables already in ``warehouse`` (and the
    canonical files in ``files_dir``, if given), with the KPI rules in ``config``."""
    with write_connection(warehouse) as con:
        write_load_errors(con, [load_file_entity(con, files_dir, e)["load_errors"] for e in ENTITIES])
        write_config_tables(con, config, as_of=dt.datetime(2030, 1, 1))
        ensure_tables(con)
        if sources_yaml is not None:
            from platform_kpi.sync import write_source_config

            write_source_config(con, load_sources_config(sources_yaml))
        available = {
            tuple(r)
            for r in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        }
        for model in _MODELS:
            if all(dep in available for dep in model.deps):
                execute_model(con, model)
                available.add(model.key)
    return warehouse


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    with write_connection(warehouse) as con:
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


class ForeignHost:
    """A second server on 127.0.0.1 (another port: another origin) standing for a host a source must never
    send credentials to. It records the headers of every request and answers ``{}`` with 200."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str]]] = []  # (path, headers)
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                host.received.append((self.path, dict(self.headers.items())))
                data = json.dumps({}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ForeignHost:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
