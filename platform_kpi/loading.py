"""Loading inputs into the warehouse: the canonical files into raw tables, and the KPI catalog and its
groups, benchmarks, rules and targets into the tables the SQL models read. Pure Python (no Dagster)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from connectors import files
from platform_kpi import adoption
from platform_kpi.alerts import SETTINGS_TABLE as PLATFORM_INCIDENT_SETTINGS
from platform_kpi.alerts import write_platform_incident_settings
from platform_kpi.catalog import group_rows
from platform_kpi.config import Configuration, load_config
from platform_kpi.cost_config import ensure_cost_tables
from platform_kpi.raw_tables import ensure_raw_tables, replace_raw
from platform_kpi.security import ensure_security_tables
from platform_kpi.settings import SQL_DIR
from platform_kpi.slos import ensure_slo_tables

CONFIG_TABLES = (
    ("ops", "kpi_settings"),
    ("ops", "holidays"),
    ("ops", "status_map"),
    ("marts", "kpi_definitions"),
    ("marts", "kpi_groups"),
    ("marts", "dora_benchmarks"),
    ("marts", "quick_check_benchmarks"),
    ("marts", "kpi_targets"),
    adoption.SETTINGS_TABLE,
    PLATFORM_INCIDENT_SETTINGS,
)
RAW_FILE_TABLES = tuple(("raw", f"files__{entity}") for entity in files.ENTITIES) + (
    ("raw", "files__load_errors"),
    ("raw", "files__manifest"),
)


def load_file_entity(con: duckdb.DuckDBPyConnection, files_dir: Path | None, entity: str) -> dict:
    """Replace raw.files__<entity> with the rows of the entity's files (none if no folder or file).

    The raw table is a snapshot of the files, so loading the same files twice leaves the same table.
    The entity's rows of raw.files__manifest (one per file, or one saying the file is missing) are
    replaced too, as are the rows of data-looking files in the folder that no entity reads.
    Returns the load's metadata, including the lines that were not records (for raw.files__load_errors).
    """
    spec = files.ENTITIES[entity]
    listing = files.list_folder(files_dir) if files_dir is not None else None
    if entity == "services" and listing is not None and not listing.by_entity["services"]:
        raise files.SourceFileError(
            f"{files.SOURCE}: {files_dir} has no services.csv or services.jsonl; it is required "
            "because it maps each service to its team (columns: service, team [, repo, tier])."
        )
    if listing is not None:
        # The connector reads into a scratch table; the contract's writer replaces the raw table with it.
        scratch = f"files_load_{entity}"
        load = files.read_entity(con, files_dir, entity, listing, table=scratch)
        try:
            rows = replace_raw(con, f"files__{entity}", con.table(scratch))
        finally:
            con.execute(f"drop table if exists temp.{scratch}")
    else:
        load = files.EntityLoad(entity, [], None)
        rows = replace_raw(
            con, f"files__{entity}", pd.DataFrame(columns=[*spec.columns, *files.LINEAGE_COLUMNS])
        )
    load.rows = con.table(f"raw.files__{entity}")
    errors = pd.DataFrame(load.load_errors, columns=list(files.LOAD_ERROR_COLUMNS))
    ignored = files.ignored_file_stats(listing) if listing is not None else []
    write_manifest(con, entity, load.stats, ignored)
    return {
        "entity": entity,
        "files": [p.name for p in load.files],
        "rows": int(rows),
        "load_errors": errors,
        "ignored_columns": load.ignored_columns,
        "stats": load.stats,
        "ignored_files": [s.file for s in ignored],
    }


def write_manifest(
    con: duckdb.DuckDBPyConnection, entity: str, stats: list[files.FileStats], ignored: list[files.FileStats]
) -> None:
    """Replace the manifest rows of ``entity`` (and of the folder's ignored files) with this load's."""
    rows = pd.DataFrame([s.row() for s in [*stats, *ignored]], columns=list(files.MANIFEST_COLUMNS))
    replace_raw(con, "files__manifest", rows, where="entity = ? or status = 'ignored'", params=[entity])


def write_load_errors(con: duckdb.DuckDBPyConnection, frames: list[pd.DataFrame]) -> int:
    """Replace raw.files__load_errors with the lines of this load that were not records."""
    errors = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=list(files.LOAD_ERROR_COLUMNS))
    )
    replace_raw(con, "files__load_errors", errors)
    ensure_raw_tables(con, ["files__manifest"])  # present even when no entity was loaded
    return len(errors)


def write_config_tables(
    con: duckdb.DuckDBPyConnection,
    config: Configuration | Path,
    *,
    as_of: dt.datetime | None = None,
) -> dict[str, int]:
    """Write the catalog and its groups, benchmark tiers, Quick Check benchmark rows, targets, status map, rules and cost rules
    used by this run (``config``: the run's configuration, or the KPI config path to load it from)."""
    if not isinstance(config, Configuration):
        config = load_config(config)
    catalog, rules = config.catalog.kpis, config.rules
    as_of = as_of or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute(
        "create or replace table ops.kpi_settings as select "
        "$pattern as production_environment_pattern, $window::double as incident_link_window_hours, "
        "$branches::varchar[] as default_branches, $year::integer as benchmark_year, "
        "$as_of::timestamp as as_of, $config as config_path, "
        "$earliest::timestamp as earliest_event_at, "
        "$as_of::timestamp + to_milliseconds(cast($tolerance * 3600000 as bigint)) as latest_event_at, "
        "$tolerance::double as future_tolerance_hours, $drop::double as row_drop_threshold, "
        "$bots::varchar[] as review_bot_logins",
        {
            "pattern": rules.production_environment_pattern,
            "window": rules.incident_link_window_hours,
            "branches": list(rules.default_branches),
            "year": rules.benchmark_year,
            "as_of": as_of,
            "config": str(config.kpi_path),
            "earliest": dt.datetime.combine(rules.earliest_event_date, dt.time()),
            "tolerance": rules.future_tolerance_hours,
            "drop": rules.row_drop_threshold,
            "bots": sorted({b.strip().lower() for b in rules.review_bot_logins}),
        },
    )
    con.execute("create or replace table ops.holidays (holiday date primary key)")
    if rules.holidays:
        con.executemany("insert into ops.holidays values (?)", [[d] for d in sorted(set(rules.holidays))])
    status_csv = str(SQL_DIR / "seeds" / "status_map.csv")
    con.execute(
        "create or replace table ops.status_map as "
        "select lower(original) as original, status from read_csv($p, header=true, all_varchar=true)",
        {"p": status_csv},
    )
    definitions = pd.DataFrame(
        [
            {
                "kpi_id": k.id,
                "name": k.name,
                "unit": k.unit,
                "better": k.better,
                "measure": k.measure,
                "aggregate": k.aggregate,
                "grains": list(k.grains),
                "empty": k.empty,
                "tiered": k.tiered,
                "definition": k.definition,
                # the fewest observations a value may come from (survey anonymity), else NULL
                "min_sample": rules.survey_min_respondents if k.anonymous else None,
            }
            for k in catalog
        ]
    )
    con.execute("create or replace table marts.kpi_definitions as select * from definitions")
    groups = pd.DataFrame(
        group_rows(config.catalog),
        columns=[
            "group_id",
            "group_name",
            "group_description",
            "headline",
            "group_order",
            "kpi_id",
            "position",
        ],
    )
    con.execute(
        "create or replace table marts.kpi_groups as select group_id::varchar as group_id, "
        "group_name::varchar as group_name, group_description::varchar as group_description, "
        "headline::boolean as headline, group_order::integer as group_order, kpi_id::varchar as kpi_id, "
        "position::integer as position from groups"
    )
    benchmarks = pd.DataFrame(
        config.benchmarks.rows(),
        columns=["benchmark_year", "kpi_id", "tier", "tier_rank", "better", "bound"],
    )
    con.execute(
        "create or replace table marts.dora_benchmarks as select benchmark_year::integer as benchmark_year, "
        "kpi_id, tier, tier_rank::integer as tier_rank, better, bound::double as bound from benchmarks"
    )
    quick_check = pd.DataFrame(
        list(config.quick_check.rows),
        columns=["edition", "cut_type", "cut", "kpi_id", "mean", "sd", "stored_mean"],
    )
    quick_check["source"] = config.quick_check.source
    con.execute(
        "create or replace table marts.quick_check_benchmarks as select edition::integer as edition, "
        "cut_type::varchar as cut_type, cut::varchar as cut, kpi_id::varchar as kpi_id, mean::double as mean, "
        "sd::double as sd, stored_mean::double as stored_mean, source::varchar as source from quick_check"
    )
    targets = pd.DataFrame(
        [
            {
                "kpi_id": kid,
                "kind": spec.kind,
                "op": spec.op,
                "value": spec.value,
                "baseline": spec.baseline,
                "change": spec.change,
                "direction": spec.direction,
                "months": spec.months,
            }
            for kid, spec in rules.targets.items()
        ],
        columns=["kpi_id", "kind", "op", "value", "baseline", "change", "direction", "months"],
    )
    con.execute(
        "create or replace table marts.kpi_targets as select kpi_id::varchar as kpi_id, kind::varchar as kind, "
        "op::varchar as op, value::double as value, baseline::varchar as baseline, change::double as change, "
        "direction::varchar as direction, months::integer as months from targets"
    )
    adoption.write_platform_settings(con, rules.platform_adoption)
    write_platform_incident_settings(con, rules.platform_incidents)  # owner teams, severity weights
    # The cost rules (costs.yaml beside the KPI config); cost source tables exist even when empty.
    ensure_cost_tables(con, config.costs)
    ensure_security_tables(con, config.rules.security)  # security config and raw tables (issue 14)
    ensure_slo_tables(con)  # SLO raw and ops tables (issue 15)
    return {
        "kpis": len(definitions),
        "groups": groups["group_id"].nunique(),
        "benchmarks": len(benchmarks),
        "quick_check_benchmarks": len(quick_check),
        "targets": len(targets),
    }
