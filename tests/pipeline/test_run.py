"""The whole pipeline, as Dagster runs it: load, transform, check, publish; safe to re-run; readers
never blocked; a bad input stops the run with a message naming file and column and leaves the
published warehouse as it was."""

import os
import threading
import time

import dagster as dg
import pytest

from assets.resources import WarehouseResource
from assets.sources import SourcesResource
from kpi_cli.main import main as kpi
from pipelines.definitions import build_definitions
from pipelines.execute import PipelineFailed, run_pipeline
from platform_kpi.warehouse import read_connection

SERVICES = "service,team,repo,tier\napi,core,acme/api,tier-1\nweb,front,acme/web,tier-2\n"
DEPLOYMENTS = """deployment_id,service,environment,status,started_at,finished_at,commit_sha,is_rollback,is_hotfix
d1,api,production,success,2026-01-10T09:00:00Z,2026-01-10T10:00:00Z,aaa,false,false
d2,api,prod-eu,SUCCEEDED,2026-01-20T09:00:00Z,2026-01-20T10:00:00Z,bbb,false,false
d3,api,production,success,2026-01-21T09:00:00Z,2026-01-21T10:00:00Z,ccc,true,false
d4,web,staging,success,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,ddd,,
d5,web,production,failed,2026-02-05T09:00:00Z,2026-02-05T10:00:00Z,eee,,
d6,web,production,exploded,2026-02-05T09:00:00Z,2026-02-05T10:00:00Z,eee,,
"""
CHANGES = """change_id,service,first_commit_at,merged_at,deployment_id
c1,api,2026-01-09T10:00:00Z,2026-01-10T08:00:00Z,
c2,api,2026-01-01T10:00:00Z,2026-01-02T08:00:00Z,d2
"""
INCIDENTS = """incident_id,service,created_at,resolved_at,severity,caused_by_deployment_id
i1,api,2026-01-10T12:00:00Z,2026-01-10T14:00:00Z,sev2,
i2,web,2026-02-10T12:00:00Z,,sev1,
"""
BUILDS = """build_id,service,branch,status,started_at,finished_at,is_default_branch
b1,api,main,success,2026-01-10T09:00:00Z,2026-01-10T09:10:00Z,
b2,api,feature/x,failed,2026-01-10T09:00:00Z,2026-01-10T09:20:00Z,
b3,web,trunk,failure,2026-01-10T09:00:00Z,2026-01-10T09:30:00Z,true
"""


def write_files(folder, **overrides):
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "services.csv": SERVICES,
        "deployments.csv": DEPLOYMENTS,
        "changes.csv": CHANGES,
        "incidents.csv": INCIDENTS,
        "builds.csv": BUILDS,
    }
    files.update(overrides)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def snapshot(warehouse):
    with read_connection(warehouse) as con:
        return {
            table: sorted(con.execute(f"select * from {table}").fetchall(), key=repr)
            for table in (
                "core.deployments",
                "core.changes",
                "core.incidents",
                "core.cicd_builds",
                "marts.kpi_monthly",
                "marts.kpi_weekly",
                "ops.quarantine",
            )
        }


@pytest.fixture(scope="module")
def run(module_tmp):
    root = module_tmp
    files = write_files(root / "files")
    warehouse = root / "warehouse.duckdb"
    lines: list[str] = []
    summary = run_pipeline(files, warehouse, progress=lines.append)
    return root, files, warehouse, summary, lines


def test_a_run_publishes_checked_kpis(run):
    _, _, warehouse, summary, lines = run
    assert summary.checks_failed == 0 and summary.checks_passed >= 9
    # One progress line per step, numbered, ending with the publish step.
    assert lines[0].startswith("[ 1/") and "published_warehouse" in lines[-1]
    with read_connection(warehouse) as con:
        org = dict(
            con.execute(
                "select kpi_id, value from marts.kpi_monthly where month = '2026-01-01' and scope = 'all'"
            ).fetchall()
        )
        quarantined = con.execute("select file, line, record_key, reason from ops.quarantine").fetchall()
    # January: d1, d2, d3 are successful production deployments (d4 is staging) -> 3.
    assert org["deployment_frequency"] == 3
    # d1 failed (i1 within 2 h, no named cause), d2 failed (next one, d3, is a rollback): 2 / 3.
    assert org["change_failure_rate"] == pytest.approx(2 / 3)
    assert quarantined == [("deployments.csv", 7, "d6", "unknown status exploded")]


def test_checks_are_recorded_for_the_data_health_page(run):
    _, _, warehouse, _, _ = run
    with read_connection(warehouse) as con:
        results = con.execute(
            "select asset, bool_and(success) from ops.check_results group by asset"
        ).fetchall()
    assert dict(results) == {
        "core.services": True,
        "core.deployments": True,
        "core.changes": True,
        "core.incidents": True,
        "core.cicd_builds": True,
        "core.costs": True,  # no cost source here: the suites pass on empty tables
        "core.cluster_utilization": True,
        # The declared tests of sql/<layer>/_models.yml (contract_<model>), on every model that has some.
        "core.change_lead_times": True,
        "core.deployment_outcomes": True,
        "core.incident_links": True,
        "marts.ci_pipeline_stats": True,
        "marts.cost_currency_flags": True,
        "marts.cost_monthly": True,
        "marts.cost_quarantine": True,
        "marts.cost_unattributed": True,
        "marts.deployments_by_environment": True,
        "marts.dora_quick_check": True,
        "marts.kpi_monthly": True,
        "marts.kpi_weekly": True,
        "marts.lead_time_buckets": True,
        "marts.lead_time_stages": True,
        "ops.quarantine": True,
        "ops.file_accounting": True,  # file_accounting_balanced and its contract
        # the platform families' tables (issues 13-15): their contracts pass on empty tables
        "core.tickets": True,
        "core.reviews": True,
        "core.survey_responses": True,
        "core.enablement_sessions": True,
        "core.catalog_entities": True,
        "core.ci_template_refs": True,
        "core.documents": True,
        "marts.golden_path_services": True,
        "marts.platform_observations": True,
        "core.artifact_provenance": True,
        "core.policy_evaluations": True,
        "core.vulnerability_findings": True,
        "core.waivers": True,
        "core.alerts": True,
        "core.slos": True,
        "core.slo_daily": True,
        "marts.slo_monthly": True,
    }


def test_re_running_the_same_files_gives_the_same_warehouse(run):
    root, files, warehouse, _, _ = run
    before = snapshot(warehouse)
    run_pipeline(files, warehouse)
    assert snapshot(warehouse) == before


def test_readers_keep_working_while_a_run_writes(run):
    root, files, warehouse, _, _ = run
    errors: list[BaseException] = []
    worker = threading.Thread(target=lambda: _capture(errors, run_pipeline, files, warehouse))
    worker.start()
    reads = 0
    while worker.is_alive():
        with read_connection(warehouse) as con:
            assert con.execute("select count(*) from core.deployments").fetchone()[0] == 5
        reads += 1
        time.sleep(0.02)
    worker.join()
    assert not errors, errors
    assert reads > 10  # the run took a while and every read during it succeeded


def _capture(errors, fn, *args):
    try:
        fn(*args)
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)


def test_a_missing_required_column_fails_clearly_and_keeps_the_published_warehouse(run, tmp_path):
    _, _, warehouse, _, _ = run
    before, mtime = snapshot(warehouse), os.path.getmtime(warehouse)
    broken = write_files(
        tmp_path / "broken",
        **{
            "deployments.csv": "deployment_id,service,environment,finished_at\nd1,api,prod,2026-01-01T00:00:00Z\n"
        },
    )
    with pytest.raises(PipelineFailed) as failure:
        run_pipeline(broken, warehouse)
    message = str(failure.value)
    assert "deployments.csv" in message and "'status'" in message and "was not updated" in message
    assert os.path.getmtime(warehouse) == mtime and snapshot(warehouse) == before


def test_dagster_materialize_in_process_on_a_temp_duckdb(tmp_path):
    files = write_files(tmp_path / "files")
    resource = WarehouseResource(warehouse=str(tmp_path / "w.duckdb"), files_dir=str(files))
    # The assets and checks as the code location binds them to this warehouse (not the module-level
    # objects, which other tests may have materialized with other resources).
    repo = build_definitions(resource, SourcesResource(config=None)).get_repository_def()
    assets = {id(a): a for a in repo.assets_defs_by_key.values() if a.partitions_def is None}
    checks = list(repo.asset_checks_defs_by_key.values())
    result = dg.materialize([*assets.values(), *checks])
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations if e.severity == dg.AssetCheckSeverity.ERROR)
    with read_connection(tmp_path / "w.duckdb") as con:
        assert con.execute("select count(*) from core.deployments where is_production").fetchone()[0] == 4


def test_cli_sql_is_read_only_and_report_is_replaced(run, capsys, tmp_path):
    _, _, warehouse, _, _ = run
    assert (
        kpi(
            [
                "sql",
                "--warehouse",
                str(warehouse),
                "--format",
                "csv",
                "select kpi_id, value from marts.kpi_monthly where month = '2026-01-01' and scope = 'all' "
                "and kpi_id = 'deployment_frequency'",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines() == ["kpi_id,value", "deployment_frequency,3.0"]
    assert kpi(["sql", "--warehouse", str(warehouse), "delete from marts.kpi_monthly"]) == 1
    assert "read-only" in capsys.readouterr().err
    out = tmp_path / "reports"
    assert kpi(["report", "--warehouse", str(warehouse), "--month", "2026-01", "--out", str(out)]) == 0
    first = (out / "2026-01" / "report.md").read_text()
    assert "January 2026" in first
    assert kpi(["report", "--warehouse", str(warehouse), "--month", "2026-01", "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "2026-01").iterdir() if not p.name.startswith(".")) == sorted(
        p.name for p in (out / "2026-01").iterdir()
    )  # no temporary files left behind
    assert kpi(["report", "--warehouse", str(warehouse), "--month", "2019-01", "--out", str(out)]) == 1
    assert "Months available" in capsys.readouterr().out


def test_cli_run_names_the_file_and_column(tmp_path, capsys):
    broken = write_files(tmp_path / "files", **{"builds.csv": "build_id,service,status\nb1,api,success\n"})
    code = kpi(["run", "--files", str(broken), "--warehouse", str(tmp_path / "w.duckdb")])
    out = capsys.readouterr().out
    assert code == 1
    assert "builds.csv is missing required column(s) 'branch', 'started_at', 'finished_at'" in out


def test_every_command_has_help(capsys):
    for command in ("demo", "run", "sql", "report", "dashboard"):
        with pytest.raises(SystemExit) as done:
            kpi([command, "--help"])
        assert done.value.code == 0
        assert "usage: kpi " + command in capsys.readouterr().out


def test_a_selection_of_checks_runs_only_the_checks(run, tmp_path):
    # The benchmark's checks phase: before, a checks-only selection lost its checks on the way to the
    # job subset, and an empty subset is the whole job to Dagster, so every asset was rebuilt too.
    import shutil

    from platform_kpi.settings import work_path_for

    _, files, warehouse, full, _ = run
    published = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse, work_path_for(published))  # the tables a run built, not yet checked
    lines: list[str] = []
    summary = run_pipeline(
        files, published, selection=dg.AssetSelection.all_asset_checks(), progress=lines.append
    )
    steps = [line.split("] ", 1)[1].rsplit(" (", 1)[0] for line in lines if line.startswith("[")]
    assert steps and not [s for s in steps if s.endswith("_models") or s in ("raw_files", "kpi_config")], (
        steps
    )
    assert summary.checks_failed == 0 and summary.checks_passed == full.checks_passed
    with pytest.raises(ValueError, match="matches no asset or check"):
        run_pipeline(files, published, selection=dg.AssetSelection.groups("no_such_group"))


def test_a_run_disposes_its_dagster_instance(tmp_path, monkeypatch):
    # The run's Dagster instance keeps its run and event storage in held SQLite connections. Undisposed,
    # they lived until some later garbage collection, in whatever thread ran it; SQLite refuses a close
    # from another thread and SQLAlchemy logs that with a traceback, which on CPython 3.11 parses source
    # mid-collection and broke a Streamlit page compiling in that thread ("AST constructor recursion
    # depth mismatch", seen in CI). A held connection is private to Dagster, hence the underscore.
    created: list[dg.DagsterInstance] = []
    ephemeral = dg.DagsterInstance.ephemeral

    def recorded(*args, **kwargs):
        created.append(ephemeral(*args, **kwargs))
        return created[-1]

    monkeypatch.setattr(dg.DagsterInstance, "ephemeral", staticmethod(recorded))
    run_pipeline(write_files(tmp_path / "files"), tmp_path / "warehouse.duckdb", checks=False)
    assert created
    for instance in created:
        for storage in (instance.run_storage, instance.event_log_storage):
            assert storage._held_conn.closed, type(storage).__name__
