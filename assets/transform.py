"""One Dagster asset per SQL model under sql/: staging, core (domain), marts (KPIs) and ops."""

import dagster as dg

from assets.resources import WarehouseResource
from platform_kpi.models import SqlModel, discover_models, execute_model


def _model_asset(model: SqlModel) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(list(model.key)),
        deps=[dg.AssetKey(list(d)) for d in model.deps],
        group_name=model.layer,
        description=model.description,
        kinds={"duckdb", "sql"},
        tags={"materialized": model.materialized},
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            stats = execute_model(con, model)
        metadata = {
            "materialized": model.materialized,
            "seconds": stats["seconds"],
            "sql": dg.MetadataValue.path(str(model.path)),
        }
        if stats["rows"] is not None:
            metadata["rows"] = stats["rows"]
        return dg.MaterializeResult(metadata=metadata)

    return _asset


SQL_MODELS = discover_models()
model_assets = [_model_asset(m) for m in SQL_MODELS]
