"""Publishing: a finished copy of the run's warehouse swapped in for readers in one atomic rename."""

import os

import dagster as dg

from assets.resources import WarehouseResource
from assets.transform import SQL_MODELS
from platform_kpi.warehouse import publish

PUBLISHED_KEY = dg.AssetKey(["ops", "published_warehouse"])


@dg.asset(
    key=PUBLISHED_KEY,
    deps=[dg.AssetKey(list(m.key)) for m in SQL_MODELS if m.layer in ("core", "marts", "ops")],
    group_name="publish",
    description="The warehouse file that the dashboard, `kpi sql` and reports read; replaced atomically "
    "only after every model and blocking check of the run succeeded.",
    kinds={"duckdb"},
)
def published_warehouse(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    path = publish(warehouse.work_path, warehouse.published_path)
    context.log.info(f"Published {path}")
    return dg.MaterializeResult(
        metadata={"path": str(path.resolve()), "bytes": os.path.getsize(path)},
    )
