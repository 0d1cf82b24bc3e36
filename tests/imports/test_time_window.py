"""Times outside the allowed window (config: earliest_event_date, future_tolerance_hours) are
quarantined with the time and the bound, so one mistyped year cannot stretch the KPI series (and the
run) across centuries: the month and week spines span only the data that was kept."""

from __future__ import annotations

import pytest

from platform_kpi.config import ConfigError, load_rules
from tests.conftest import bld, builds, changes, chg, dep, deployments, inc, incidents, query

# build_warehouse runs "now" = 2030-01-01 00:00 (tests.conftest.AS_OF); the default window is
# [2000-01-01, 2030-01-02 00:00].
FILES = {
    "deployments.csv": deployments(
        dep("d1", "2024-01-02T00:00:00Z"),  # line 2: kept
        dep("d2", "2999-11-01T00:00:00Z"),  # line 3: far future
        dep("d3", "2024-01-03T00:00:00Z", started_at="0001-01-01T00:00:00Z"),  # line 4: year 1
        dep("d4", "9999-12-31T23:59:59Z"),  # line 5: the last representable second
        dep("d5", "2030-01-01T12:00:00Z"),  # line 6: 12 h after the run: within the 24 h tolerance
    ),
    "changes.csv": changes(
        chg("c1", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"),
        chg("c2", "2024-01-01T00:00:00Z", "2999-01-01T00:00:00Z"),
    ),
    "incidents.csv": incidents(
        inc("i1", "2024-01-05T00:00:00Z", "2024-01-05T01:00:00Z"),
        inc("i2", "2024-01-05T00:00:00Z", "2999-01-05T01:00:00Z"),
    ),
    "builds.csv": builds(
        bld("b1", "2024-01-02T00:00:00Z", "2024-01-02T00:10:00Z"),
        bld("b2", "1970-01-01T00:00:00Z", "2024-01-02T00:10:00Z"),
    ),
}


def test_times_outside_the_window_are_quarantined_and_the_spine_spans_kept_data(warehouse_of):
    wh = warehouse_of(FILES)
    got = query(wh, "select file, line, reason from ops.quarantine order by file, line")
    future = "is in the future (after 2030-01-02 00:00 UTC, the run time + future_tolerance_hours)"
    assert [(r["file"], r["line"], r["reason"]) for r in got] == [
        ("builds.csv", 3, "started_at 1970-01-01 00:00:00 is before 2000-01-01 (earliest_event_date)"),
        ("changes.csv", 3, f"merged_at 2999-01-01 00:00:00 {future}"),
        ("deployments.csv", 3, f"finished_at 2999-11-01 00:00:00 {future}"),
        ("deployments.csv", 4, "started_at 0001-01-01 00:00:00 is before 2000-01-01 (earliest_event_date)"),
        ("deployments.csv", 5, f"finished_at 9999-12-31 23:59:59 {future}"),
        ("incidents.csv", 3, f"resolved_at 2999-01-05 01:00:00 {future}"),
    ]
    months = query(
        wh,
        "select min(month) as first, max(month) as last, count(distinct month) as n from marts.kpi_monthly",
    )
    assert (str(months[0]["first"]), str(months[0]["last"])) == ("2024-01-01", "2030-01-01")
    # d5 (2030-01-01) is kept, so the spine runs from January 2024 to January 2030: 73 months, not 12,000.
    assert months[0]["n"] == 73
    weeks = query(wh, "select min(week) as first, max(week) as last from marts.kpi_weekly")
    assert (str(weeks[0]["first"]), str(weeks[0]["last"])) == ("2024-01-01", "2029-12-31")


def test_the_window_is_configurable(warehouse_of):
    config = "earliest_event_date: 2024-01-03\nfuture_tolerance_hours: 0\n"
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-01-02T00:00:00Z"),  # before 2024-01-03
                dep("d2", "2024-01-03T00:00:00Z"),  # kept: the earliest allowed time itself
                dep("d3", "2030-01-01T00:00:00Z"),  # kept: the run time itself
                dep("d4", "2030-01-01T00:00:01Z"),  # one second after the run, with no tolerance
            )
        },
        config,
    )
    got = query(wh, "select line, reason from ops.quarantine order by line")
    assert [(r["line"], r["reason"]) for r in got] == [
        (2, "finished_at 2024-01-02 00:00:00 is before 2024-01-03 (earliest_event_date)"),
        (
            5,
            "finished_at 2030-01-01 00:00:01 is in the future (after 2030-01-01 00:00 UTC, the run time "
            "+ future_tolerance_hours)",
        ),
    ]
    settings = query(
        wh,
        "select earliest_event_at, latest_event_at, future_tolerance_hours, row_drop_threshold "
        "from ops.kpi_settings",
    )[0]
    assert (str(settings["earliest_event_at"]), str(settings["latest_event_at"])) == (
        "2024-01-03 00:00:00",
        "2030-01-01 00:00:00",
    )
    assert (settings["future_tolerance_hours"], settings["row_drop_threshold"]) == (0.0, 0.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "earliest_event_date: someday\n",
            "earliest_event_date: must be a date (YYYY-MM-DD), got the text 'someday'",
        ),
        (
            "earliest_event_date: 2024-02-30\n",
            "(file): not valid YAML: day is out of range for month. Fix the file there and run again.",
        ),
        ("future_tolerance_hours: -1\n", "future_tolerance_hours: must be >= 0, got the number -1"),
        ("future_tolerance_hours: soon\n", "future_tolerance_hours: must be a number, got the text 'soon'"),
        (
            "row_drop_threshold: 1.5\n",
            "row_drop_threshold: must be between 0 and 1 (a share of the previous rows), got the number 1.5",
        ),
        ("row_drop_threshold: true\n", "row_drop_threshold: must be a number, got true"),
    ],
)
def test_bad_window_and_threshold_rules_are_config_errors(tmp_path, text, message):
    path = tmp_path / "kpi.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_rules(path)
    assert str(err.value) == f"{path}: {message}"
