"""A fast in-process import: the files of a test into the raw tables, and only the models the
quarantine and the file accounting are built from (no KPI marts, no Dagster, no Great Expectations)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.files import ENTITIES
from platform_kpi.loading import load_file_entity, write_config_tables, write_load_errors
from platform_kpi.models import discover_models, execute_model, needed_for
from platform_kpi.raw import ensure_tables as ensure_api_raw_tables
from platform_kpi.settings import DEFAULT_CONFIG
from platform_kpi.warehouse import write_connection
from tests.conftest import AS_OF, DEFAULT_SERVICES, query

_TARGETS = {("ops", "quarantine"), ("ops", "file_accounting")}


def write_folder(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (name -> text or bytes) into ``folder``; services.csv defaults to DEFAULT_SERVICES."""
    folder.mkdir(parents=True, exist_ok=True)
    files = dict(files)
    if not any(n.lower().startswith("services.") for n in files):
        files["services.csv"] = DEFAULT_SERVICES
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return folder


def import_folder(folder: Path, warehouse: Path, config: Path = DEFAULT_CONFIG) -> Path:
    """Load ``folder`` the way the raw_files asset does and build the quarantine and the accounting."""
    with write_connection(warehouse) as con:
        write_load_errors(con, [load_file_entity(con, folder, e)["load_errors"] for e in ENTITIES])
        write_config_tables(con, config, as_of=AS_OF)
        ensure_api_raw_tables(con)
        for model in needed_for(discover_models(), _TARGETS):
            execute_model(con, model)
    return warehouse


@pytest.fixture
def imported(tmp_path: Path) -> Callable[..., Path]:
    """``imported(files)``: a warehouse with the files of the test loaded (see import_folder)."""
    count = iter(range(1000))

    def _import(files: dict[str, str | bytes]) -> Path:
        n = next(count)
        folder = write_folder(tmp_path / f"files-{n}", files)
        return import_folder(folder, tmp_path / f"warehouse-{n}.duckdb")

    return _import


def quarantined(warehouse: Path) -> list[tuple[str, int, str | None, str]]:
    """(file, line, key, reason) of every quarantined file row, in file and line order."""
    rows = query(
        warehouse,
        "select file, line, record_key, reason from ops.quarantine where source = 'files' order by file, line",
    )
    return [(r["file"], r["line"], r["record_key"], r["reason"]) for r in rows]


def kept(warehouse: Path, entity: str = "deployments") -> list[tuple[str, int]]:
    """(id as in the file, line) of every row of ``entity`` that was loaded (not quarantined)."""
    key = {
        "services": "service",
        "deployments": "deployment_key",
        "changes": "change_key",
        "incidents": "incident_key",
        "builds": "build_key",
    }[entity]
    rows = query(
        warehouse,
        f"select {key} as k, _line from staging.stg_files__{entity} where quarantine_reason is null order by _file, _line",
    )
    return [(r["k"], r["_line"]) for r in rows]


def accounting(warehouse: Path) -> dict[str, dict]:
    """ops.file_accounting by file name (entity name for a missing file)."""
    return {r["file"] or r["entity"]: r for r in query(warehouse, "select * from ops.file_accounting")}
