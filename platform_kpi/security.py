"""Security and compliance inputs into raw tables: the report files under ``<files>/security`` (see
connectors.security_files for the layout and each tool's documented shape) and the security settings
of config/kpi.yaml (SLA per severity, Terraform workspaces' services) into ops tables the models read.

A re-run replaces what the files gave (rows an API sync wrote stay); a file or record that cannot be
used is a row of raw.security__load_errors (file, position, reason) and ends in ops.quarantine, while
every other record is loaded. Pure Python (no Dagster).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from connectors import security_files
from platform_kpi.config import SecuritySettings
from platform_kpi.raw_tables import ensure_raw_tables, raw_table, replace_raw

SECURITY_RAW_TABLES = (
    "security__trivy_scans",
    "security__trivy_vulnerabilities",
    "security__github_alerts",
    "security__conftest_results",
    "security__terraform_assessments",
    "security__attestations",
    "security__waivers",
    "security__deployment_artifacts",
    "security__provisioning_requests",
    "security__load_errors",
)
#: tables an API sync also writes: the file load replaces only the rows that came from files
_SHARED = {
    "security__github_alerts": "_file not like 'http%'",
    "security__attestations": "_file not like 'http%'",
}
SECURITY_CONFIG_TABLES = ("security_sla", "security_workspaces")


def _frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = list(raw_table(table).column_names)
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype(object).where(frame.notna(), None) if len(frame) else frame


def write_security_config(con: duckdb.DuckDBPyConnection, settings: SecuritySettings) -> None:
    """ops.security_sla (days to fix per severity) and ops.security_workspaces (workspace -> service)."""
    con.execute("create schema if not exists ops")
    sla = pd.DataFrame(
        [{"severity": k, "sla_days": float(v)} for k, v in settings.sla_days.items()],
        columns=["severity", "sla_days"],
    )
    con.register("security_sla_frame", sla)
    con.execute(
        "create or replace table ops.security_sla as "
        "select severity::varchar as severity, sla_days::double as sla_days from security_sla_frame"
    )
    con.unregister("security_sla_frame")
    workspaces = pd.DataFrame(
        [{"workspace": k, "service": v} for k, v in settings.workspaces.items()],
        columns=["workspace", "service"],
    )
    con.register("security_workspaces_frame", workspaces)
    con.execute(
        "create or replace table ops.security_workspaces as "
        "select workspace::varchar as workspace, service::varchar as service from security_workspaces_frame"
    )
    con.unregister("security_workspaces_frame")


def load_security_files(
    con: duckdb.DuckDBPyConnection, files_dir: Path | None, settings: SecuritySettings | None = None
) -> dict[str, int]:
    """Replace the file rows of every security raw table with what ``<files_dir>/security`` holds now,
    and write the security config tables. Returns rows per table (and ``files`` read)."""
    write_security_config(con, settings or SecuritySettings())
    ensure_raw_tables(con, SECURITY_RAW_TABLES)
    load = security_files.read_security_folder(files_dir)
    counts: dict[str, int] = {"files": load.files}
    for table in SECURITY_RAW_TABLES:
        rows = load.errors if table == "security__load_errors" else load.rows.get(table, [])
        frame = _frame(table, rows)
        if table in _SHARED:
            counts[table] = replace_raw(con, table, frame, where=_SHARED[table])
        else:
            counts[table] = replace_raw(con, table, frame)
    return counts
