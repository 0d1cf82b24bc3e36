"""`kpi sql` as a user runs it (a subprocess of the installed command): read-only in effect, with the
row cap honoured in every format, and the demo warehouse found right after `make demo`."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import build_warehouse, deployments
from tests.sql_corpus import ALLOWED, ALLOWED_ANY_ROWS, REFUSED

KPI = str(Path(sys.executable).parent / "kpi")


@pytest.fixture(scope="module")
def warehouse(module_tmp: Path) -> Path:
    return build_warehouse(
        module_tmp,
        {
            "deployments.csv": deployments(
                "d1,api,production,success,2026-01-10T09:00:00Z,2026-01-10T10:00:00Z,,"
            )
        },
    )


def kpi_sql(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KPI_")}
    return subprocess.run(
        [KPI, "sql", *args], capture_output=True, text=True, cwd=cwd, env={**base, **(env or {})}, timeout=120
    )


def test_sql_right_after_make_demo_reads_the_demo_warehouse(warehouse: Path, tmp_path: Path) -> None:
    """Nothing configured, no data/warehouse.duckdb: the demo's data/demo/warehouse.duckdb is read, and
    stderr (not the CSV on stdout) says so."""
    (tmp_path / "data" / "demo").mkdir(parents=True)
    shutil.copy(warehouse, tmp_path / "data" / "demo" / "warehouse.duckdb")
    done = kpi_sql(
        "--format",
        "csv",
        "select kpi_id from marts.kpi_definitions where kpi_id = 'deployment_frequency'",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["kpi_id", "deployment_frequency"]
    assert "data/demo/warehouse.duckdb" in done.stderr


def test_a_configured_warehouse_is_never_swapped_for_the_demo(warehouse: Path, tmp_path: Path) -> None:
    (tmp_path / "data" / "demo").mkdir(parents=True)
    shutil.copy(warehouse, tmp_path / "data" / "demo" / "warehouse.duckdb")
    done = kpi_sql("select 1", cwd=tmp_path, env={"KPI_WAREHOUSE": str(tmp_path / "mine.duckdb")})
    assert done.returncode == 1
    assert f"No warehouse at {tmp_path / 'mine.duckdb'}" in done.stderr


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_max_rows_is_honoured_in_every_format(warehouse: Path, fmt: str) -> None:
    done = kpi_sql(
        "--warehouse", str(warehouse), "--format", fmt, "--max-rows", "5", "select * from range(1000) t(n)"
    )
    assert done.returncode == 0, done.stderr
    if fmt == "csv":
        assert done.stdout.splitlines() == ["n", "0", "1", "2", "3", "4"]
    elif fmt == "json":
        assert json.loads(done.stdout) == [{"n": i} for i in range(5)]
    else:
        assert [line.strip() for line in done.stdout.splitlines()] == ["n", "0", "1", "2", "3", "4"]
    assert "stopped at 5 rows" in done.stderr


def test_rows_are_capped_by_default_and_uncut_results_say_nothing(warehouse: Path) -> None:
    done = kpi_sql("--warehouse", str(warehouse), "--format", "csv", "select * from range(5000) t(n)")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 + 1000 and lines[-1] == "999"
    assert "stopped at 1,000 rows" in done.stderr
    small = kpi_sql(
        "--warehouse", str(warehouse), "--format", "csv", "--max-rows", "5", "select * from range(5) t(n)"
    )
    assert small.stdout.splitlines() == ["n", "0", "1", "2", "3", "4"] and "stopped" not in small.stderr


@pytest.mark.parametrize(("query", "why"), REFUSED, ids=[q[:40] for q, _ in REFUSED])
def test_security_corpus_is_refused(warehouse: Path, tmp_path: Path, query: str, why: str) -> None:
    done = kpi_sql("--warehouse", str(warehouse), "--format", "csv", query.format(tmp=tmp_path))
    assert done.returncode == 1
    assert why in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing attached


@pytest.mark.parametrize(("query", "rows"), ALLOWED, ids=[q[:40] for q, _ in ALLOWED])
def test_legitimate_queries_still_work(warehouse: Path, query: str, rows: list[dict]) -> None:
    done = kpi_sql("--warehouse", str(warehouse), "--format", "json", query)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == rows


def test_describe_show_summarize_explain_work(warehouse: Path) -> None:
    for query in ALLOWED_ANY_ROWS:
        done = kpi_sql("--warehouse", str(warehouse), "--format", "csv", query)
        assert done.returncode == 0, (query, done.stderr)
        assert len(list(csv.reader(io.StringIO(done.stdout)))) > 1, query


def test_allow_files_reads_a_file_on_ones_own_machine(warehouse: Path, tmp_path: Path) -> None:
    extra = tmp_path / "targets.csv"
    extra.write_text("kpi_id,goal\ndeployment_frequency,12\n")
    query = f"select t.goal, d.kpi_id from read_csv('{extra}') t join marts.kpi_definitions d using (kpi_id)"
    refused = kpi_sql("--warehouse", str(warehouse), "--format", "csv", query)
    assert refused.returncode == 1 and "file system operations are disabled" in refused.stderr
    allowed = kpi_sql("--warehouse", str(warehouse), "--format", "csv", "--allow-files", query)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.splitlines() == ["goal,kpi_id", "12,deployment_frequency"]
    # still read-only: the flag opens files for reading, not for writing
    copy = kpi_sql("--warehouse", str(warehouse), "--allow-files", f"copy (select 1) to '{tmp_path}/x.csv'")
    assert copy.returncode == 1 and "COPY refused" in copy.stderr and not (tmp_path / "x.csv").exists()
