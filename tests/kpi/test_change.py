"""One "change vs previous" for the report, its cost section and the dashboard tiles.

The expected strings are what the three formatters it replaced wrote for the same inputs (report
``_change``, cost report ``_change``, dashboard ``change_text``), so every sentence, table cell and
tile delta reads as before."""

from __future__ import annotations

import pytest

from platform_kpi.catalog import change
from platform_kpi.reporting import costs

NAN = float("nan")

# (value, before, unit, better) -> report phrase, compact report phrase, size used to rank movers,
# dashboard delta, cost-report phrase (costs use it for currency amounts only)
CASES = [
    (
        (0.2, 0.1, "ratio", "lower"),
        "up 10.0 percentage points (worse)",
        "up 10.0 pp (worse)",
        1.0,
        "+10.0 pp",
        None,
    ),
    ((0.1, 0.1004, "ratio", "lower"), "unchanged", "unchanged", 0.0, "-0.0 pp", None),
    (
        (0.95, 0.9, "ratio", "higher"),
        "up 5.0 percentage points (better)",
        "up 5.0 pp (better)",
        5 / 90,
        "+5.0 pp",
        None,
    ),
    ((0.0, 0.0, "ratio", "higher"), "unchanged", "unchanged", 0.0, "+0.0 pp", None),
    ((12, 10, "deployments", "higher"), "up 20% (better)", "up 20% (better)", 0.2, "+20%", None),
    ((10, 12, "hours", "lower"), "down 17% (better)", "down 17% (better)", 1 / 6, "-17%", None),
    ((100.4, 100, "hours", "lower"), "unchanged", "unchanged", 0.0, "+0%", None),
    ((5, 0, "deployments", "higher"), "up from 0", "up from 0", 1.0, "new", None),
    ((0, 0, "deployments", "higher"), None, None, None, "±0%", None),
    ((-1, 0, "currency", "lower"), None, None, None, "new", ""),
    (
        (90, 120, "currency", "lower"),
        "down 25% (better)",
        "down 25% (better)",
        0.25,
        "-25%",
        " (down 25% vs previous month)",
    ),
    (
        (120.4, 120, "currency", "lower"),
        "unchanged",
        "unchanged",
        0.0,
        "+0%",
        " (unchanged vs previous month)",
    ),
    (
        (130, 120, "currency", "lower"),
        "up 8% (worse)",
        "up 8% (worse)",
        10 / 120,
        "+8%",
        " (up 8% vs previous month)",
    ),
]


@pytest.mark.parametrize(("args", "words", "compact", "size", "signed", "cost"), CASES)
def test_change_reads_as_the_three_formatters_did(args, words, compact, size, signed, cost):
    value, before, unit, better = args
    moved = change(value, before, unit)
    assert moved.words(better) == words
    assert moved.words(better, compact=True) == compact
    if words is not None:
        assert moved.size == pytest.approx(size)
    assert moved.signed() == signed
    if cost is not None:
        assert costs._change(value, before) == cost


@pytest.mark.parametrize(("value", "before"), [(None, 3), (3, None), (3, NAN), (NAN, 3)])
def test_no_change_without_both_values(value, before):
    assert change(value, before, "hours") is None
    assert costs._change(value, before) == ""
