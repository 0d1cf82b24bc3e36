"""Assets that bring inputs in: the canonical files (raw layer) and the KPI catalog/rules/targets."""

import dagster as dg

from assets.resources import WarehouseResource
from connectors.files import ENTITIES
from platform_kpi.config import Configuration
from platform_kpi.loading import (
    CONFIG_TABLES,
    RAW_FILE_TABLES,
    load_file_entity,
    write_config_tables,
    write_load_errors,
)
from platform_kpi.raw_tables import raw_table


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey(list(key)),
            group_name="raw",
            description=raw_table(key[1]).description,
            kinds={"duckdb"},
        )
        for key in RAW_FILE_TABLES
    ],
    name="raw_files",
    can_subset=False,
)
def raw_files(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Snapshot the canonical files into raw tables; re-loading the same files gives the same tables."""
    errors, manifest_rows = [], 0
    with warehouse.connect() as con:
        for entity in ENTITIES:
            result = load_file_entity(con, warehouse.files_path, entity)
            errors.append(result["load_errors"])
            manifest_rows += len(result["stats"])
            if result["ignored_columns"]:
                context.log.warning(f"{entity}: ignored unknown columns {result['ignored_columns']}")
            for stats in result["stats"]:
                if stats.status != "read" or stats.records == 0:
                    context.log.warning(f"{entity}: {stats.file or 'no file'}: {stats.note or stats.status}")
            yield dg.MaterializeResult(
                asset_key=dg.AssetKey(["raw", f"files__{entity}"]),
                metadata={
                    "rows": result["rows"],
                    "files": ", ".join(result["files"]) or "not provided",
                    "load_errors": len(result["load_errors"]),
                },
            )
        n = write_load_errors(con, errors)
        ignored = con.execute("select count(*) from raw.files__manifest where status = 'ignored'").fetchone()[
            0
        ]
    if ignored:
        context.log.warning(
            f"{ignored} file(s) in {warehouse.files_path} are not entity files and were not read"
        )
    yield dg.MaterializeResult(asset_key=dg.AssetKey(["raw", "files__load_errors"]), metadata={"rows": n})
    yield dg.MaterializeResult(
        asset_key=dg.AssetKey(["raw", "files__manifest"]), metadata={"rows": manifest_rows + int(ignored)}
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey(list(key)),
            group_name=key[0],
            kinds={"duckdb"},
            description={
                "kpi_settings": "The KPI rules this run used (production pattern, link window, default branches, "
                "allowed time window, row-drop threshold).",
                "holidays": "Days that are not business days besides weekends (config holidays).",
                "status_map": "How raw status spellings map to normalized statuses.",
                "kpi_definitions": "The KPI catalog: every KPI's id, unit, aggregation and written definition.",
                "kpi_groups": "KPI groups of the catalog in reading order (DORA throughput and instability, each page's tiles, the report's).",
                "dora_benchmarks": "DORA performance clusters (tiers) of the configured report year.",
                "quick_check_benchmarks": "DORA Quick Check benchmark rows (mean, sd on the 0-10 score scale) "
                "of the configured edition, industry and organisation size.",
                "kpi_targets": "Targets per KPI from the config file (absolute, relative or trend).",
                "platform_settings": "The golden-path definition and platform adoption rules of the config file.",
                "platform_incident_settings": "The platform's owner teams and services and the severity "
                "weights of platform_incident_rate (config platform_incidents).",
            }[key[1]],
        )
        for key in CONFIG_TABLES
    ],
    name="kpi_config",
    can_subset=False,
)
def kpi_config(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    configuration: dg.ResourceParam[Configuration],
):
    """Load the KPI catalog and its groups, benchmarks, rules and targets into the warehouse."""
    with warehouse.connect() as con:
        counts = write_config_tables(con, configuration, as_of=warehouse.as_of_time)
    context.log.info(f"KPI config loaded: {counts}")
    for key in CONFIG_TABLES:
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(list(key)), metadata={"config": str(configuration.kpi_path), **counts}
        )
