"""Several people on one running dashboard, in headless Chromium: sessions on different pages at once
never see a traceback; one user's runaway SQL-page query is cut off at its time limit, or as soon as
its tab closes, while another user's pages render; visitors never see tracebacks or server paths."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.browser.conftest import serve_dashboard
from tests.browser.test_dashboard_browser import snap, wait_ready

pytestmark = pytest.mark.browser

# seconds: the SQL page's limit on this test server; long, as a page takes 10-35 s to draw in headless
# Chromium on this loaded 2-core machine (measured with and without a runaway query alike)
TIME_LIMIT = 90
RUNAWAY = (
    "select sum(x % 7) as s from range(1000000000000000) t(x)"  # days of work for one thread; no overflow
)
# path, title, charts: one page per user
SESSIONS = [
    ("", "Overview", 0),
    ("delivery", "Delivery", 4),
    ("stability", "Stability", 4),
    ("ci", "CI", 3),
    ("teams", "Teams", 2),
    ("service?service=payments-queue", "Service drill-down", 2),
]


@pytest.fixture(scope="module")
def server(demo: Path, module_tmp: Path):
    """A dashboard of its own (cold caches) whose SQL page stops a query after TIME_LIMIT seconds."""
    log = module_tmp / "streamlit.log"
    with serve_dashboard(
        demo / "warehouse.duckdb", demo / "reports", log, KPI_SQL_TIMEOUT_SEC=str(TIME_LIMIT)
    ) as served:
        yield served


def busy_queries(server_pid: int, window: float = 0.6) -> list[int]:
    """Query processes of the dashboard (python -m platform_kpi.readonly_query) using CPU right now; an
    idle spare waiting for the next query does not count."""

    def ticks() -> dict[int, int]:
        out = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if (
                b"platform_kpi.readonly_query" in cmdline
                and int(fields[1]) == server_pid
                and fields[0] != "Z"
            ):
                out[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime + stime
        return out

    before = ticks()
    time.sleep(window)
    after = ticks()
    return [pid for pid, t in after.items() if t > before.get(pid, t)]


def run_sql(page, query: str) -> None:
    page.locator("textarea").first.fill(query)
    page.get_by_role("button", name=re.compile("Run query")).click()


def test_six_sessions_on_six_pages_at_once(browser, server) -> None:
    url, _ = server
    contexts = [browser.new_context(viewport={"width": 1440, "height": 1000}) for _ in SESSIONS]
    try:
        pages = [c.new_page() for c in contexts]
        for round_ in range(2):  # the first round with cold caches: every page queries DuckDB at once
            for page, (path, _, _) in zip(pages, SESSIONS, strict=True):
                page.set_default_timeout(120_000)  # six sessions at once on a small shared machine
                page.goto(f"{url}/{path}{'&' if '?' in path else '?'}round={round_}", wait_until="commit")
            for page, (path, title, charts) in zip(pages, SESSIONS, strict=True):
                try:
                    wait_ready(page, charts)
                except Exception:
                    snap(page, f"concurrent-{round_}-{path.split('?')[0] or 'overview'}")
                    raise
                assert page.locator("[data-testid='stException']").count() == 0, (
                    path,
                    page.inner_text("body")[:2000],
                )
                assert page.locator("h1").first.inner_text().strip() == title
    finally:
        for c in contexts:
            c.close()


def test_user_b_browses_while_user_a_runaway_query_is_cut_off(browser, server) -> None:
    url, proc = server
    a_context, b_context = browser.new_context(), browser.new_context()
    try:
        a, b = a_context.new_page(), b_context.new_page()
        for page in (a, b):
            page.set_default_timeout(60_000)
        a.goto(f"{url}/sql")
        wait_ready(a)
        run_sql(a, RUNAWAY)
        a.wait_for_selector("text=Running…")
        started = time.monotonic()
        assert busy_queries(proc.pid), "A's query runs in a process of its own"

        for path, title, charts in SESSIONS[1:3]:
            b.goto(f"{url}/{path}")
            wait_ready(b, charts)
            assert b.locator("[data-testid='stException']").count() == 0, b.inner_text("body")[:2000]
            assert b.locator("h1").first.inner_text().strip() == title
        b_done = time.monotonic() - started
        assert a.get_by_text("Running…").count() == 1, (
            f"A's query ended before B's pages rendered ({b_done:.0f} s)"
        )
        print(f"B's two pages rendered in {b_done:.1f} s while A's query ran")

        try:
            a.wait_for_selector(f"text=Stopped after {TIME_LIMIT} s", timeout=(TIME_LIMIT + 30) * 1000)
        except Exception:
            snap(a, "sql-runaway-not-stopped")
            raise AssertionError(
                f"A's page, {time.monotonic() - started:.0f} s on: {a.inner_text('body')[:3000]}"
            ) from None
        stopped = time.monotonic() - started
        print(f"A's query stopped {stopped:.1f} s after it was seen running (limit {TIME_LIMIT} s)")
        snap(a, "sql-runaway-stopped")
        assert b_done < TIME_LIMIT <= stopped + 1
        assert busy_queries(proc.pid) == []
        # A can go on working at once
        run_sql(a, "select count(*) as n from marts.kpi_definitions")
        a.wait_for_selector("text=1 row")
    finally:
        a_context.close()
        b_context.close()


def test_closing_the_tab_stops_the_query(browser, server) -> None:
    url, proc = server
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{url}/sql")
    wait_ready(page)
    run_sql(page, RUNAWAY)
    page.wait_for_selector("text=Running…")
    assert busy_queries(proc.pid)
    context.close()
    closed = time.monotonic()
    while busy_queries(proc.pid):
        assert time.monotonic() - closed < 10, "the query ran on after its tab closed"
    print(f"query process stopped {time.monotonic() - closed:.1f} s after its tab closed")
    assert time.monotonic() - closed < TIME_LIMIT / 2


def test_sql_page_in_the_browser_refuses_file_reads_and_hidden_statements_and_shows_odd_results(
    page, server
) -> None:
    url, _ = server
    page.set_default_timeout(60_000)
    page.goto(f"{url}/sql")
    wait_ready(page)
    run_sql(page, "select * from read_text('/etc/passwd')")
    page.wait_for_selector("text=file system operations are disabled")
    run_sql(page, "select 1 /* harmless */; copy marts.kpi_monthly to '/tmp/kpi.csv'")
    page.wait_for_selector("text=one statement at a time")

    run_sql(
        page,
        "select 1 as a, 2 as a, 170141183460469231731687303715884105727::hugeint as big, "
        "sum(x) as total from range(4) t(x)",
    )
    page.wait_for_selector("text=duplicate column names made unique: a_2 (a)")
    wait_ready(page)
    assert page.locator("[data-testid='stException']").count() == 0
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("CSV")).last.click()
    frame = pd.read_csv(info.value.path(), dtype=str)
    assert frame.to_dict("records") == [
        {"a": "1", "a_2": "2", "big": "170141183460469231731687303715884105727", "total": "6"}
    ]
    snap(page, "sql-odd-result")
    # a rerun draws the same result again, no traceback
    page.goto(f"{url}/sql")
    wait_ready(page)
    assert page.locator("[data-testid='stException']").count() == 0


def test_visitors_never_see_a_traceback(browser, demo: Path, tmp_path: Path) -> None:
    """A page that fails (here: a table missing from the warehouse) shows a generic message, with no
    traceback, exception text or server path."""
    broken = tmp_path / "warehouse.duckdb"
    shutil.copy(demo / "warehouse.duckdb", broken)
    con = duckdb.connect(str(broken))
    con.execute("drop table marts.lead_time_buckets")
    con.close()
    with serve_dashboard(broken, demo / "reports", tmp_path / "streamlit.log") as (url, _):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{url}/delivery")
            page.wait_for_selector("[data-testid='stException']")
            shown = page.locator("[data-testid='stException']").first.inner_text()
            body = page.inner_text("body")
        finally:
            context.close()
    for secret in (
        "Traceback",
        ".py",
        str(Path(__file__).resolve().parents[2]),
        str(tmp_path),
        "lead_time_buckets",
        "CatalogException",
    ):
        assert secret not in body, (secret, shown)
