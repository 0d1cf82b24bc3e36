"""Jobs and schedules: a daily refresh of every table, and the monthly report on the 1st."""

from __future__ import annotations

import dagster as dg

from assets.reports import monthly_report

REPORT_KEY = dg.AssetKey(["reports", "monthly_report"])

refresh_job = dg.define_asset_job(
    "refresh_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.keys(REPORT_KEY),
    description="Load every source, rebuild staging, domain and KPI tables, run the checks, publish.",
)

monthly_report_job = dg.define_asset_job(
    "monthly_report_job",
    selection=dg.AssetSelection.keys(REPORT_KEY),
    partitions_def=monthly_report.partitions_def,
    description="Write the monthly report for one month (partition YYYY-MM-01).",
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
