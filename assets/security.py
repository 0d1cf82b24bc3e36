"""The raw security asset: the security and compliance report files (``<files>/security``) and the
security settings of config/kpi.yaml (see platform_kpi.security)."""

import dagster as dg

from assets.resources import WarehouseResource
from assets.sources import SourcesResource
from platform_kpi.config import Configuration
from platform_kpi.raw_tables import raw_table
from platform_kpi.security import (
    SECURITY_CONFIG_TABLES,
    SECURITY_RAW_TABLES,
    load_security_files,
    sync_github_security,
)

_DESCRIPTIONS = {
    "security_sla": "Days to fix a vulnerability per severity (config/kpi.yaml security.sla_days).",
    "security_workspaces": "The service each Terraform workspace belongs to (config/kpi.yaml security.workspaces).",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey(["raw", t]), group_name="raw", description=raw_table(t).description, kinds={"duckdb"}
        )
        for t in SECURITY_RAW_TABLES
    ]
    + [
        dg.AssetSpec(
            dg.AssetKey(["ops", t]), group_name="ops", description=_DESCRIPTIONS[t], kinds={"duckdb"}
        )
        for t in SECURITY_CONFIG_TABLES
    ],
    name="raw_security",
    can_subset=False,
)
def raw_security(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    sources: SourcesResource,
    configuration: dg.ResourceParam[Configuration],
):
    """Load the security report files and the security settings into raw and ops tables, then sync the
    GitHub alerts and attestations when sources.yaml asks for them (github.security_alerts: true)."""
    with warehouse.connect() as con:
        counts = load_security_files(
            con, warehouse.files_path, configuration.rules.security, reuse=not warehouse.full
        )
        if sources.fetch:
            synced = sync_github_security(con, configuration.sources, progress=context.log.info)
            for error in synced.get("errors", []):
                context.log.error(f"github security: previous data kept: {error}")
        counts["security__github_alerts"] = con.execute(
            "select count(*) from raw.security__github_alerts"
        ).fetchone()[0]
        counts["security__attestations"] = con.execute(
            "select count(*) from raw.security__attestations"
        ).fetchone()[0]
    for table in SECURITY_RAW_TABLES:
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["raw", table]), metadata={"rows": counts[table]})
    for table in SECURITY_CONFIG_TABLES:
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["ops", table]))
    if counts["security__load_errors"]:
        context.log.warning(
            f"security files: {counts['security__load_errors']} files or records not loaded (see ops.quarantine)"
        )
    context.log.info(f"security files: {counts['files']} read")
