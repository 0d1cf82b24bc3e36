"""The monthly report runs on the 1st for the month just ended, as a partition of the report asset."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from assets.reports import monthly_report
from assets.resources import WarehouseResource, configuration_resource
from pipelines.jobs import monthly_report_schedule
from platform_kpi.settings import DEFAULT_CONFIG


def test_schedule_fires_on_the_first_for_the_month_just_ended() -> None:
    assert monthly_report_schedule.cron_schedule.split()[2:] == ["1", "*", "*"]
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)
    )
    [request] = list(monthly_report_schedule.evaluate_tick(context).run_requests)
    assert request.partition_key == "2026-11-01"


def test_the_partition_writes_the_month(demo: Path, tmp_path: Path) -> None:
    resource = WarehouseResource(warehouse=str(demo / "warehouse.duckdb"), reports_dir=str(tmp_path))
    resources = {"warehouse": resource, "configuration": configuration_resource(DEFAULT_CONFIG)}
    result = dg.materialize(
        [monthly_report],
        resources=resources,
        partition_key="2026-09-01",
    )
    assert result.success
    assert {p.name for p in (tmp_path / "2026-09").iterdir()} == {
        "charts",
        "report.pdf",
        "report.html",
        "report.md",
    }
    meta = result.asset_materializations_for_node("reports__monthly_report")[0].metadata
    assert str(meta["report.pdf"].value).endswith("2026-09/report.pdf")
