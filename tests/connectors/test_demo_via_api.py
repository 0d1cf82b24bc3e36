"""End to end: the demo organisation served by the simulator and read through the GitHub and PagerDuty
connectors gives the same domain rows and DORA numbers as the same organisation read from its files."""

from __future__ import annotations

import datetime as dt

from platform_kpi.catalog import kpi_group
from platform_kpi.demo.alerts import generate_alerts
from platform_kpi.demo.org import generate_demo_org
from platform_kpi.simulator.demo import TOKEN_ENVS, build_sim_data, write_demo_sources_yaml
from platform_kpi.simulator.server import Simulator
from tests.connectors.api_helpers import build, rows, sync

DORA = (
    "deployment_frequency",
    "lead_time_for_changes_p50_hours",
    "change_failure_rate",
    "mttr_hours",
    "time_to_restore_p50_hours",
    # the pull-request flow: the API path filters the bots, self-reviews and pending reviews the
    # simulator adds, and reads drafts' ready times from issue events, to give the files' numbers
    *kpi_group("pr_flow"),
)


def test_demo_through_the_api_simulator_matches_the_files(tmp_path):
    today = dt.date(2026, 11, 15)
    files = tmp_path / "files"
    generate_demo_org(files, services=5, teams=3, months=2, seed=3, today=today)
    generate_alerts(files, months=2, seed=3, today=today)
    by_files = build(tmp_path / "files.duckdb", files_dir=files)

    with Simulator(build_sim_data(files)) as sim:
        cfg = write_demo_sources_yaml(
            tmp_path / "sources.yaml", files, {v: sim.url(v) for v in ("github", "pagerduty")}
        )
        env = {TOKEN_ENVS[v]: sim.tokens[v] for v in TOKEN_ENVS}
        results = sync(tmp_path / "api.duckdb", cfg, env, now=dt.datetime(2026, 11, 15, 6))
        assert all(r.error is None for r in results.values() if r.configured)
        full = len(sim.requests())
        sim.reset_log()
        sync(tmp_path / "api.duckdb", cfg, env, now=dt.datetime(2026, 11, 15, 7))
        incremental = len(sim.requests())
    by_api = build(tmp_path / "api.duckdb", cfg)
    assert incremental < full / 20

    def counts(wh):
        return {
            t: rows(wh, f"select count(*) as n from core.{t}")[0]["n"]
            for t in ("services", "deployments", "changes", "incidents", "cicd_builds")
        }

    assert counts(by_api) == counts(by_files)
    kpis = (
        "select month, scope_type, scope, kpi_id, round(value, 6) as value, sample_size from marts.kpi_monthly "
        f"where kpi_id in {DORA} order by all"
    )
    assert rows(by_api, kpis) == rows(by_files, kpis)
    # PagerDuty serves the alerts that paged an incident (every PagerDuty alert belongs to one), each
    # under its incident: loaded, or quarantined with the reason (an incident resolved before it opened)
    linked = rows(by_files, "select count(*) as n from core.alerts where incident_id is not null")[0]["n"]
    served = rows(
        by_api,
        "select (select count(*) from core.alerts) + (select count(*) from ops.quarantine where entity = 'alerts') as n",
    )[0]["n"]
    assert linked > 0 and served == linked
    assert rows(by_api, "select count(*) as n from core.alerts where incident_id is null") == [{"n": 0}]
    # ids differ by source, statuses do not
    statuses = "select status, count(*) as n from core.deployments group by all order by all"
    assert rows(by_api, statuses) == rows(by_files, statuses)
