"""The KPI catalog as the pipeline, the dashboard and the report read it.

One catalog file (catalog/kpis.yaml, validated by platform_kpi.config) defines every KPI; the SQL layer,
the checks, the dashboard and the report all read it, so a KPI has one name and one definition everywhere.
Also how a value is written for a reader (``format_value``) and how it moved (``change``).
Pure Python: no Dagster, safe to import from the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the dashboard imports this module for format_value: keep its import light
    from platform_kpi.config import Catalog, Kpi


TIERS = ("elite", "high", "medium", "low")
# The four DORA keys as leadership reads them (tiles, report summary), in reading order.
DORA_KEYS = (
    "deployment_frequency",
    "lead_time_for_changes_p50_hours",
    "change_failure_rate",
    "failed_deployment_recovery_time_p50_hours",
)


def _shipped() -> Catalog:
    from platform_kpi.config import shipped_catalog

    return shipped_catalog()


def load_catalog(path: Path | None = None) -> list[Kpi]:
    """Every KPI of the catalog (default: the shipped catalog/kpis.yaml), in catalog order, validated."""
    from platform_kpi.config import load_catalog_file

    return list((load_catalog_file(path) if path is not None else _shipped()).kpis)


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
