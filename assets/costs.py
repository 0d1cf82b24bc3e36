"""The raw cost asset: cost rules and every configured cost and utilization source (see
platform_kpi.costs for what each source reads and how failures are kept apart)."""

import dagster as dg

from assets.resources import WarehouseResource
from platform_kpi.config import Configuration
from platform_kpi.costs import COST_CONFIG_TABLES, COST_RAW_TABLES, load_cost_sources
from platform_kpi.raw_tables import raw_table

_DESCRIPTIONS = {
    "cost_settings": "The reporting currency and charge-category rules this run used (config/costs.yaml).",
    "cost_rules": "Which costs are CI compute or deployment infrastructure (conditions from config/costs.yaml).",
    "cost_tag_keys": "The tag keys that name a cost's service and team, in order of precedence.",
    "fx_rates": "Rates from each configured currency to the reporting currency.",
    "namespace_services": "Kubernetes namespaces mapped to services (when the names differ).",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey(["raw", t]), group_name="raw", description=raw_table(t).description, kinds={"duckdb"}
        )
        for t in COST_RAW_TABLES
    ]
    + [
        dg.AssetSpec(
            dg.AssetKey(["ops", t]), group_name="ops", description=_DESCRIPTIONS[t], kinds={"duckdb"}
        )
        for t in COST_CONFIG_TABLES
    ],
    name="raw_costs",
    can_subset=False,
)
def raw_costs(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    configuration: dg.ResourceParam[Configuration],
):
    """Load the cost rules and every configured cost and utilization source into raw tables."""
    with warehouse.connect() as con:
        results = load_cost_sources(con, configuration.costs, warehouse.files_path)
    for table in COST_RAW_TABLES:
        meta = results.get(table) or {}
        if table == "focus__load_errors":
            meta = {"rows": results["focus__costs"]["load_errors"]}
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(["raw", table]),
            metadata={k: (v if isinstance(v, int | str | bool) else str(v)) for k, v in meta.items()},
        )
    for table in COST_CONFIG_TABLES:
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["ops", table]))
    for table, result in results.items():
        if result.get("error"):
            context.log.warning(f"raw.{table}: {result['error']}")
    context.log.info(f"cost sources: { {t: r.get('rows') for t, r in results.items()} }")
