"""Read-only queries the dashboard runs on the published warehouse. No Dagster, no writes.

Results are cached per warehouse file version (its modification time), so a newly published snapshot
is picked up on the next interaction and an unchanged one is never re-read.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from pipelines.settings import load_settings
from pipelines.warehouse import read_connection


def warehouse_path() -> Path:
    return Path(os.environ.get("KPI_WAREHOUSE") or load_settings().warehouse)


def warehouse_version(path: Path) -> float:
    return path.stat().st_mtime if path.exists() else 0.0


def query(path: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    with read_connection(path, external_access=False) as con:
        return con.execute(sql, params or []).df()


def kpi_monthly(path: Path, scope_type: str, scope: str) -> pd.DataFrame:
    return query(
        path,
        "select k.*, d.name, d.definition, d.better from marts.kpi_monthly k "
        "join marts.kpi_definitions d using (kpi_id) where scope_type = ? and scope = ? order by month",
        [scope_type, scope],
    )


def scopes(path: Path) -> pd.DataFrame:
    return query(path, "select service, team from core.services order by team, service")
