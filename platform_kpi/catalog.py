"""The KPI catalog, its groups, the DORA benchmark clusters and the user's KPI rules and targets.

One catalog file (catalog/kpis.yaml) defines every KPI and the groups they are shown in (the DORA
keys, each dashboard page's tiles, the report's tables); the SQL layer, the checks, the dashboard and
the report all read it through this module or the tables it writes (marts.kpi_definitions,
marts.kpi_groups), so a KPI has one name, one definition and one place in each view. Also how a value
is written for a reader (``format_value``) and how it moved (``change``).
Pure Python: no Dagster, safe to import from the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the dashboard imports this module for format_value: keep its import light
    import duckdb

    from platform_kpi.config import Catalog, Kpi


def _shipped() -> Catalog:
    from platform_kpi.config import shipped_catalog

    return shipped_catalog()


def load_catalog(path: Path | None = None) -> list[Kpi]:
    """Every KPI of the catalog (default: the shipped catalog/kpis.yaml), in catalog order, validated."""
    from platform_kpi.config import load_catalog_file

    return list((load_catalog_file(path) if path is not None else _shipped()).kpis)


def kpi_group(group_id: str, catalog: Catalog | None = None) -> tuple[str, ...]:
    """The KPI ids of a catalog group (e.g. ``throughput``: DORA's three throughput metrics), in reading order."""
    return (catalog or _shipped()).group(group_id).kpis


def tiers(catalog: Catalog | None = None) -> tuple[str, ...]:
    """The DORA performance tiers, best first (elite, high, medium, low)."""
    return (catalog or _shipped()).tiers


def group_rows(catalog: Catalog) -> list[dict[str, Any]]:
    """marts.kpi_groups: one row per KPI of each group, groups and their KPIs in reading order."""
    return [
        {
            "group_id": g.id,
            "group_name": g.name,
            "group_description": " ".join(g.description.split()),
            "headline": g.headline,
            "group_order": gi,
            "kpi_id": kid,
            "position": ki,
        }
        for gi, g in enumerate(catalog.groups, start=1)
        for ki, kid in enumerate(g.kpis, start=1)
    ]


def read_groups(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, ...]]:
    """The KPI groups a warehouse was built with (marts.kpi_groups): group id -> KPI ids in order.

    A warehouse published before groups were written has none: the shipped catalog's groups then."""
    if not _has_table(con, "marts", "kpi_groups"):
        return {g.id: g.kpis for g in _shipped().groups}
    out: dict[str, tuple[str, ...]] = {}
    for group_id, kpi_id in con.execute(
        "select group_id, kpi_id from marts.kpi_groups order by group_order, position"
    ).fetchall():
        out[group_id] = (*out.get(group_id, ()), kpi_id)
    return out


def read_tiers(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """The DORA tiers of a warehouse's benchmarks (marts.dora_benchmarks), best first."""
    rows = con.execute(
        "select tier from marts.dora_benchmarks group by tier order by min(tier_rank), tier"
    ).fetchall()
    return tuple(r[0] for r in rows) or _shipped().tiers


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


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
    if unit == "days":
        return f"{value:.1f} d"
    if unit == "score":  # a survey mean or an NPS
        return f"{value:.1f}"
    if unit.endswith("/week"):  # a rate per week (alerts per on-call week)
        return f"{value:.1f}"
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
