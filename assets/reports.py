"""The monthly report asset: one partition per calendar month, written on the 1st for the month just ended."""

from pathlib import Path

import dagster as dg

from assets.publish import PUBLISHED_KEY
from assets.reporting import parse_month, write_report
from assets.resources import WarehouseResource

monthly_partitions = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=0)


@dg.asset(
    key=dg.AssetKey(["reports", "monthly_report"]),
    deps=[PUBLISHED_KEY],
    partitions_def=monthly_partitions,
    group_name="reports",
    description="The monthly KPI report (Markdown, HTML) for leadership, from the published warehouse.",
)
def monthly_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    month = parse_month(context.partition_key[:7])
    paths = write_report(warehouse.published_path, month, Path(warehouse.reports_dir))
    return dg.MaterializeResult(metadata={name: dg.MetadataValue.path(str(p)) for name, p in paths.items()})
