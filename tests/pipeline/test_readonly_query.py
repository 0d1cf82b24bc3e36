"""The runner of ad-hoc SQL (platform_kpi.readonly_query): one read-only query in a capped process of its
own, cut off at its time and memory limits or when the caller stops waiting, with results pandas and
Streamlit can show."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from platform_kpi import readonly_query
from platform_kpi.readonly_query import QueryRefused, QueryStopped, run_query, unique_names
from platform_kpi.settings import SqlLimits
from tests.conftest import build_warehouse
from tests.sql_corpus import ALLOWED, ALLOWED_ANY_ROWS, REFUSED

LIMITS = SqlLimits(timeout_sec=60, memory_limit="512MB", max_rows=100, threads=1, max_concurrent=4)
# Minutes of work for one thread, and no memory to speak of.
RUNAWAY = "select sum(x % 7) from range(1000000000000000) t(x)"


@pytest.fixture(scope="module")
def warehouse(module_tmp: Path) -> Path:
    return build_warehouse(module_tmp, {})


def query_processes(parent: int | None = None) -> list[int]:
    """Live query processes (python -m platform_kpi.readonly_query) whose parent is ``parent``, but for
    the idle spare a long-lived caller keeps ready (keep_spare=True, as the dashboard tests in this
    process do): it has run no query."""
    parent = os.getpid() if parent is None else parent
    spare = readonly_query._spare.pid if parent == os.getpid() and readonly_query._spare is not None else None
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if (
            b"platform_kpi.readonly_query" in cmdline
            and int(fields[1]) == parent
            and fields[0] != "Z"
            and int(entry.name) != spare
        ):
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize(("query", "why"), REFUSED, ids=[q[:40] for q, _ in REFUSED])
def test_security_corpus_is_refused(warehouse: Path, tmp_path: Path, query: str, why: str) -> None:
    with pytest.raises(QueryRefused, match=why.replace("(", r"\(")):
        run_query(warehouse, query.format(tmp=tmp_path), LIMITS)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("query", "rows"), ALLOWED, ids=[q[:40] for q, _ in ALLOWED])
def test_legitimate_queries_still_work(warehouse: Path, query: str, rows: list[dict]) -> None:
    assert run_query(warehouse, query, LIMITS).frame.to_dict("records") == rows


@pytest.mark.parametrize("query", ALLOWED_ANY_ROWS)
def test_describe_show_summarize_explain_give_rows(warehouse: Path, query: str) -> None:
    assert len(run_query(warehouse, query, LIMITS).frame) > 0


def test_a_runaway_query_is_killed_at_its_time_limit(warehouse: Path) -> None:
    started = time.monotonic()
    with pytest.raises(QueryStopped, match="Stopped after 3 s"):
        run_query(warehouse, RUNAWAY, SqlLimits(timeout_sec=3, max_concurrent=4))
    assert time.monotonic() - started < 3 + 2
    assert query_processes() == []


def test_a_query_past_its_memory_limit_is_stopped(warehouse: Path) -> None:
    with pytest.raises(QueryStopped, match=r"more memory than its limit \(200MB\)"):
        run_query(warehouse, "select list(x) from range(100000000) t(x)", SqlLimits(memory_limit="200MB"))
    assert query_processes() == []


def test_the_query_dies_when_the_caller_stops_waiting(warehouse: Path) -> None:
    """What the SQL page does when Streamlit stops its script (a rerun, a closed tab)."""

    class TabClosed(Exception):
        pass

    seen: list[list[int]] = []

    def on_wait(seconds: float) -> None:
        seen.append(query_processes())
        if seconds > 1.5:
            raise TabClosed

    started = time.monotonic()
    with pytest.raises(TabClosed):
        run_query(warehouse, RUNAWAY, LIMITS, on_wait=on_wait)
    assert time.monotonic() - started < 1.5 + 2
    assert seen[-1], "the query process was running while the caller waited"
    assert query_processes() == []


def test_the_query_dies_with_its_caller(warehouse: Path, tmp_path: Path) -> None:
    """A dashboard killed outright (no finally runs) leaves no query running on."""
    script = tmp_path / "caller.py"
    script.write_text(
        textwrap.dedent(f"""
        from platform_kpi.readonly_query import run_query
        from platform_kpi.settings import SqlLimits
        run_query({str(warehouse)!r}, {RUNAWAY!r}, SqlLimits(timeout_sec=None))
    """)
    )
    caller = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.monotonic() + 60
        while not (children := query_processes(caller.pid)):
            assert time.monotonic() < deadline and caller.poll() is None
            time.sleep(0.1)
        os.kill(caller.pid, signal.SIGKILL)
        caller.wait()
        deadline = time.monotonic() + 5
        while any(Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) for pid in children):
            assert time.monotonic() < deadline, "the query outlived its caller"
            time.sleep(0.1)
    finally:
        if caller.poll() is None:
            caller.kill()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_rows_are_capped_and_the_cut_is_reported(warehouse: Path) -> None:
    result = run_query(warehouse, "select x from range(1000) t(x) order by x desc", SqlLimits(max_rows=7))
    assert result.truncated and result.frame["x"].tolist() == [999, 998, 997, 996, 995, 994, 993]
    whole = run_query(warehouse, "select x from range(7) t(x)", SqlLimits(max_rows=7))
    assert not whole.truncated and len(whole.frame) == 7


def test_duplicate_names_and_exotic_types_come_back_displayable(warehouse: Path) -> None:
    result = run_query(
        warehouse,
        "select 1 as a, 2 as a, 'x' as A, sum(x) as total, 170141183460469231731687303715884105727::hugeint as big, "
        "340282366920938463463374607431768211455::uhugeint as ubig, interval 90 minute as gap, [1, 2] as list, "
        "{'k': 1} as rec, '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid as id, date 'infinity' as forever, "
        "date '2026-10-01' as month, 12.50::decimal(5, 2) as price from range(10) t(x)",
        LIMITS,
    )
    frame = result.frame
    assert list(frame.columns) == [
        "a",
        "a_2",
        "A_3",
        "total",
        "big",
        "ubig",
        "gap",
        "list",
        "rec",
        "id",
        "forever",
        "month",
        "price",
    ]
    assert result.renamed == {"a_2": "a", "A_3": "A"}
    row = frame.iloc[0].to_dict()
    assert (
        row["total"] == 45 and frame["total"].dtype == "int64"
    )  # sum() is a HUGEINT: an integer where it fits
    assert row["big"] == "170141183460469231731687303715884105727"
    assert row["ubig"] == "340282366920938463463374607431768211455"  # not wrapped to a negative decimal
    assert (row["gap"], row["list"], row["rec"], row["id"]) == (
        "01:30:00",
        "[1, 2]",
        "{'k': 1}",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    )
    assert row["forever"] == "infinity"
    assert pd.Timestamp(row["month"]) == pd.Timestamp("2026-10-01") and row["price"] == Decimal("12.50")
    assert result.as_text == ["big", "ubig", "gap", "list", "rec", "id", "forever"]
    # what the SQL page does with it: Arrow, as Streamlit sends it to the browser
    import pyarrow as pa

    assert pa.Table.from_pandas(frame).num_rows == 1


def test_unique_names() -> None:
    assert unique_names(["a", "a", "a_2", "A", "b"]) == (
        ["a", "a_3", "a_2", "A_4", "b"],
        {"a_3": "a", "A_4": "A"},
    )
