"""The KPI catalog, the DORA benchmark clusters and the user's KPI rules and targets.

One catalog file (catalog/kpis.yaml) defines every KPI; the SQL layer, the checks, the dashboard and
the report all read it through this module, so a KPI has one name and one definition everywhere.
Also how a value is written for a reader (``format_value``) and how it moved (``change``).
Pure Python: no Dagster, safe to import from the dashboard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from platform_kpi.settings import CATALOG_DIR, DEFAULT_CONFIG

# ratio: sum(x) / sum(w) over the observations (w is the denominator, e.g. builds for cost per build).
AGGREGATES = {"sum", "mean", "p50", "p90", "p95", "ratio"}
GRAINS = {"monthly", "weekly"}
TIERS = ("elite", "high", "medium", "low")
# The four DORA keys as leadership reads them (tiles, report summary), in reading order.
DORA_KEYS = (
    "deployment_frequency",
    "lead_time_for_changes_p50_hours",
    "change_failure_rate",
    "failed_deployment_recovery_time_p50_hours",
)


class ConfigError(ValueError):
    """A catalog, benchmark or config file is wrong; the message names the file and the field."""


@dataclass(frozen=True)
class Kpi:
    id: str
    name: str
    unit: str
    better: str
    measure: str
    aggregate: str
    grains: tuple[str, ...]
    empty: str
    tiered: bool
    definition: str


@dataclass(frozen=True)
class KpiRules:
    production_environment_pattern: str = r"^(prod|production)([-_.].*)?$"
    incident_link_window_hours: float = 24.0
    default_branches: tuple[str, ...] = ("main", "master")
    benchmark_year: int = 2024
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


def load_catalog(path: Path | None = None) -> list[Kpi]:
    """Every KPI of the catalog, in catalog order, validated."""
    path = path or CATALOG_DIR / "kpis.yaml"
    doc = _read_yaml(path)
    kpis: list[Kpi] = []
    seen: set[str] = set()
    for i, entry in enumerate((doc or {}).get("kpis", [])):
        where = f"{path}: kpis[{i}]"
        missing = [
            k
            for k in ("id", "name", "unit", "better", "measure", "aggregate", "definition")
            if k not in entry
        ]
        if missing:
            raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
        kid = entry["id"]
        if kid in seen:
            raise ConfigError(f"{where}: duplicate id {kid!r}")
        seen.add(kid)
        if entry["aggregate"] not in AGGREGATES:
            raise ConfigError(f"{where} ({kid}): aggregate must be one of {sorted(AGGREGATES)}")
        if entry["better"] not in ("higher", "lower"):
            raise ConfigError(f"{where} ({kid}): better must be 'higher' or 'lower'")
        grains = tuple(entry.get("grains", ["monthly"]))
        if not set(grains) <= GRAINS:
            raise ConfigError(f"{where} ({kid}): grains must be among {sorted(GRAINS)}")
        empty = entry.get("empty") or "null"  # YAML reads a bare null as None
        if empty not in ("zero", "null"):
            raise ConfigError(f"{where} ({kid}): empty must be 'zero' or 'null'")
        kpis.append(
            Kpi(
                id=kid,
                name=entry["name"],
                unit=entry["unit"],
                better=entry["better"],
                measure=entry["measure"],
                aggregate=entry["aggregate"],
                grains=grains,
                empty=empty,
                tiered=bool(entry.get("tiered", False)),
                definition=" ".join(str(entry["definition"]).split()),
            )
        )
    if not kpis:
        raise ConfigError(f"{path}: no kpis defined")
    return kpis


def load_rules(path: Path | None = None, catalog: list[Kpi] | None = None) -> KpiRules:
    """The user's KPI rules and targets, validated against the catalog."""
    path = path or DEFAULT_CONFIG
    doc = _read_yaml(path) or {}
    catalog = catalog or load_catalog()
    ids = {k.id for k in catalog}
    defaults = KpiRules()
    pattern = str(doc.get("production_environment_pattern", defaults.production_environment_pattern))
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{path}: production_environment_pattern is not a valid regex: {exc}") from exc
    try:
        window = float(doc.get("incident_link_window_hours", defaults.incident_link_window_hours))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: incident_link_window_hours must be a number") from exc
    if window < 0:
        raise ConfigError(f"{path}: incident_link_window_hours must be >= 0")
    branches = doc.get("default_branches", list(defaults.default_branches))
    if not isinstance(branches, list) or not all(isinstance(b, str) for b in branches):
        raise ConfigError(f"{path}: default_branches must be a list of branch names")
    year = int(doc.get("benchmark_year", defaults.benchmark_year))
    targets = doc.get("targets") or {}
    for kid, spec in targets.items():
        where = f"{path}: targets.{kid}"
        if kid not in ids:
            raise ConfigError(f"{where}: unknown KPI id (known: {', '.join(sorted(ids))})")
        kind = (spec or {}).get("kind")
        if kind == "absolute":
            if spec.get("op") not in ("<=", ">=", "<", ">") or not isinstance(spec.get("value"), int | float):
                raise ConfigError(f"{where}: absolute targets need op (<=, >=, <, >) and a numeric value")
        elif kind == "relative":
            if spec.get("baseline") not in ("previous_year", "previous_month") or not isinstance(
                spec.get("change"), int | float
            ):
                raise ConfigError(
                    f"{where}: relative targets need baseline (previous_year|previous_month) and a numeric change"
                )
        elif kind == "trend":
            if spec.get("direction") not in ("up", "down"):
                raise ConfigError(f"{where}: trend targets need direction up or down")
            if not isinstance(spec.get("months", 3), int) or spec.get("months", 3) < 1:
                raise ConfigError(f"{where}: trend months must be a positive whole number")
        else:
            raise ConfigError(f"{where}: kind must be absolute, relative or trend")
    return KpiRules(
        production_environment_pattern=pattern,
        incident_link_window_hours=window,
        default_branches=tuple(branches),
        benchmark_year=year,
        targets=targets,
    )


def load_benchmarks(year: int, catalog: list[Kpi] | None = None) -> list[dict[str, Any]]:
    """Tier bounds of one DORA report year as rows (kpi_id, tier, tier_rank, better, bound)."""
    path = CATALOG_DIR / "benchmarks" / f"dora_{year}.yaml"
    if not path.exists():
        have = sorted(p.stem.removeprefix("dora_") for p in (CATALOG_DIR / "benchmarks").glob("dora_*.yaml"))
        raise ConfigError(f"benchmark_year {year}: no file {path.name}; available years: {', '.join(have)}")
    doc = _read_yaml(path)
    catalog = catalog or load_catalog()
    by_id = {k.id: k for k in catalog}
    rows = []
    for kid, spec in (doc.get("metrics") or {}).items():
        if kid not in by_id:
            raise ConfigError(f"{path}: metrics.{kid} is not a KPI id of the catalog")
        if spec.get("better") != by_id[kid].better:
            raise ConfigError(
                f"{path}: metrics.{kid}.better disagrees with the catalog ({by_id[kid].better})"
            )
        tiers = spec.get("tiers") or {}
        if tuple(tiers) != TIERS:
            raise ConfigError(f"{path}: metrics.{kid}.tiers must list {', '.join(TIERS)} in that order")
        for rank, (tier, bound) in enumerate(tiers.items(), start=1):
            rows.append(
                {
                    "benchmark_year": int(doc["year"]),
                    "kpi_id": kid,
                    "tier": tier,
                    "tier_rank": rank,
                    "better": spec["better"],
                    "bound": None if bound is None else float(bound),
                }
            )
    return rows


def kpi_by_id(catalog: list[Kpi] | None = None) -> dict[str, Kpi]:
    return {k.id: k for k in (catalog or load_catalog())}


def format_value(value: float | None, unit: str) -> str:
    """A KPI value the way a reader expects it: percentages, hours or days, minutes, counts."""
    if value is None or value != value:  # None or NaN
        return "n/a"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "hours":
        return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"
    if unit == "seconds":
        return f"{value / 60:.1f} min"
    if unit == "fraction":  # a share that may exceed 100% (usage above requests)
        return f"{value * 100:.1f}%"
    if unit == "currency":  # in the reporting currency (ops.cost_settings)
        return f"{value:,.2f}"
    return f"{value:,.0f}"


@dataclass(frozen=True)
class Change:
    """How a KPI value moved against an earlier one (the previous month, the same month last year).

    ``diff`` is in percentage points for ratio KPIs, else a percentage of the earlier value; None
    when the earlier value was 0 (no percentage exists)."""

    value: float
    before: float
    unit: str
    diff: float | None

    @property
    def points(self) -> bool:
        return self.unit == "ratio"

    @property
    def size(self) -> float:
        """How big the move is, to rank movers: relative to the earlier value (1.0 = doubled); 0 when
        unchanged."""
        if self.unchanged:
            return 0.0
        if self.diff is None:
            return 1.0 if self.value > 0 else 0.0
        if self.points:
            return abs(self.diff) / max(abs(self.before) * 100, 1.0)
        return abs(self.diff) / 100

    @property
    def unchanged(self) -> bool:
        """Too small to mention: under 0.05 points, or under half a percent."""
        if self.diff is None:
            return False
        return abs(self.diff) < (0.05 if self.points else 0.5)

    def signed(self) -> str:
        """'+3.1 pp' for ratios, '+12%' otherwise, 'new' (or '±0%') after a zero: a dashboard delta."""
        if self.points:
            return f"{self.diff:+.1f} pp"
        if self.diff is None:
            return "new" if self.value else "±0%"
        return f"{self.diff:+.0f}%"

    def words(self, better: str | None = None, *, compact: bool = False) -> str | None:
        """'up 12% (worse)', 'down 1.5 percentage points (better)', 'unchanged', 'up from 0' (None
        after a zero that stayed zero); without ``better``, no verdict. ``compact`` says 'pp'."""
        if self.diff is None:
            return "up from 0" if self.value > 0 else None
        if self.unchanged:
            return "unchanged"
        if self.points:
            amount = f"{abs(self.diff):.1f} {'pp' if compact else 'percentage points'}"
        else:
            amount = f"{abs(self.diff):.0f}%"
        text = f"{'up' if self.diff > 0 else 'down'} {amount}"
        if better is not None:
            good = (self.diff < 0) == (better == "lower")
            text += f" ({'better' if good else 'worse'})"
        return text


def change(value: float | None, before: float | None, unit: str) -> Change | None:
    """The move from ``before`` to ``value`` of a KPI in ``unit``; None when either is missing."""
    if _missing(value) or _missing(before):
        return None
    value, before = float(value), float(before)
    if unit == "ratio":
        diff: float | None = (value - before) * 100
    elif before == 0:
        diff = None
    else:
        diff = (value - before) / abs(before) * 100
    return Change(value, before, unit, diff)


def _missing(value: object) -> bool:
    try:
        return value is None or bool(value != value)  # None or NaN
    except TypeError:  # pandas.NA
        return True
