"""The file import's accounting, checked before a run publishes: every line of every input file is
the header, blank, or part of a loaded or quarantined record; and no entity loses most of its rows
from one publish to the next without someone saying so. Pure Python (no Dagster).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from platform_kpi.warehouse import WarehouseNotFound, read_connection


@dataclass(frozen=True)
class Finding:
    ok: bool
    messages: list[str]


def unbalanced_files(con: duckdb.DuckDBPyConnection) -> Finding:
    """Files of ops.file_accounting whose lines or records do not add up (one message per file)."""
    rows = con.execute(
        "select file, lines, header_lines, blank_lines, continuation_lines, records, loaded, quarantined, "
        "lines_balanced, records_balanced from ops.file_accounting "
        "where status in ('read', 'empty') and not (lines_balanced and records_balanced) order by entity, file"
    ).fetchall()
    messages = []
    for file, lines, header, blank, continued, records, loaded, quarantined, lines_ok, records_ok in rows:
        if not lines_ok:
            messages.append(
                f"{file}: {lines:,} lines, but header {header} + blank {blank:,} + records {records:,} "
                f"+ their further lines {continued:,} = {header + blank + records + continued:,}"
            )
        if not records_ok:
            messages.append(
                f"{file}: {records:,} records read, but {loaded:,} loaded + {quarantined:,} quarantined "
                f"= {loaded + quarantined:,}"
            )
    return Finding(not messages, messages)


def loaded_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int] | None:
    """Rows loaded per entity by the file import of this warehouse (None: no file import in it).

    A warehouse published before ops.file_accounting existed counts its raw file tables instead.
    """
    tables = {
        f"{s}.{t}"
        for s, t in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    }
    if "ops.file_accounting" in tables:
        rows = con.execute(
            "select entity, sum(loaded) from ops.file_accounting where entity is not null group by entity"
        ).fetchall()
        return {entity: int(n) for entity, n in rows} if rows else None
    counts = {}
    for entity in ("services", "deployments", "changes", "incidents", "builds"):
        if f"raw.files__{entity}" in tables:
            counts[entity] = int(con.execute(f"select count(*) from raw.files__{entity}").fetchone()[0])
    return counts or None


def previous_loaded_rows(published: Path) -> dict[str, int] | None:
    """Rows per entity of the currently published warehouse (None when there is none yet)."""
    try:
        with read_connection(published) as con:
            return loaded_rows(con)
    except WarehouseNotFound:
        return None


def row_drops(
    current: dict[str, int] | None, previous: dict[str, int] | None, threshold: float, allowed: bool = False
) -> Finding:
    """Entities whose loaded rows fell by more than ``threshold`` (a share) since the previous publish.

    A run without a file import, or a first publish, compares nothing. ``allowed`` (``kpi run
    --allow-row-drop``) reports the drops without failing.
    """
    if not current or not previous:
        return Finding(True, [])
    messages = []
    for entity, before in previous.items():
        now = current.get(entity, 0)
        if before > 0 and now < before * (1 - threshold):
            messages.append(
                f"{entity}: {now:,} rows loaded, the published warehouse has {before:,} "
                f"({(before - now) / before:.0%} fewer; row_drop_threshold is {threshold:.0%})"
            )
    if messages and not allowed:
        messages.append(
            "The published warehouse was kept. If the drop is intended, run again with --allow-row-drop "
            "(or raise row_drop_threshold in the KPI config); otherwise check the files named above."
        )
    return Finding(allowed or not messages, messages)
