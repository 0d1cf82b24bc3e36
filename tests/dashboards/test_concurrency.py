"""Many users at once in one dashboard process: the dashboard's own queries share DuckDB's database
instance of the warehouse path, so nothing one connection sets may break another's."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pytest

from dashboards import data


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        "create table marts.kpi_monthly as select date '2026-01-01' + to_months(i % 12) as month, "
        "'team-' || (i % 7) as scope, i * 1.5 as value from range(2000) t(i)"
    )
    con.close()
    return path


def _hammer(threads: int, per_thread: int, work) -> tuple[int, list[str]]:
    errors: list[str] = []
    done = [0]
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def run(n: int) -> None:
        start.wait()
        for i in range(per_thread):
            try:
                work(n, i)
            except Exception as exc:  # every failure counts, whatever its type
                with lock:
                    errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
            else:
                with lock:
                    done[0] += 1

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return done[0], errors


def test_dashboard_queries_from_many_threads_never_fail(warehouse: Path) -> None:
    """4 threads x 100 of the dashboard's fixed queries on one path: every one answers, correctly."""

    def work(n: int, i: int) -> None:
        scope = f"team-{(n + i) % 7}"
        frame = data.query(
            warehouse,
            "select count(*) as n, sum(value) as total from marts.kpi_monthly where scope = ?",
            [scope],
        )
        k = (n + i) % 7
        members = [j for j in range(2000) if j % 7 == k]
        assert int(frame["n"][0]) == len(members)
        assert float(frame["total"][0]) == pytest.approx(sum(j * 1.5 for j in members))

    done, errors = _hammer(4, 100, work)
    assert errors == [] and done == 400


def test_sql_page_queries_do_not_disturb_the_dashboards_own(warehouse: Path) -> None:
    """While SQL-page queries run, the fixed queries of other users' pages keep answering."""
    refused: list[str] = []

    def sql_page() -> None:
        for _ in range(3):
            result = data.run_readonly_sql(
                warehouse, "select scope, count(*) as n from marts.kpi_monthly group by scope"
            )
            assert len(result.frame) == 7
        try:
            data.run_readonly_sql(warehouse, "set threads = 8")
        except data.QueryError as exc:
            refused.append(str(exc))

    page = threading.Thread(target=sql_page)
    page.start()

    def work(n: int, i: int) -> None:
        assert len(data.query(warehouse, "select distinct month from marts.kpi_monthly")) == 12

    done, errors = _hammer(2, 100, work)
    page.join()
    assert errors == [] and done == 200
    assert refused and "SET" in refused[0]
