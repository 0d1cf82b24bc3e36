"""The raw SLO asset: SLO spec files, daily result files and the Prometheus evaluation of each SLO
(see platform_kpi.slos for what is read, the incremental window and how failures are kept apart)."""

import dagster as dg

from assets.resources import WarehouseResource
from platform_kpi.config import Configuration
from platform_kpi.raw_tables import raw_table
from platform_kpi.slos import SLO_CONFIG_TABLES, SLO_RAW_TABLES, load_slos

_DESCRIPTIONS = {
    "slo_settings": "The share of a month's hours with data an SLO needs to count as met (config slos.min_coverage).",
    "slo_platform": "Which SLOs are platform SLOs, and the config slos.platform entry that selected each.",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey(["raw", t]), group_name="raw", description=raw_table(t).description, kinds={"duckdb"}
        )
        for t in SLO_RAW_TABLES
    ]
    + [
        dg.AssetSpec(
            dg.AssetKey(["ops", t]), group_name="ops", description=_DESCRIPTIONS[t], kinds={"duckdb"}
        )
        for t in SLO_CONFIG_TABLES
    ],
    name="raw_slos",
    can_subset=False,
)
def raw_slos(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    configuration: dg.ResourceParam[Configuration],
):
    """Read the SLO specs and result files, and evaluate the SLOs against Prometheus when configured.

    Evaluated on every run (``kpi sync`` too, which only skips re-fetching the sources.yaml APIs): the
    window is incremental, so a run right after another asks Prometheus for the lookback days only."""
    as_of = warehouse.as_of_time
    with warehouse.connect() as con:
        result = load_slos(
            con,
            configuration.rules.slos,
            kpi_path=configuration.kpi_path,
            files_dir=warehouse.files_path,
            today=as_of.date() if as_of else None,
            progress=context.log.info,
        )
        counts = {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in SLO_RAW_TABLES}
    for error in result.get("errors", []):
        context.log.error(f"slos: {error}")
    if result["load_errors"]:
        context.log.warning(
            f"slos: {result['load_errors']} spec files, documents or rows not loaded (see ops.quarantine)"
        )
    for table in SLO_RAW_TABLES:
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["raw", table]), metadata={"rows": counts[table]})
    for table in SLO_CONFIG_TABLES:
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["ops", table]))
