"""The cost configuration (config/costs.yaml): reporting currency, exchange rates, charge-category
rules, attribution tag keys, CI-compute and deployment rules, and the cost sources.

It is read from the ``costs.yaml`` beside the KPI config a run uses (so a copy of config/ moves
together), else from the shipped config/costs.yaml. ``write_cost_config_tables`` puts the rules into
ops tables the SQL models join; ``ensure_cost_tables`` makes every raw and ops cost table exist (empty)
so the SQL models also run when no cost source is configured. Pure Python: no Dagster.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from platform_kpi.catalog import ConfigError, yaml_error_text
from platform_kpi.raw_tables import ensure_raw_tables
from platform_kpi.settings import bundled

DEFAULT_COST_CONFIG = bundled("config") / "costs.yaml"
CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
COST_KINDS = ("ci_compute", "deployment")
RULE_FIELDS = ("sub_account_ids", "service_names", "service_categories", "providers", "resource_ids", "tags")
# The core.costs column each list condition matches.
RULE_COLUMNS = {
    "sub_account_ids": "sub_account_id",
    "service_names": "service_name",
    "service_categories": "service_category",
    "providers": "provider",
    "resource_ids": "resource_id",
}
_CURRENCY = re.compile(r"^[A-Z]{3}$")

# Raw tables of the cost sources (declared, with their columns, in sql/raw/_sources.yml).
COST_RAW_TABLES = ("focus__costs", "focus__load_errors", "aws_ce__costs", "opencost__allocations", "prometheus__samples")


@dataclass(frozen=True)
class CostConfig:
    path: Path
    reporting_currency: str = "USD"
    fx_rates: dict[str, float] = field(default_factory=dict)
    unit_cost_categories: tuple[str, ...] = ("Usage",)
    cloud_cost_categories: tuple[str, ...] = CHARGE_CATEGORIES
    service_tag_keys: tuple[str, ...] = ("service", "app", "application")
    team_tag_keys: tuple[str, ...] = ("team", "owner")
    namespace_services: dict[str, str] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)

    def source(self, name: str) -> dict[str, Any]:
        return dict(self.sources.get(name) or {})

    def focus_paths(self, files_dir: Path | None) -> list[Path]:
        """FOCUS export paths: the configured ones (relative to this file) and ``files_dir/focus``."""
        paths = [(self.path.parent / p).resolve() for p in self.source("focus").get("paths") or []]
        if files_dir is not None and (files_dir / "focus").is_dir():
            paths.append(files_dir / "focus")
        return paths


def cost_config_path_for(kpi_config: Path | None) -> Path:
    """The costs.yaml beside ``kpi_config`` when there is one, else the shipped config/costs.yaml."""
    if kpi_config is not None:
        beside = Path(kpi_config).with_name("costs.yaml")
        if beside.is_file():
            return beside
    return DEFAULT_COST_CONFIG


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _categories(value: Any, where: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    cats = _str_list(value, where)
    by_lower = {c.lower(): c for c in CHARGE_CATEGORIES}
    bad = [c for c in cats if c.lower() not in by_lower]
    if bad:
        raise ConfigError(
            f"{where}: unknown ChargeCategory {', '.join(bad)} (known: {', '.join(CHARGE_CATEGORIES)})"
        )
    return tuple(by_lower[c.lower()] for c in cats)


def load_cost_config(path: Path | None = None) -> CostConfig:
    """The cost configuration at ``path`` (default config/costs.yaml), validated."""
    path = Path(path or DEFAULT_COST_CONFIG)
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error_text(path, exc)) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    currency = str(doc.get("reporting_currency") or "USD").strip().upper()
    if not _CURRENCY.match(currency):
        raise ConfigError(f"{path}: reporting_currency {currency!r} is not a three-letter ISO 4217 code")
    rates: dict[str, float] = {}
    for code, rate in (doc.get("fx_rates") or {}).items():
        where = f"{path}: fx_rates.{code}"
        if not _CURRENCY.match(str(code).upper()):
            raise ConfigError(f"{where}: not a three-letter ISO 4217 code")
        if not isinstance(rate, int | float) or isinstance(rate, bool) or rate <= 0:
            raise ConfigError(f"{where}: the rate must be a positive number")
        rates[str(code).upper()] = float(rate)
    cats = doc.get("charge_categories") or {}
    attribution = doc.get("attribution") or {}
    namespace_services = attribution.get("namespace_services") or {}
    if not isinstance(namespace_services, dict):
        raise ConfigError(f"{path}: attribution.namespace_services must map namespace to service")
    rules: dict[str, dict[str, Any]] = {}
    for kind in COST_KINDS:
        spec = doc.get(kind) or {}
        if not isinstance(spec, dict):
            raise ConfigError(f"{path}: {kind} must be a mapping of conditions")
        unknown = sorted(set(spec) - set(RULE_FIELDS))
        if unknown:
            raise ConfigError(
                f"{path}: {kind}.{unknown[0]} is not a condition (known: {', '.join(RULE_FIELDS)})"
            )
        rule: dict[str, Any] = {}
        for key in RULE_FIELDS[:-1]:
            rule[key] = _str_list(spec.get(key), f"{path}: {kind}.{key}")
        tags = spec.get("tags") or {}
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise ConfigError(f"{path}: {kind}.tags must map tag key to a pattern")
        rule["tags"] = {str(k): v for k, v in tags.items()}
        rules[kind] = rule
    sources = doc.get("sources") or {}
    if not isinstance(sources, dict):
        raise ConfigError(f"{path}: sources must be a mapping")
    return CostConfig(
        path=path,
        reporting_currency=currency,
        fx_rates=rates,
        unit_cost_categories=_categories(
            cats.get("unit_costs"), f"{path}: charge_categories.unit_costs", ("Usage",)
        ),
        cloud_cost_categories=_categories(
            cats.get("cloud_cost"), f"{path}: charge_categories.cloud_cost", CHARGE_CATEGORIES
        ),
        service_tag_keys=_str_list(
            attribution.get("service_tag_keys"), f"{path}: attribution.service_tag_keys"
        )
        or ("service",),
        team_tag_keys=_str_list(attribution.get("team_tag_keys"), f"{path}: attribution.team_tag_keys")
        or ("team",),
        namespace_services={str(k): str(v) for k, v in namespace_services.items()},
        rules=rules,
        sources={str(k): (v or {}) for k, v in sources.items()},
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
        rule = cfg.rules.get(kind) or {}
        for key in RULE_FIELDS[:-1]:
            column = RULE_COLUMNS[key]
            for pattern in rule.get(key, ()):
                rules.append((kind, priority, column, None, pattern))
        for tag, pattern in (rule.get("tags") or {}).items():
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


def ensure_cost_tables(con: duckdb.DuckDBPyConnection, kpi_config: Path | None = None) -> None:
    """Write the cost config tables (from the costs.yaml beside ``kpi_config``) and make every raw cost
    table exist. Existing raw tables are left alone, so this never undoes a cost load of the run."""
    for schema in ("raw", "ops"):
        con.execute(f"create schema if not exists {schema}")
    ensure_raw_tables(con, COST_RAW_TABLES)
    write_cost_config_tables(con, load_cost_config(cost_config_path_for(kpi_config)))


def default_window(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """[first day of the month 12 months ago, today): the default sync window of the API sources."""
    today = today or dt.datetime.now(dt.UTC).date()
    year, month = today.year, today.month - 12
    if month < 1:
        year, month = year - 1, month + 12
    return dt.date(year, month, 1), today
