"""The cost configuration (config/costs.yaml): reporting currency, exchange rates, charge-category
rules, attribution tag keys, CI-compute and deployment rules, and the cost sources.

It is read from the ``costs.yaml`` beside the KPI config a run uses (so a copy of config/ moves
together), else from the shipped config/costs.yaml. ``write_cost_config_tables`` puts the rules into
ops tables the SQL models join; ``ensure_cost_tables`` makes every raw and ops cost table exist (empty)
so the SQL models also run when no cost source is configured. Pure Python: no Dagster.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from platform_kpi.config import COST_KINDS, CostConfig, cost_config_path_for, load_cost_config
from platform_kpi.raw_tables import ensure_raw_tables

# The core.costs column each list condition matches.
RULE_COLUMNS = {
    "sub_account_ids": "sub_account_id",
    "service_names": "service_name",
    "service_categories": "service_category",
    "providers": "provider",
    "resource_ids": "resource_id",
}

# Raw tables of the cost sources (declared, with their columns, in sql/raw/_sources.yml).
COST_RAW_TABLES = (
    "focus__costs",
    "focus__load_errors",
    "aws_ce__costs",
    "opencost__allocations",
    "prometheus__samples",
)


def _replace(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, casts: dict[str, str]) -> None:
    cols = ", ".join(f"{c}::{t} as {c}" for c, t in casts.items())
    con.register("_cost_cfg_frame", frame)
    try:
        con.execute(f"create or replace table {table} as select {cols} from _cost_cfg_frame")
    finally:
        con.unregister("_cost_cfg_frame")


def write_cost_config_tables(con: duckdb.DuckDBPyConnection, cfg: CostConfig) -> dict[str, int]:
    """ops.cost_settings, ops.cost_rules, ops.cost_tag_keys, ops.fx_rates, ops.namespace_services."""
    con.execute(
        "create or replace table ops.cost_settings as select $cur::varchar as reporting_currency, "
        "$unit::varchar[] as unit_cost_categories, $cloud::varchar[] as cloud_cost_categories, "
        "$path::varchar as config_path",
        {
            "cur": cfg.reporting_currency,
            "unit": list(cfg.unit_cost_categories),
            "cloud": list(cfg.cloud_cost_categories),
            "path": str(cfg.path),
        },
    )
    rules = []
    for priority, kind in enumerate(COST_KINDS, start=1):
        rule = cfg.rule(kind)
        for key, column in RULE_COLUMNS.items():
            for pattern in getattr(rule, key):
                rules.append((kind, priority, column, None, pattern))
        for tag, pattern in rule.tags.items():
            rules.append((kind, priority, "tag", tag, pattern))
    _replace(
        con,
        "ops.cost_rules",
        pd.DataFrame(rules, columns=["kind", "priority", "field", "tag_key", "pattern"]),
        {
            "kind": "varchar",
            "priority": "integer",
            "field": "varchar",
            "tag_key": "varchar",
            "pattern": "varchar",
        },
    )
    keys = [("service", k, i) for i, k in enumerate(cfg.service_tag_keys, 1)] + [
        ("team", k, i) for i, k in enumerate(cfg.team_tag_keys, 1)
    ]
    _replace(
        con,
        "ops.cost_tag_keys",
        pd.DataFrame(keys, columns=["role", "tag_key", "rank"]),
        {"role": "varchar", "tag_key": "varchar", "rank": "integer"},
    )
    rates = [(cfg.reporting_currency, 1.0)] + [
        (c, r) for c, r in cfg.fx_rates.items() if c != cfg.reporting_currency
    ]
    _replace(
        con,
        "ops.fx_rates",
        pd.DataFrame(rates, columns=["currency", "rate"]),
        {"currency": "varchar", "rate": "double"},
    )
    _replace(
        con,
        "ops.namespace_services",
        pd.DataFrame(list(cfg.namespace_services.items()), columns=["namespace", "service"]),
        {"namespace": "varchar", "service": "varchar"},
    )
    return {"cost_rules": len(rules), "fx_rates": len(rates)}


def ensure_cost_tables(con: duckdb.DuckDBPyConnection, cfg: CostConfig | Path | None = None) -> None:
    """Write the cost config tables (``cfg``, or the costs.yaml beside the KPI config path given) and
    make every raw cost table exist. Existing raw tables are left alone, so this never undoes a cost
    load of the run."""
    if not isinstance(cfg, CostConfig):
        cfg = load_cost_config(cost_config_path_for(cfg))
    for schema in ("raw", "ops"):
        con.execute(f"create schema if not exists {schema}")
    ensure_raw_tables(con, COST_RAW_TABLES)
    write_cost_config_tables(con, cfg)


def default_window(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """[first day of the month 12 months ago, today): the default sync window of the API sources."""
    today = today or dt.datetime.now(dt.UTC).date()
    year, month = today.year, today.month - 12
    if month < 1:
        year, month = year - 1, month + 12
    return dt.date(year, month, 1), today
