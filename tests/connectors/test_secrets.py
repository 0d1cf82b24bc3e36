"""Tokens never leak: not into logs, exceptions, reprs, the DuckDB file or the monthly report."""

from __future__ import annotations

import datetime as dt
import logging
import pickle

import pytest

from connectors.github import make_client
from connectors.http import AuthError, Secret
from platform_kpi.simulator.server import Fault, Simulator
from platform_kpi.sources_config import load_sources_config
from tests.connectors import fixtures_api as fx
from tests.connectors.api_helpers import TOKEN_ENVS, build, env_for, rows, sync, write_sources

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
            tmp_path / "s.yaml", sim, {"github": fx.GITHUB, "pagerduty": fx.PAGERDUTY}, fx.SERVICES,
            http={"timeout": 0.5, "backoff_base": 0.01, "backoff_cap": 0.02, "give_up_after": 0.5, "max_attempts": 3},
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
        errors += [repr(client), repr(config), str(config.sources["github"]), repr(config.sources["github"].token(env))]
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
