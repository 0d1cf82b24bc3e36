"""The Dagster code location: assembles assets, checks, jobs, schedules and resources. Nothing else."""

from __future__ import annotations

import dagster as dg

from assets.checks import asset_checks
from assets.costs import raw_costs
from assets.inputs import kpi_config, raw_files
from assets.publish import published_warehouse
from assets.reports import monthly_report
from assets.resources import GreatExpectationsResource, WarehouseResource, configuration_resource
from assets.security import raw_security
from assets.slos import raw_slos
from assets.sources import SourcesResource, source_assets, source_checks
from assets.transform import model_assets
from pipelines.jobs import (
    EXECUTOR,
    daily_refresh_schedule,
    monthly_report_job,
    monthly_report_schedule,
    refresh_job,
)
from platform_kpi.settings import load_settings

# Every asset and check of the code location, unbound (tests materialize them with their own resources).
ASSETS = [
    raw_files,
    kpi_config,
    raw_costs,
    raw_security,
    raw_slos,
    *source_assets,
    *model_assets,
    published_warehouse,
    monthly_report,
]
CHECKS = [*asset_checks, *source_checks]


def build_definitions(
    warehouse: WarehouseResource | None = None,
    sources: SourcesResource | None = None,
    configuration: dg.ResourceDefinition | None = None,
) -> dg.Definitions:
    settings = load_settings() if warehouse is None or sources is None else None
    if sources is None:
        sources = SourcesResource(config=str(settings.sources) if settings.sources else None)
    if warehouse is None:
        warehouse = WarehouseResource(
            warehouse=str(settings.warehouse),
            files_dir=str(settings.files_dir) if settings.files_dir else None,
            config=str(settings.config),
            reports_dir=str(settings.reports_dir),
        )
    if configuration is None:
        configuration = configuration_resource(warehouse.config, sources.config)
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=CHECKS,
        jobs=[refresh_job, monthly_report_job],
        schedules=[daily_refresh_schedule, monthly_report_schedule],
        resources={
            "warehouse": warehouse,
            "sources": sources,
            "configuration": configuration,
            "great_expectations": GreatExpectationsResource(),
        },
        executor=EXECUTOR,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
