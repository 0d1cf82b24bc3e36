"""The SQL models under sql/ as Dagster assets: one asset per model (key = schema and table), built
by one step per layer (staging, core, marts, ops).

A step per layer rather than per model: every model writes the same DuckDB file, so steps can never
run side by side, and Dagster's per-step cost (~0.1 s) times ~45 models was most of a small run. Each
layer's asset is subsettable, so selecting or re-running one model in the UI builds only that model.
Blocking checks on the core tables still run before the marts are built.
"""

import dagster as dg

from assets.resources import WarehouseResource
from platform_kpi.models import MODEL_LAYERS, SqlModel, discover_models, execute_model, topological


def _spec(model: SqlModel) -> dg.AssetSpec:
    return dg.AssetSpec(
        dg.AssetKey(list(model.key)),
        deps=[dg.AssetKey(list(d)) for d in model.deps],
        group_name=model.layer,
        description=model.description,
        kinds={"duckdb", "sql"},
        tags={"materialized": model.materialized},
        metadata={"sql": dg.MetadataValue.path(str(model.path))},
        skippable=True,
    )


def _layer_asset(layer: str, models: list[SqlModel]) -> dg.AssetsDefinition:
    ordered = topological(models)

    @dg.multi_asset(
        specs=[_spec(m) for m in ordered],
        name=f"{layer}_models",
        can_subset=True,
        description=f"The {layer} SQL models, built in dependency order.",
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        selected = context.selected_asset_keys
        with warehouse.connect() as con:
            for model in ordered:
                key = dg.AssetKey(list(model.key))
                if key not in selected:
                    continue
                stats = execute_model(con, model, full=warehouse.full)
                metadata = {"materialized": model.materialized, "seconds": stats["seconds"]}
                if "build" in stats:  # an incremental model: what it rebuilt and why
                    metadata.update(build=stats["build"], reason=stats["reason"], periods=stats["periods"])
                    context.log.info(
                        f"{model.table}: {stats['build']} build of {stats['periods']} periods ({stats['reason']})"
                    )
                if stats["rows"] is not None:
                    metadata["rows"] = stats["rows"]
                yield dg.MaterializeResult(asset_key=key, metadata=metadata)

    return _asset


SQL_MODELS = discover_models()
model_assets = [
    _layer_asset(layer, [m for m in SQL_MODELS if m.layer == layer])
    for layer in MODEL_LAYERS
    if any(m.layer == layer for m in SQL_MODELS)
]
