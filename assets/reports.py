"""The monthly report asset: one partition per calendar month, written on the 1st for the month just ended."""

from pathlib import Path

import dagster as dg

from assets.publish import PUBLISHED_KEY
from assets.resources import WarehouseResource
from platform_kpi.config import Configuration
from platform_kpi.reporting.data import parse_month
from platform_kpi.reporting.delivery import deliver_report
from platform_kpi.reporting.report import write_report

monthly_partitions = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=0)


@dg.asset(
    key=dg.AssetKey(["reports", "monthly_report"]),
    deps=[PUBLISHED_KEY],
    partitions_def=monthly_partitions,
    group_name="reports",
    description="The monthly KPI report (PDF, HTML, Markdown) for leadership, from the published warehouse.",
)
def monthly_report(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    configuration: dg.ResourceParam[Configuration],
) -> dg.MaterializeResult:
    """Write reports/YYYY-MM/ for the partition's month (a re-run replaces it), then deliver it as
    config/delivery.yaml says. A failed delivery is a warning: the report itself is kept."""
    month = parse_month(context.partition_key[:7])
    paths = write_report(warehouse.published_path, month, Path(warehouse.reports_dir))
    metadata: dict = {
        name: dg.MetadataValue.path(str(p)) for name, p in paths.items() if not name.startswith("charts/")
    }
    config = configuration.delivery
    if config.enabled:
        for result in deliver_report(paths["report.pdf"].parent, month, config):
            metadata[f"delivery {result.target}"] = ("ok: " if result.ok else "FAILED: ") + result.detail
            if not result.ok:
                context.log.warning(f"Report {month:%Y-%m} not delivered to {result.target}: {result.detail}")
    return dg.MaterializeResult(metadata=metadata)
