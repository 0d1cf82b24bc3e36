"""The two scheduled jobs, launched the way the daemon and `dagster dev` launch them: through the job's
own executor (not `materialize()`), on a DAGSTER_HOME instance, configured by environment variables,
on a small demo organisation.

Dagster's default executor runs each step in its own process; with DuckDB's single writer those steps
fail on the shared work file (`Could not set lock on file`). These tests run the real executor, so a
job that cannot run as deployed fails here.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import defs
from platform_kpi.warehouse import read_connection
from tests.repo import REPO_ROOT

TODAY = dt.date(2026, 11, 28)


def monthly_report_job() -> dg.JobDefinition:
    """The report job as the code location builds it (settings from the environment)."""
    return defs().resolve_job_def("monthly_report_job")


@pytest.fixture(scope="module")
def deployment(module_tmp) -> dict[str, str]:
    """Environment of a deployment reading a 6-service demo organisation (files made by the generator)."""
    from platform_kpi.demo.org import generate_demo_org

    home = module_tmp
    generate_demo_org(home / "files", services=6, teams=2, months=2, seed=7, today=TODAY)
    (home / "dagster_home").mkdir()
    return {
        "DAGSTER_HOME": str(home / "dagster_home"),
        "KPI_FILES_DIR": str(home / "files"),
        "KPI_WAREHOUSE": str(home / "warehouse.duckdb"),
        "KPI_REPORTS_DIR": str(home / "reports"),
    }


@pytest.fixture(scope="module")
def refreshed(deployment) -> tuple[subprocess.CompletedProcess, int]:
    """`dagster job execute` of the refresh job, as the run launcher starts a run: its own process, on
    the code location module, on the DAGSTER_HOME instance, configured by environment variables."""
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.Popen(
        [str(dagster), "job", "execute", "-m", "pipelines.definitions", "-j", "refresh_job"],
        cwd=REPO_ROOT,
        env={**os.environ, **deployment},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = proc.communicate(timeout=900)[0]
    return subprocess.CompletedProcess(proc.args, proc.returncode, out), proc.pid


def _csv_records(path: Path) -> int:
    return len(path.read_text().splitlines()) - 1


@pytest.mark.slow
def test_dagster_job_execute_runs_the_refresh_job_in_one_process(deployment, refreshed, monkeypatch):
    done, pid = refreshed
    assert done.returncode == 0, done.stdout[-5000:]
    assert "Could not set lock" not in done.stdout
    monkeypatch.setenv("DAGSTER_HOME", deployment["DAGSTER_HOME"])
    instance = dg.DagsterInstance.get()
    [run] = instance.get_runs(dg.RunsFilter(job_name="refresh_job"))
    assert run.status == dg.DagsterRunStatus.SUCCESS
    # Every step ran in the run's own process: the job's executor does not fork a process per step.
    starts = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_START).records
    steps = len(defs().resolve_job_def("refresh_job").graph.node_dict)  # every step of the job started
    assert len(starts) == steps and {r.event_log_entry.dagster_event.pid for r in starts} == {pid}
    warehouse = Path(deployment["KPI_WAREHOUSE"])
    with read_connection(warehouse) as con:
        loaded = con.execute("select count(*) from core.deployments").fetchone()[0]
        quarantined = con.execute(
            "select count(*) from ops.quarantine where entity = 'deployments'"
        ).fetchone()[0]
    # Every line of the generated deployments.csv is either a deployment or quarantined with a reason.
    assert loaded > 0
    assert loaded + quarantined == _csv_records(Path(deployment["KPI_FILES_DIR"]) / "deployments.csv")


@pytest.mark.slow
def test_the_monthly_schedule_runs_the_report_job_through_its_executor(deployment, refreshed, monkeypatch):
    from pipelines.jobs import monthly_report_schedule

    assert refreshed[0].returncode == 0  # the report reads the warehouse the refresh published
    for name, value in deployment.items():
        monkeypatch.setenv(name, value)
    instance = dg.DagsterInstance.get()  # the DAGSTER_HOME instance, as the daemon uses
    # The schedule's tick on the 1st asks for the month just ended; run it as the daemon would.
    tick = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 1, 7, tzinfo=dt.UTC))
    [request] = list(monthly_report_schedule.evaluate_tick(tick).run_requests)
    assert request.partition_key == "2026-10-01"
    with dg.execute_job(
        dg.reconstructable(monthly_report_job), instance=instance, tags=request.tags
    ) as result:
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        assert {e.pid for e in result.all_events if e.is_step_start} == {os.getpid()}
    report = Path(deployment["KPI_REPORTS_DIR"]) / "2026-10"
    assert {"report.pdf", "report.html", "report.md"} <= {p.name for p in report.iterdir()}
    assert "October 2026" in (report / "report.md").read_text()
    assert sorted(r.job_name for r in instance.get_runs()) == ["monthly_report_job", "refresh_job"]
