"""Tokens never leak: not into logs, exceptions, reprs, the DuckDB file or the monthly report."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
import pickle
import subprocess
import sys

import pytest

from connectors.github import make_client
from connectors.http import AuthError, Secret
from platform_kpi.simulator.server import Fault, Simulator
from platform_kpi.sources_config import load_sources_config
from platform_kpi.sync import sync_source
from platform_kpi.warehouse import read_connection, write_connection
from tests.connectors import fixtures_api as fx
from tests.connectors.api_helpers import (
    NOW,
    TOKEN_ENVS,
    ForeignHost,
    build,
    env_for,
    rows,
    sync,
    write_sources,
)
from tests.repo import REPO_ROOT

GITHUB_TOKEN = "ghp_S3CRETgithubTOKENvalue0123456789"
PAGERDUTY_TOKEN = "pdS3CRETpagerdutyTOKEN987"
WRONG_TOKEN = "ghp_WRONGtokenVALUE55555"
SECRETS = (GITHUB_TOKEN, PAGERDUTY_TOKEN, WRONG_TOKEN)


def _assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a token leaked into {where}"


def test_tokens_never_appear_in_logs_errors_duckdb_or_reports(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # httpx, httpcore and our own loggers at their most verbose
    errors: list[str] = []
    with Simulator(fx.org_data(), tokens={"github": GITHUB_TOKEN, "pagerduty": PAGERDUTY_TOKEN}) as sim:
        cfg = write_sources(
            tmp_path / "s.yaml",
            sim,
            {"github": fx.GITHUB, "pagerduty": fx.PAGERDUTY},
            fx.SERVICES,
            http={
                "timeout": 0.5,
                "backoff_base": 0.01,
                "backoff_cap": 0.02,
                "give_up_after": 0.5,
                "max_attempts": 3,
            },
        )
        env = env_for(sim)
        wh = tmp_path / "wh.duckdb"
        # retries and rate limits on the way, then a source that gives up
        sim.add_fault(Fault(r"/deployments$", "500", times=2))
        sim.add_fault(Fault(r"/acme/mono/pulls$", "503", times=1000))
        results = sync(wh, cfg, env)
        errors.append(results["github"].error or "")
        assert "giving up" in errors[-1]
        sim.faults.clear()
        sync(wh, cfg, env)
        # a wrong token
        with pytest.raises(AuthError) as refused:
            sync(wh, cfg, {**env, TOKEN_ENVS["github"]: WRONG_TOKEN})
        errors += [str(refused.value), repr(refused.value)]
        # objects that hold the token
        config = load_sources_config(cfg)
        client = make_client(config, env)
        errors += [
            repr(client),
            repr(config),
            str(config.sources["github"]),
            repr(config.sources["github"].token(env)),
        ]
        client.close()
        with pytest.raises(TypeError):
            pickle.dumps(Secret(GITHUB_TOKEN))
    _assert_clean("\n".join(errors), "exceptions or reprs")
    _assert_clean(caplog.text, "logs")
    assert "retrying" in caplog.text  # the logs did record the retries

    build(wh, cfg)
    dump = []
    for r in rows(wh, "select table_schema as s, table_name as t from information_schema.tables"):
        for row in rows(wh, f'select * from "{r["s"]}"."{r["t"]}"'):
            dump.append(repr(row))
    assert len(dump) > 50
    _assert_clean("\n".join(dump), "DuckDB tables")
    _assert_clean(wh.read_bytes().decode("latin-1"), "the DuckDB file")

    from platform_kpi.reporting.report import write_report

    paths = write_report(wh, dt.date(2026, 11, 1), tmp_path / "reports")
    for path in paths.values():
        if path.is_file():
            _assert_clean(path.read_bytes().decode("latin-1"), f"report {path.name}")


# -- credentials go only to the configured origin -----------------------------------------------------


def _one_source(source: str):
    """(simulated data, sources.yaml settings, services, the first listing the source reads)."""
    from tests.connectors import test_gitlab, test_jenkins, test_opsgenie

    return {
        "github": (fx.org_data(), fx.GITHUB, fx.SERVICES, r"/repos/acme/api/deployments$"),
        "gitlab": (
            test_gitlab.data(),
            test_gitlab.GITLAB,
            test_gitlab.SERVICES,
            r"/gitlab/api/v4/projects/[^/]+/deployments$",
        ),
        "jenkins": (
            test_jenkins.data(),
            test_jenkins.JENKINS,
            test_jenkins.SERVICES,
            r"/jenkins/job/payments/api/json$",
        ),
        "pagerduty": (fx.org_data(), fx.PAGERDUTY, fx.SERVICES, r"/pagerduty/incidents$"),
        "opsgenie": (
            test_opsgenie.data(),
            test_opsgenie.OPSGENIE,
            test_opsgenie.SERVICES,
            r"/opsgenie/v1/incidents$",
        ),
    }[source]


def _credentials(sim: Simulator, source: str) -> list[str]:
    """Every form the source's credential takes on the wire."""
    token = sim.tokens[source]
    return [token, base64.b64encode(f"kpi-bot:{token}".encode()).decode()]


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("github", "redirect"),
        ("github", "foreign-next"),
        ("gitlab", "redirect"),
        ("jenkins", "redirect"),
        ("pagerduty", "redirect"),
        ("opsgenie", "redirect"),
        ("opsgenie", "foreign-next"),
    ],
)
def test_credentials_never_leave_the_configured_origin(source, kind, tmp_path):
    """A redirect or an absolute next-page link to another origin (here another port of 127.0.0.1) is an
    error naming the source; the other host receives no credential header at all."""
    data, settings, services, listing = _one_source(source)
    with ForeignHost() as foreign, Simulator(data) as sim:
        fault = sim.add_fault(Fault(listing, kind, target=foreign.origin))
        cfg = write_sources(tmp_path / "s.yaml", sim, {source: settings}, services)
        result = sync(tmp_path / "wh.duckdb", cfg, env_for(sim))[source]
        credentials = _credentials(sim, source)
    assert fault.fired == 1
    for path, headers in foreign.received:
        sent = {k.lower() for k in headers}
        assert not sent & {"authorization", "private-token", "proxy-authorization"}, (path, sorted(sent))
        assert not any(c in v for c in credentials for v in headers.values()), path
    assert result.error is not None and result.error.startswith(f"{source}:"), result.error
    assert foreign.origin in result.error and "configured origin" in result.error, result.error


# -- a token echoed by the server is redacted everywhere -------------------------------------------------

ECHO_TOKENS = {
    "github": "ghp_EchoedGithubToken000111222333",
    "gitlab": "glpat-EchoedGitlabToken444555",
    "jenkins": "11echoedjenkinsapitoken666777",
    "pagerduty": "u+EchoedPagerDutyKey888999",
    "opsgenie": "0e1c0ed0-0pse-4e1e-8ey0-0000echoed00",
}


def _echo_setup(tmp_path, sim: Simulator, status: int) -> tuple:
    """Every source configured; each source's first listing answers ``status`` echoing its credential."""
    sources, services = {}, []
    for source in ECHO_TOKENS:
        _, settings, svc, listing = _one_source(source)
        sources[source] = settings
        services += [s for s in svc if s["service"] not in {x["service"] for x in services}]
        sim.add_fault(Fault(listing, "echo-credentials", status=status))
    return write_sources(tmp_path / f"echo-{status}.yaml", sim, sources, services), services


def _echo_data():
    from tests.connectors import test_gitlab, test_jenkins, test_opsgenie

    data = fx.org_data()
    data.gitlab = test_gitlab.data().gitlab
    data.jenkins = test_jenkins.data().jenkins
    data.opsgenie_incidents = test_opsgenie.data().opsgenie_incidents
    return data


def _every_text_value(wh) -> list[str]:
    """Every varchar and JSON value of every table (and view) of a DuckDB file."""
    out = []
    with read_connection(wh) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type in ('VARCHAR', 'JSON') or data_type like '%[]' or data_type like 'STRUCT%' "
            "or data_type like 'MAP%'"
        ).fetchall()
        for schema, table, column in columns:
            out += [
                v
                for (v,) in con.execute(
                    f'select cast("{column}" as varchar) from "{schema}"."{table}"'
                ).fetchall()
                if v is not None
            ]
    return out


def _assert_no_echo(text: str, where: str, sim: Simulator) -> None:
    for source in ECHO_TOKENS:
        for credential in _credentials(sim, source):
            assert credential not in text, f"the {source} credential leaked into {where}"


def test_a_token_echoed_in_an_error_body_is_redacted_in_state_errors_and_logs(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with Simulator(_echo_data(), tokens=ECHO_TOKENS) as sim:
        cfg, _ = _echo_setup(tmp_path, sim, 422)
        wh = tmp_path / "wh.duckdb"
        results = {s: r for s, r in sync(wh, cfg, env_for(sim)).items() if r.configured}
        assert set(results) == set(ECHO_TOKENS)
        for source, result in results.items():
            if source == "sql":  # a database, not an HTTP API: tests/connectors/test_sql_source.py
                continue
            if (
                not result.configured
            ):  # hcp_terraform: not in the simulator (tests/security/test_hcp_terraform_api.py)
                continue
            assert result.error and "Invalid credentials" in result.error, (source, result.error)
            texts += [result.error, *(s.error or "" for s in result.streams)]
        # a 401 echoing the token: the AuthError, its repr and the stored state are clean too
        sim.faults.clear()
        config = load_sources_config(cfg)
        for source in ECHO_TOKENS:
            sim.add_fault(Fault(_one_source(source)[3], "echo-credentials", status=401))
            with write_connection(wh) as con, pytest.raises(AuthError) as refused:
                sync_source(con, config, source, env=env_for(sim), now=NOW)
            assert "Invalid credentials" in str(refused.value)
            texts += [str(refused.value), repr(refused.value), repr(refused.value.args)]
        assert sum(f.fired for f in sim.faults) == len(ECHO_TOKENS)
        _assert_no_echo("\n".join(texts), "errors", sim)
        _assert_no_echo(caplog.text, "logs", sim)
        stored = _every_text_value(wh)
        assert any("Invalid credentials" in v for v in stored)  # the errors were stored, redacted
        _assert_no_echo("\n".join(stored), "the warehouse", sim)


def test_kpi_sync_with_echoed_tokens_publishes_and_prints_no_token(tmp_path):
    """`kpi sync` as deployed: every source's server echoes its token in an error body; the published
    warehouse (every varchar column of every table), the CLI output and its logs hold no token."""
    with Simulator(_echo_data(), tokens=ECHO_TOKENS) as sim:
        cfg, _ = _echo_setup(tmp_path, sim, 422)
        wh = tmp_path / "warehouse.duckdb"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KPI_")}
        env |= env_for(sim) | {"KPI_HOME": str(tmp_path), "KPI_REPORTS_DIR": str(tmp_path / "reports")}
        done = subprocess.run(
            [sys.executable, "-m", "kpi_cli.main", "sync", "--sources", str(cfg), "--warehouse", str(wh)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert sum(f.fired for f in sim.faults) == len(ECHO_TOKENS)
        output = done.stdout + done.stderr
        assert done.returncode == 1, output  # sources failed, their previous data kept
        assert "Invalid credentials" in output and "Rebuilt and published" in output, output
        _assert_no_echo(output, "the CLI output", sim)
        stored = _every_text_value(wh)
        assert any("Invalid credentials" in v for v in stored)
        _assert_no_echo("\n".join(stored), "the published warehouse", sim)
        _assert_no_echo(wh.read_bytes().decode("latin-1"), "the published DuckDB file", sim)


def test_an_error_stored_before_redaction_is_redacted_on_the_next_sync(tmp_path):
    """A warehouse synced by an older version may hold an echoed token in ops.sync_state.last_error:
    the next sync of that source redacts it, whatever its streams do."""
    with Simulator(fx.org_data(), tokens={"github": GITHUB_TOKEN}) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"github": fx.GITHUB}, fx.SERVICES)
        wh = tmp_path / "wh.duckdb"
        with write_connection(wh) as con:
            from platform_kpi.raw import RawStore

            RawStore(con).record_failure("github", "pulls:acme/gone", f"HTTP 422: bad token {GITHUB_TOKEN}")
        sync(wh, cfg, env_for(sim))
    assert rows(wh, "select last_error from ops.sync_state where stream = 'pulls:acme/gone'") == [
        {"last_error": "HTTP 422: bad token ***"}
    ]
