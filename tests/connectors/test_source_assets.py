"""The Dagster side of the API sources: one asset per source writing its raw tables, the sources.yaml
mapping tables, and a freshness check per source that fails (as a warning) when a sync failed."""

from __future__ import annotations

import dagster as dg

from assets.resources import WarehouseResource, configuration_resource
from assets.sources import SourcesResource, source_assets, source_checks
from pipelines.definitions import build_definitions
from platform_kpi.settings import DEFAULT_CONFIG
from platform_kpi.simulator.server import Fault, Simulator
from tests.connectors import fixtures_api as fx
from tests.connectors.api_helpers import env_for, rows, write_sources


def _run(tmp_path, cfg):
    return dg.materialize(
        [*source_assets, *source_checks],
        resources={
            "warehouse": WarehouseResource(warehouse=str(tmp_path / "wh.duckdb")),
            "sources": SourcesResource(config=str(cfg)),
            "configuration": configuration_resource(DEFAULT_CONFIG, cfg),
        },
        raise_on_error=False,
    )


def _checks(result):
    return {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_source_assets_sync_and_freshness_checks(tmp_path, monkeypatch):
    with Simulator(fx.org_data()) as sim:
        for name, value in env_for(sim).items():
            monkeypatch.setenv(name, value)
        cfg = write_sources(
            tmp_path / "s.yaml", sim, {"github": fx.GITHUB, "pagerduty": fx.PAGERDUTY}, fx.SERVICES
        )
        result = _run(tmp_path, cfg)
        assert result.success
        checks = _checks(result)
        assert checks["github_fresh"].passed and checks["pagerduty_fresh"].passed
        assert checks["gitlab_fresh"].passed  # not configured
        work = tmp_path / "wh.work.duckdb"
        assert rows(work, "select count(*) as n from raw.github__deployments") == [{"n": 8}]
        assert rows(work, "select count(*) as n from raw.gitlab__deployments") == [{"n": 0}]  # exists, empty
        assert rows(work, "select count(*) as n from ops.source_services") == [{"n": 3}]

        # GitHub now fails past the retry budget: the asset keeps the previous rows, the check warns.
        sim.add_fault(Fault(r"/github/", "503", times=100_000))
        cfg = write_sources(
            tmp_path / "s.yaml",
            sim,
            {"github": fx.GITHUB, "pagerduty": fx.PAGERDUTY},
            fx.SERVICES,
            http={
                "timeout": 0.5,
                "backoff_base": 0.01,
                "backoff_cap": 0.02,
                "give_up_after": 0.3,
                "max_attempts": 3,
            },
        )
        result = _run(tmp_path, cfg)
        assert result.success  # the rest of the pipeline may go on with the data already synced
        checks = _checks(result)
        assert (
            not checks["github_fresh"].passed
            and checks["github_fresh"].severity == dg.AssetCheckSeverity.WARN
        )
        assert "503" in checks["github_fresh"].metadata["stale"].value
        assert checks["pagerduty_fresh"].passed
        assert rows(work, "select count(*) as n from raw.github__deployments") == [{"n": 8}]


def test_definitions_hold_every_source_asset_and_check():
    defs = build_definitions(WarehouseResource(warehouse="unused.duckdb"), SourcesResource())
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    for key in (
        "raw/github__deployments",
        "raw/gitlab__pipelines",
        "raw/jenkins__builds",
        "raw/pagerduty__incidents",
        "raw/opsgenie__alerts",
        "ops/source_service_map",
        "staging/stg_github__deployments",
        "staging/stg_opsgenie__incidents",
    ):
        assert key in keys, key
    check_names = {c.name for c in defs.resolve_asset_graph().asset_check_keys}
    assert {f"{s}_fresh" for s in ("github", "gitlab", "jenkins", "pagerduty", "opsgenie")} <= check_names
