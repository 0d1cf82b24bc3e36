"""Jobs and schedules: a daily refresh of every table, and the monthly report on the 1st."""

from __future__ import annotations

import dagster as dg

from assets.reports import monthly_report

REPORT_KEY = dg.AssetKey(["reports", "monthly_report"])

# Every step of a run writes the same DuckDB work file, and DuckDB lets one process write a file while
# no other process may even open it. Dagster's default executor runs each step in its own process, so
# steps launched by the daemon or `dagster dev` would fail with `Could not set lock on file`: runs
# execute their steps one after another in the run's own process instead (the Definitions use this for
# ad-hoc materializations too). Pinned by tests/pipeline/definitions_snapshot.txt.
EXECUTOR = dg.in_process_executor

refresh_job = dg.define_asset_job(
    "refresh_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.keys(REPORT_KEY),
    description="Load every source, rebuild staging, domain and KPI tables, run the checks, publish.",
    executor_def=EXECUTOR,
)

monthly_report_job = dg.define_asset_job(
    "monthly_report_job",
    selection=dg.AssetSelection.keys(REPORT_KEY),
    partitions_def=monthly_report.partitions_def,
    description="Write the monthly report for one month (partition YYYY-MM-01).",
    executor_def=EXECUTOR,
)

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh_schedule",
    job=refresh_job,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    description="Refresh all data every day at 05:00 UTC.",
)

# A monthly partition's key is its first day; with end_offset=0 the newest partition is the month just
# ended, so the schedule built from the partitioned job runs on the 1st for that month.
monthly_report_schedule = dg.build_schedule_from_partitioned_job(
    monthly_report_job,
    name="monthly_report_schedule",
    hour_of_day=7,
    description="On the 1st of each month at 07:00 UTC, write the report for the month just ended.",
)
