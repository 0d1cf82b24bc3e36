"""Shared test helpers: a warehouse built by the refresh job itself, in-process.

``build_warehouse`` runs the asset graph (pipelines.execute.run_pipeline) without its data checks:
golden tests pin numbers, and the checks have tests of their own. A golden test writes only the rows
it needs; ``services.csv`` defaults to ``DEFAULT_SERVICES``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.execute import run_pipeline
from platform_kpi.settings import DEFAULT_CONFIG
from platform_kpi.warehouse import read_connection

# Three services in two teams: payments owns api and web, search owns indexer.
DEFAULT_SERVICES = "service,team\napi,payments\nweb,payments\nindexer,search\n"

# A fixed run time, so two builds of the same files give byte-for-byte equal tables.
AS_OF = dt.datetime(2030, 1, 1)


def build_warehouse(
    tmp_path: Path,
    files: dict[str, str],
    config: str | None = None,
    *,
    name: str = "warehouse",
    as_of: dt.datetime = AS_OF,
) -> Path:
    """Write ``files`` (file name -> text) into ``tmp_path/<name>-files`` and build the warehouse.

    ``config`` is the text of a KPI config file (default: the shipped config/kpi.yaml). Returns the
    warehouse path. Calling it again with the same ``name`` rebuilds the same warehouse file.
    """
    files_dir = tmp_path / f"{name}-files"
    files_dir.mkdir(parents=True, exist_ok=True)
    for old in files_dir.iterdir():
        old.unlink()
    files = dict(files)
    if not any(n.startswith("services.") for n in files):
        files["services.csv"] = DEFAULT_SERVICES
    for file_name, text in files.items():
        (files_dir / file_name).write_text(text, encoding="utf-8")
    if config is None:
        config_path = DEFAULT_CONFIG
    else:
        config_path = tmp_path / f"{name}-kpi.yaml"
        config_path.write_text(config, encoding="utf-8")
    warehouse = tmp_path / f"{name}.duckdb"
    for table in ("kpi_monthly", "kpi_weekly"):
        _KPI_TABLES.pop((warehouse, table), None)
    run_pipeline(files_dir, warehouse, config=config_path, checks=False, as_of=as_of)
    return warehouse


def query(warehouse: Path, sql: str, params: dict | list | None = None) -> list[dict[str, Any]]:
    """Rows of a read-only query on the warehouse, as dicts."""
    with read_connection(warehouse) as con:
        cur = con.execute(sql, params) if params is not None else con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


# The KPI tables of each built warehouse, read once (a read-only connection per lookup is slow).
_KPI_TABLES: dict[tuple[Path, str], dict[tuple, dict[str, Any]]] = {}


def _kpi_rows(warehouse: Path, table: str, period: str) -> dict[tuple, dict[str, Any]]:
    key = (Path(warehouse), table)
    if key not in _KPI_TABLES:
        rows = query(warehouse, f"select * from marts.{table}")
        index: dict[tuple, dict[str, Any]] = {}
        for row in rows:
            k = (str(row[period]), row["scope_type"], row["scope"], row["kpi_id"])
            assert k not in index, f"two {table} rows for {k}"
            index[k] = row
        _KPI_TABLES[key] = index
    return _KPI_TABLES[key]


def kpi(
    warehouse: Path,
    kpi_id: str,
    month: str,
    scope_type: str = "org",
    scope: str = "all",
) -> dict[str, Any]:
    """The one marts.kpi_monthly row of a KPI, month ('YYYY-MM') and scope; fails if absent."""
    row = _kpi_rows(warehouse, "kpi_monthly", "month").get((f"{month}-01", scope_type, scope, kpi_id))
    assert row is not None, f"no kpi_monthly row for {kpi_id} {month} {scope_type}/{scope}"
    return row


def weekly(warehouse: Path, kpi_id: str, week: str, scope_type: str = "org", scope: str = "all") -> dict:
    """The one marts.kpi_weekly row of a KPI for the week starting on ``week`` ('YYYY-MM-DD')."""
    row = _kpi_rows(warehouse, "kpi_weekly", "week").get((week, scope_type, scope, kpi_id))
    assert row is not None, f"no kpi_weekly row for {kpi_id} {week} {scope_type}/{scope}"
    return row


def csv_text(header: str, *rows: str) -> str:
    """A CSV file's text from a header line and data lines."""
    return "\n".join((header, *rows)) + "\n"


DEPLOY_HEADER = "deployment_id,service,environment,status,started_at,finished_at,is_rollback,is_hotfix"
CHANGE_HEADER = "change_id,service,first_commit_at,merged_at,deployment_id"
INCIDENT_HEADER = "incident_id,service,created_at,resolved_at,caused_by_deployment_id"
BUILD_HEADER = "build_id,service,branch,status,started_at,finished_at,is_default_branch"


def deployments(*rows: str) -> str:
    return csv_text(DEPLOY_HEADER, *rows)


def changes(*rows: str) -> str:
    return csv_text(CHANGE_HEADER, *rows)


def incidents(*rows: str) -> str:
    return csv_text(INCIDENT_HEADER, *rows)


def builds(*rows: str) -> str:
    return csv_text(BUILD_HEADER, *rows)


def dep(
    deployment_id: str,
    finished_at: str,
    *,
    service: str = "api",
    environment: str = "prod",
    status: str = "success",
    started_at: str = "",
    rollback: bool | str = "",
    hotfix: bool | str = "",
) -> str:
    """One deployments.csv line (columns of DEPLOY_HEADER)."""
    flags = [str(f).lower() if isinstance(f, bool) else f for f in (rollback, hotfix)]
    return ",".join([deployment_id, service, environment, status, started_at, finished_at, *flags])


def chg(
    change_id: str, first_commit_at: str, merged_at: str, *, service: str = "api", deployment_id: str = ""
) -> str:
    """One changes.csv line (columns of CHANGE_HEADER)."""
    return ",".join([change_id, service, first_commit_at, merged_at, deployment_id])


def inc(
    incident_id: str, created_at: str, resolved_at: str = "", *, service: str = "api", cause: str = ""
) -> str:
    """One incidents.csv line (columns of INCIDENT_HEADER)."""
    return ",".join([incident_id, service, created_at, resolved_at, cause])


def bld(
    build_id: str,
    started_at: str,
    finished_at: str,
    *,
    service: str = "api",
    branch: str = "main",
    status: str = "success",
    default: bool | str = "",
) -> str:
    """One builds.csv line (columns of BUILD_HEADER)."""
    flag = str(default).lower() if isinstance(default, bool) else default
    return ",".join([build_id, service, branch, status, started_at, finished_at, flag])


@pytest.fixture
def warehouse_of(tmp_path: Path) -> Callable[..., Path]:
    """``warehouse_of(files, config=None)``: build_warehouse bound to this test's tmp_path."""

    def _build(files: dict[str, str], config: str | None = None, **kwargs: Any) -> Path:
        return build_warehouse(tmp_path, files, config, **kwargs)

    return _build


@pytest.fixture(scope="module")
def module_tmp(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder for the fixtures a test module shares, removed after the module if its tests passed.

    A built warehouse takes 14-50 MB of disk even for a few rows. Kept to the end of the run, the
    suite's folders came to 5.2 GB, and CI's disk filled after 608 tests (stop 21). This fixture and
    ``tmp_path_retention_policy = "failed"`` (pyproject.toml) keep only the folders of the module that
    is running and of failed tests, where they are wanted for a post-mortem.
    """
    path = tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2])
    failed_before = request.session.testsfailed
    yield path
    if request.session.testsfailed == failed_before:
        shutil.rmtree(path, ignore_errors=True)
