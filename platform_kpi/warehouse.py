"""Opening, publishing and reading the DuckDB warehouse.

DuckDB lets one process write a file and, while it does, no other process may even open it. So a
run writes a private work file and publishes a finished copy with an atomic rename; readers (the
dashboard, ``kpi sql``, the report) open the published file read-only with short-lived connections
and retry briefly if they catch the instant of a swap. Pure Python: safe for the dashboard.

One run at a time writes a warehouse: a run holds ``run_lock`` (an ``fcntl.flock`` on
``<warehouse>.lock``, released by the OS when the process dies) from its start to its end; a second
run waits for it or refuses, naming the holder. Taking the lock is also when what a killed
run left behind (a half-copied publish, a write-ahead log DuckDB cannot replay) is cleaned up.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import random
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

SCHEMAS = ("raw", "staging", "core", "marts", "ops")

# Macros every model may use. Written into the warehouse itself (not temporary) because staging models
# are views that readers of the published file evaluate too.
_MACROS = """
create or replace {kind} utc_ts(x) as
    timezone('UTC', try_cast(nullif(trim(cast(x as varchar)), '') as timestamptz));
create or replace {kind} json_label(j) as
    case json_type(j)
        when 'ARRAY' then coalesce(j -> 0 ->> 'name', j -> 0 ->> 'value', j -> 0 ->> 'displayName', j ->> 0)
        when 'OBJECT' then coalesce(j ->> 'display_value', j ->> 'name', j ->> 'value', j ->> 'displayName')
        when 'VARCHAR' then j ->> '$'
        when 'BIGINT' then j ->> '$'
    end;
create or replace {kind} is_blank(x) as coalesce(trim(cast(x as varchar)), '') = '';
create or replace {kind} parse_bool(x) as
    case lower(trim(cast(x as varchar)))
        when 'true' then true when 't' then true when 'yes' then true when 'y' then true when '1' then true
        when 'false' then false when 'f' then false when 'no' then false when 'n' then false when '0' then false
    end;
"""


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every table and view of the warehouse as ``schema.name``: what a reader checks before reading a
    family's tables (a warehouse built before that family has none)."""
    return {
        r[0]
        for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
    }


class WarehouseNotFound(FileNotFoundError):
    """The published warehouse does not exist yet."""


class WarehouseBusy(RuntimeError):
    """Another run holds the warehouse's run lock; the message names it and says what to do."""


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


def _publish_tmp_glob(published: Path) -> str:
    return f".{published.name}.*.tmp"


def publish(work: Path, published: Path) -> Path:
    """Swap a finished copy of ``work`` over ``published`` atomically; readers never see a half file.

    The copy is flushed to disk before the rename (else a power cut right after could leave the new
    name pointing at an empty file) and removed if the copy fails (a full disk), so nothing is left.
    """
    with write_connection(work) as con:
        con.execute("checkpoint")
    tmp = published.with_name(f".{published.name}.{os.getpid()}.tmp")
    published.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(work, tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, published)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(published.parent)  # the rename itself survives a power cut
    return published


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def lock_path_for(warehouse: Path) -> Path:
    """The file whose ``flock`` says which run is writing ``warehouse`` (it is never deleted)."""
    return warehouse.with_name(warehouse.name + ".lock")


# Locks this process holds: lock file -> pid (a forked child does not hold its parent's lock). The CLI
# takes the lock and then runs the Dagster job, whose resource takes it again in the same process:
# re-entering must not wait for itself.
_HELD: dict[str, int] = {}
_HELD_GUARD = threading.Lock()


def lock_holder(warehouse: Path) -> str:
    """Who holds (or last held) ``warehouse``'s run lock, as written in the lock file."""
    try:
        info = json.loads(lock_path_for(warehouse).read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info.get("pid"):
        return "another process"
    return f"pid {info['pid']} on {info.get('host', '?')} ({info.get('owner', '?')}, since {info.get('since', '?')})"


@contextmanager
def run_lock(
    warehouse: Path,
    *,
    owner: str | None = None,
    timeout_sec: float | None = None,
    progress: Callable[[str], None] | None = None,
    poll_sec: float = 0.25,
) -> Iterator[Path]:
    """Hold ``warehouse``'s run lock: the only run writing its work file and publishing it.

    If another process holds it, say so through ``progress`` (naming the holder) and wait up to
    ``timeout_sec`` (None: the ``KPI_LOCK_TIMEOUT_SEC`` setting; 0: do not wait), then raise
    WarehouseBusy. The OS releases the lock when its process dies, so a killed run never blocks the
    next one. Re-entrant within one process. Once held, leftovers of a killed run are cleaned up.
    ``owner`` says what the run is in the holder's description (default: this process's command).
    """
    lock = lock_path_for(Path(warehouse))
    key = str(lock.resolve())
    with _HELD_GUARD:
        reentered = _HELD.get(key) == os.getpid()
    if reentered:
        yield lock
        return

    if timeout_sec is None:
        from platform_kpi.settings import load_settings

        timeout_sec = load_settings().lock_timeout_sec
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, Path(warehouse), timeout_sec, progress or (lambda _msg: None), poll_sec)
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "owner": owner or _command(),
                    "since": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
                }
            ).encode(),
            0,
        )
        with _HELD_GUARD:
            _HELD[key] = os.getpid()
        try:
            clean_after_killed_run(Path(warehouse), progress=progress)
            yield lock
        finally:
            with _HELD_GUARD:
                del _HELD[key]
    finally:
        os.close(fd)  # releases the flock


def _command() -> str:
    """This process's command, short: `kpi run`, `pytest`, ..."""
    words = [Path(sys.argv[0]).name or "python", *sys.argv[1:2]]
    return " ".join(w for w in words if not w.startswith("-"))[:80]


def _acquire(
    fd: int, warehouse: Path, timeout_sec: float, say: Callable[[str], None], poll_sec: float
) -> None:
    deadline = time.monotonic() + timeout_sec
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = lock_holder(warehouse)
        if time.monotonic() >= deadline:
            raise WarehouseBusy(
                f"Another run is writing {warehouse}: {holder}. Wait for it to finish and run again "
                f"(or stop that process if it is stuck; its lock is released when it exits). "
                f"KPI_LOCK_TIMEOUT_SEC (now {timeout_sec:g}) sets how long a run waits."
            )
        if not told:
            say(
                f"Another run is writing {warehouse}: {holder}. Waiting up to {timeout_sec:g}s for it to finish ..."
            )
            told = True
        time.sleep(poll_sec)


def clean_after_killed_run(warehouse: Path, progress: Callable[[str], None] | None = None) -> list[Path]:
    """Remove what a run killed mid-way (SIGKILL, full disk) left beside ``warehouse``; call it only
    while holding the run lock. Returns what was removed.

    - ``.<warehouse>.<pid>.tmp``: a publish copy that never got renamed (it can be as big as the
      warehouse, and a full disk stays full until it goes).
    - ``<work>.wal`` that DuckDB cannot replay (torn or from another file): opening the work file fails
      until it is gone. It holds only changes of a run that never published; this run redoes them
      (file loads and models are rebuilt; API syncs resume from the last checkpointed cursor).
    - ``<work>.tmp/``: DuckDB's spill files of the killed run.
    A write-ahead log DuckDB can replay is replayed, not removed.
    """
    from platform_kpi.settings import work_path_for

    say = progress or (lambda _msg: None)
    warehouse = Path(warehouse)
    removed: list[Path] = []
    for tmp in warehouse.parent.glob(_publish_tmp_glob(warehouse)):
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    work = work_path_for(warehouse)
    spill = work.with_name(work.name + ".tmp")
    if spill.is_dir():
        shutil.rmtree(spill, ignore_errors=True)
        removed.append(spill)
    wal = work.with_name(work.name + ".wal")
    if wal.exists():
        try:
            duckdb.connect(str(work)).close()  # replays the log into the work file and checkpoints
        except duckdb.Error as exc:
            if "replaying wal" not in str(exc).lower():
                raise
            wal.unlink(missing_ok=True)
            removed.append(wal)
            say(
                f"Removed {wal.name}, a write-ahead log left by a killed run that DuckDB cannot replay "
                f"({str(exc).splitlines()[0]}); this run rebuilds what it held."
            )
    if removed:
        say("Cleaned up after a killed run: " + ", ".join(p.name for p in removed))
    return removed


def connect_read_only(
    path: Path, config: dict | None = None, *, attempts: int = 8, base_delay: float = 0.05
) -> duckdb.DuckDBPyConnection:
    """Open the published file read-only, retrying while a writer or a swap holds it for a moment."""
    path = Path(path)
    if not path.exists():
        raise WarehouseNotFound(
            f"No warehouse at {path}. Run `kpi demo` (demo data) or `kpi run --files DIR --warehouse {path}` first."
        )
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            return duckdb.connect(str(path), read_only=True, config=config or {})
        except duckdb.IOException as exc:
            last = exc
            time.sleep(base_delay * (2**attempt) * (0.5 + random.random()))
    raise RuntimeError(f"Could not open {path} read-only after {attempts} attempts: {last}") from last


@contextmanager
def read_connection(
    path: Path, *, external_access: bool = True, attempts: int = 8, base_delay: float = 0.05
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection to the published warehouse, retried if the file is locked.

    ``external_access=False`` also forbids reading or attaching other files (the dashboard's own
    queries). In one process DuckDB shares one database instance per path among its open connections,
    so every connection to a path that is open at the same time must ask for the same
    ``external_access``, and nothing global (such as ``lock_configuration``) may be set here: it
    would leak into every other user's connection. Untrusted SQL runs in its own process instead
    (platform_kpi.readonly_query).
    """
    config = {} if external_access else {"enable_external_access": False}
    con = connect_read_only(Path(path), config, attempts=attempts, base_delay=base_delay)
    try:
        configure(con, macros=False)
        yield con
    finally:
        con.close()
