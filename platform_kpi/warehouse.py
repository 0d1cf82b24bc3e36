"""Opening, publishing and reading the DuckDB warehouse.

DuckDB lets one process write a file and, while it does, no other process may even open it. So a
run writes a private work file and publishes a finished copy with an atomic rename; readers (the
dashboard, ``kpi sql``, the report) open the published file read-only with short-lived connections
and retry briefly if they catch the instant of a swap. Pure Python: safe for the dashboard.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

SCHEMAS = ("raw", "staging", "core", "marts", "ops")

# Macros every model may use. Written into the warehouse itself (not temporary) because staging models
# are views that readers of the published file evaluate too.
_MACROS = """
create or replace {kind} utc_ts(x) as
    timezone('UTC', try_cast(nullif(trim(cast(x as varchar)), '') as timestamptz));
create or replace {kind} is_blank(x) as coalesce(trim(cast(x as varchar)), '') = '';
create or replace {kind} parse_bool(x) as
    case lower(trim(cast(x as varchar)))
        when 'true' then true when 't' then true when 'yes' then true when 'y' then true when '1' then true
        when 'false' then false when 'f' then false when 'no' then false when 'n' then false when '0' then false
    end;
"""


class WarehouseNotFound(FileNotFoundError):
    """The published warehouse does not exist yet."""


def configure(
    con: duckdb.DuckDBPyConnection, *, macros: bool = True, persistent_macros: bool = False
) -> duckdb.DuckDBPyConnection:
    """Session settings every connection needs: UTC, and ASOF joins that never fall into a nested loop."""
    con.execute("set TimeZone = 'UTC'")
    # DuckDB turns an ASOF join into a nested loop when it under-estimates the left side (40 s instead
    # of 0.05 s at 300k rows, measured here); a threshold of 0 keeps the sort-merge plan.
    con.execute("set asof_loop_join_threshold = 0")
    if macros:
        con.execute(_MACROS.format(kind="macro" if persistent_macros else "temp macro"))
    return con


@contextmanager
def write_connection(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to a run's work file, with every schema present."""
    from platform_kpi.settings import load_settings

    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        configure(con, macros=False)
        # Capped, DuckDB spills to <file>.tmp instead of growing with the input (see settings); an
        # empty setting leaves DuckDB's own default (80% of RAM).
        if limit := load_settings().duckdb_memory_limit:
            con.execute("set memory_limit = ?", [limit])
        for schema in SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        configure(con, persistent_macros=True)
        yield con
    finally:
        con.close()


def publish(work: Path, published: Path) -> Path:
    """Swap a finished copy of ``work`` over ``published`` atomically; readers never see a half file."""
    with write_connection(work) as con:
        con.execute("checkpoint")
    tmp = published.with_name(f".{published.name}.{os.getpid()}.tmp")
    published.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(work, tmp)
    os.replace(tmp, published)
    return published


@contextmanager
def read_connection(
    path: Path, *, external_access: bool = True, attempts: int = 8, base_delay: float = 0.05
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection to the published warehouse, retried if the file is locked.

    ``external_access=False`` also forbids reading or attaching other files (used by the SQL page).
    """
    path = Path(path)
    if not path.exists():
        raise WarehouseNotFound(
            f"No warehouse at {path}. Run `kpi demo` (demo data) or `kpi run --files DIR --warehouse {path}` first."
        )
    config = {} if external_access else {"enable_external_access": False}
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            con = duckdb.connect(str(path), read_only=True, config=config)
            break
        except duckdb.IOException as exc:  # a writer or a swap holds the file for a moment
            last = exc
            time.sleep(base_delay * (2**attempt) * (0.5 + random.random()))
    else:
        raise RuntimeError(f"Could not open {path} read-only after {attempts} attempts: {last}") from last
    try:
        configure(con, macros=False)
        if not external_access:
            con.execute("set lock_configuration = true")
        yield con
    finally:
        con.close()
