"""Ad-hoc SQL typed by people, run so that it cannot hurt the dashboard or the machine.

Used by the dashboard's SQL page and by ``kpi sql``. A query is accepted only if DuckDB's own parser
says it is one statement and a query (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, or EXPLAIN
of one of those). It then runs in a process of its own that opens the published warehouse read-only
with no access to other files, no extensions, no persistent secrets, a memory cap with no spilling, a
thread count, and locked settings (safe there: that process owns its DuckDB instance, unlike the
dashboard's shared one). The caller kills the process when the time limit passes, when it grows far
past its memory cap, or when the caller stops waiting (a closed browser tab, a rerun). At most
``max_rows`` rows come back, as Arrow, with column names made unique (``a``, ``a_2``) and types that
pandas and Streamlit can show (HUGEINT as an integer when it fits, else text; intervals, UUIDs, lists,
structs, maps and the like as DuckDB's text form). Pure Python: no Dagster, no Streamlit.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from platform_kpi.settings import SqlLimits
from platform_kpi.warehouse import WarehouseNotFound, configure, connect_read_only

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)

QUERY_KINDS = "SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE or EXPLAIN"
#: Results larger than this (Arrow bytes) are refused rather than sent to a browser.
MAX_RESULT_BYTES = 100 * 2**20
#: How often the caller checks the query's process (and calls ``on_wait``).
POLL_SEC = 0.2

# Why each kind of statement is refused, in the user's words.
_REFUSAL_HINTS = {
    "SET": "settings are fixed here",
    "PRAGMA": "settings are fixed here",
    "VARIABLE_SET": "settings are fixed here",
    "ATTACH": "no other database may be attached",
    "DETACH": "no other database may be attached",
    "LOAD": "extensions cannot be installed or loaded here",
    "EXTENSION": "extensions cannot be installed or loaded here",
    "COPY": "nothing may be written or exported",
    "EXPORT": "nothing may be written or exported",
    "COPY_DATABASE": "nothing may be written or exported",
}
_KIND_WORDS = {
    "LOAD": "INSTALL/LOAD",
    "VARIABLE_SET": "SET VARIABLE",
    "MERGE_INTO": "MERGE",
    "EXTENSION": "INSTALL",
}

# DuckDB types that reach pandas and Streamlit intact; every other type is shown as DuckDB's text.
_NATIVE_TYPES = {
    "boolean", "tinyint", "smallint", "integer", "bigint", "utinyint", "usmallint", "uinteger", "ubigint",
    "float", "double", "decimal", "varchar", "date", "time", "timestamp", "timestamp_s", "timestamp_ms",
    "timestamp_ns", "timestamp with time zone",
}  # fmt: skip
_TEMPORAL_TYPES = {
    "date",
    "timestamp",
    "timestamp_s",
    "timestamp_ms",
    "timestamp_ns",
    "timestamp with time zone",
}
# Arrow would carry these as decimal128(38, 0), which wraps UHUGEINT's upper half to negative numbers:
# they travel as text and become int64 when every value fits.
_WIDE_INTEGERS = {"hugeint", "uhugeint"}


class QueryError(ValueError):
    """An ad-hoc query that gave no result; the message says why and what to do instead."""


class QueryRefused(QueryError):
    """Not valid SQL, or not a single read-only query."""


class QueryFailed(QueryError):
    """DuckDB raised while running the query (a wrong column name, a file it may not read, ...)."""


class QueryStopped(QueryError):
    """A limit stopped the query: time, memory, result size, or too many queries at once."""


@dataclass
class QueryResult:
    """The rows of an ad-hoc query (at most ``max_rows``) and what was done to show them."""

    frame: pd.DataFrame
    truncated: bool
    max_rows: int
    seconds: float
    #: de-duplicated column name -> the name the query gave it
    renamed: dict[str, str] = field(default_factory=dict)
    #: columns shown as text because pandas cannot hold their type
    as_text: list[str] = field(default_factory=list)


# --- the guard ------------------------------------------------------------------------------


def check_query(sql: str) -> tuple[str, bool]:
    """The statement to run (without trailing ``;`` or comments) and whether it is an EXPLAIN.

    Raises QueryRefused unless DuckDB's parser finds exactly one statement of a query kind.
    Comments cannot hide a second statement: the parser, not a pattern, counts them.
    """
    statements = _parse(sql)
    if not statements:
        raise QueryRefused(f"Write a query first ({QUERY_KINDS}).")
    if len(statements) > 1:
        kinds = ", ".join(_kind_word(s.type.name) for s in statements)
        raise QueryRefused(f"Run one statement at a time (found {len(statements)}: {kinds}).")
    statement = statements[0]
    text = _without_trailing_noise(statement.query)
    kind = statement.type.name
    if kind == "SELECT":
        return text, False
    if kind == "EXPLAIN":
        inner = _explained(text)
        if inner != "SELECT":
            raise QueryRefused(
                f"EXPLAIN of a {_kind_word(inner)} statement refused: only queries ({QUERY_KINDS}) run here."
            )
        return text, True
    hint = _REFUSAL_HINTS.get(
        kind, "the published warehouse is read-only; change data through the pipeline (kpi run)"
    )
    raise QueryRefused(
        f"{_kind_word(kind)} refused: only read-only queries ({QUERY_KINDS}) run here; {hint}."
    )


def _parse(sql: str) -> list:
    text = (sql or "").strip()
    if not text:
        return []
    parser = duckdb.connect(":memory:", config={"enable_external_access": False})  # parses, never runs
    try:
        return parser.extract_statements(text)
    except duckdb.Error as exc:
        raise QueryRefused(f"Not valid SQL: {_first_line(exc)}") from exc
    except ValueError as exc:  # a statement kind the Python client has no name for (UPDATE EXTENSIONS)
        raise QueryRefused(f"Statement refused: only read-only queries ({QUERY_KINDS}) run here.") from exc
    finally:
        parser.close()


def _kind_word(kind: str) -> str:
    return _KIND_WORDS.get(kind, kind)


def _without_trailing_noise(text: str) -> str:
    """``text`` without trailing semicolons and comments, so it can be wrapped in a subquery."""
    end = len(text)
    for offset, kind in reversed(duckdb.tokenize(text)):
        if kind == duckdb.token_type.comment or text[offset] == ";":
            end = offset
        else:
            break
    return text[:end].rstrip()


def _explained(text: str) -> str:
    """The kind of statement an EXPLAIN [ANALYZE] [(options)] wraps ('INVALID' if unknown)."""
    tokens = [(o, k) for o, k in duckdb.tokenize(text) if k != duckdb.token_type.comment]
    words = [text[o:].split(None, 1)[0].lower() if k == duckdb.token_type.keyword else "" for o, k in tokens]
    at = 1 if words[:1] == ["explain"] else 0
    if at and len(words) > 1 and words[1] in ("analyze", "analyse"):
        at = 2
    candidates = [at]
    if at < len(tokens) and text[tokens[at][0]] == "(":  # EXPLAIN (FORMAT json) SELECT ...
        depth = 0
        for i in range(at, len(tokens)):
            char = text[tokens[i][0]]
            depth += char == "("
            depth -= char == ")"
            if depth == 0:
                candidates.append(i + 1)
                break
    for start in candidates:
        if start >= len(tokens):
            continue
        try:
            inner = _parse(text[tokens[start][0] :])
        except QueryRefused:
            continue
        if len(inner) == 1:
            return inner[0].type.name
        if len(inner) > 1:
            return "MULTI"
    return "INVALID"


# --- the caller's side ----------------------------------------------------------------------

_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def run_query(
    warehouse: Path | str,
    sql: str,
    limits: SqlLimits,
    *,
    allow_files: bool = False,
    on_wait: Callable[[float], None] | None = None,
    keep_spare: bool = False,
) -> QueryResult:
    """Run one read-only query on ``warehouse`` in its own process, within ``limits``.

    ``allow_files`` lets the query read other files (``kpi sql --allow-files`` on one's own machine;
    never the dashboard). ``keep_spare`` keeps a started process waiting for the next query (for a
    long-lived caller such as the dashboard). ``on_wait(seconds)`` is called while the query runs; if
    it raises (the dashboard's session was stopped), the query's process is killed and the exception
    propagates.
    Raises QueryRefused, QueryFailed or QueryStopped with a message for the user.
    """
    text, explain = check_query(sql)
    path = Path(warehouse).resolve()
    if not path.exists():
        raise WarehouseNotFound(
            f"No warehouse at {warehouse}. Run `kpi demo` (demo data) or `kpi run --files DIR --warehouse {warehouse}` first."
        )
    started = time.monotonic()
    with _slot(limits, started, on_wait):
        request = {
            "warehouse": str(path),
            "sql": text,
            "explain": explain,
            "allow_files": allow_files,
            "memory_limit": limits.memory_limit,
            "threads": limits.threads,
            "max_rows": limits.max_rows,
            "timeout_sec": limits.timeout_sec,
            "parent": os.getpid(),
        }
        header, body = _run_child(request, limits, started, on_wait, keep_spare)
    if not header.get("ok"):
        kind = {"QueryRefused": QueryRefused, "QueryStopped": QueryStopped}.get(
            header.get("kind"), QueryFailed
        )
        raise kind(header["message"])
    import pyarrow as pa

    table = pa.ipc.open_stream(body).read_all()
    frame, as_text = _to_pandas(table)
    return QueryResult(
        frame=frame,
        truncated=header["truncated"],
        max_rows=limits.max_rows,
        seconds=time.monotonic() - started,
        renamed=header["renamed"],
        as_text=sorted(set(header["as_text"]) | set(as_text), key=list(frame.columns).index),
    )


@contextmanager
def _slot(limits: SqlLimits, started: float, on_wait: Callable[[float], None] | None) -> Iterator[None]:
    """One of ``limits.max_concurrent`` places for a running query in this process."""
    with _slots_lock:
        slots = _slots.setdefault(limits.max_concurrent, threading.BoundedSemaphore(limits.max_concurrent))
    while not slots.acquire(timeout=POLL_SEC):
        waited = time.monotonic() - started
        if limits.timeout_sec and waited > limits.timeout_sec:
            raise QueryStopped(
                f"{limits.max_concurrent} other queries were running for the whole {limits.timeout_sec:g} s time "
                "limit; try again in a moment."
            )
        if on_wait:
            on_wait(waited)
    try:
        yield
    finally:
        slots.release()


_spare: subprocess.Popen | None = None
_spare_lock = threading.Lock()


def _spawn() -> subprocess.Popen:
    module_root = str(Path(__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (module_root, os.environ.get("PYTHONPATH")) if p),
    }
    return subprocess.Popen(
        [sys.executable, "-m", __name__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # Ctrl-C reaches the caller, which kills the query itself
    )


def _take_process(keep_spare: bool) -> subprocess.Popen:
    """A fresh query process. With ``keep_spare`` (a long-lived dashboard) one more is started to wait,
    imports done, for the next query: it answers without the second or so a start costs."""
    global _spare
    if not keep_spare:
        return _spawn()
    with _spare_lock:
        proc, _spare = _spare, None
        if proc is None or proc.poll() is not None:
            proc = _spawn()
        _spare = _spawn()
    return proc


def _run_child(
    request: dict,
    limits: SqlLimits,
    started: float,
    on_wait: Callable[[float], None] | None,
    keep_spare: bool,
) -> tuple[dict, bytes]:
    proc = _take_process(keep_spare)
    # DuckDB's own memory_limit stops a query first; this catches what it does not count.
    rss_cap = int(parse_size(limits.memory_limit) * 1.5) + 512 * 2**20
    payload: bytes | None = json.dumps(request).encode()
    try:
        while True:
            try:
                out, err = proc.communicate(payload, timeout=POLL_SEC)
                break
            except subprocess.TimeoutExpired:
                payload = None
            elapsed = time.monotonic() - started
            if limits.timeout_sec and elapsed > limits.timeout_sec:
                raise QueryStopped(
                    f"Stopped after {limits.timeout_sec:g} s, the time limit of a query here. Filter or aggregate "
                    "more, or add a LIMIT."
                )
            if _rss(proc.pid) > rss_cap:
                raise QueryStopped(
                    f"Stopped: the query grew far past its memory limit ({limits.memory_limit})."
                )
            if on_wait:
                on_wait(elapsed)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    header, _, body = out.partition(b"\n")
    try:
        return json.loads(header), body
    except ValueError:
        log.error(
            "ad-hoc query process failed (exit %s): %s", proc.returncode, err.decode(errors="replace")[-4000:]
        )
        raise QueryFailed(
            f"The query's process ended without an answer (exit code {proc.returncode})."
        ) from None


def _rss(pid: int) -> int:
    """Resident memory of a process in bytes (0 where /proc is not available)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def parse_size(text: str) -> int:
    """Bytes in a DuckDB size such as '1GB', '512MiB', '1536MB' (KB = 1000, KiB = 1024)."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?I?B?)\s*", text.upper())
    if not match:
        raise ValueError(f"Not a memory size: {text!r} (use e.g. 512MB or 2GB)")
    number, unit = float(match[1]), match[2].rstrip("B") or "B"
    powers = {
        "B": 1,
        "K": 1e3,
        "M": 1e6,
        "G": 1e9,
        "T": 1e12,
        "KI": 2**10,
        "MI": 2**20,
        "GI": 2**30,
        "TI": 2**40,
    }
    return int(number * powers[unit])


def _to_pandas(table: pa.Table) -> tuple[pd.DataFrame, list[str]]:
    """A DataFrame of ``table``; a column pandas cannot hold (DATE 'infinity') becomes text."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    columns, as_text = {}, []
    for name, column in zip(table.column_names, table.columns, strict=True):
        try:
            columns[name] = column.to_pandas()
        except (pa.ArrowException, ValueError, OverflowError):
            columns[name] = pc.cast(column, pa.string()).to_pandas()
            as_text.append(name)
    return pd.DataFrame(columns), as_text


# --- the query's own process ----------------------------------------------------------------


def _child() -> int:
    try:
        request = json.loads(sys.stdin.buffer.read())
    except ValueError:  # a spare whose caller ended without using it
        return 0
    os.nice(10)  # an ad-hoc query yields the CPU to the dashboard's other users
    _watch_parent(request["parent"], request["timeout_sec"])
    try:
        table, truncated, renamed, as_text = _execute(request)
        import pyarrow as pa

        if table.nbytes > MAX_RESULT_BYTES:
            raise QueryStopped(
                f"The result is {table.nbytes / 2**20:.0f} MB, more than the {MAX_RESULT_BYTES / 2**20:.0f} MB an ad-hoc "
                "query may return; select fewer columns or rows."
            )
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        header = {"ok": True, "truncated": truncated, "renamed": renamed, "as_text": as_text}
        body = sink.getvalue().to_pybytes()
    except QueryError as exc:
        header, body = {"ok": False, "kind": type(exc).__name__, "message": str(exc)}, b""
    sys.stdout.buffer.write(json.dumps(header).encode() + b"\n" + body)
    sys.stdout.buffer.flush()
    return 0


def _watch_parent(parent: int, timeout_sec: float | None) -> None:
    """End this process if its caller dies (a killed dashboard) or is long past the time limit."""
    deadline = time.monotonic() + timeout_sec + 5 if timeout_sec else None

    def watch() -> None:
        while True:
            time.sleep(0.25)
            if os.getppid() != parent or (deadline and time.monotonic() > deadline):
                os._exit(70)

    threading.Thread(target=watch, daemon=True).start()


def _execute(request: dict) -> tuple[pa.Table, bool, dict[str, str], list[str]]:
    text, explain = check_query(request["sql"])  # again: this process trusts nothing it is sent
    max_rows = int(request["max_rows"])
    config = {
        "enable_external_access": bool(request["allow_files"]),
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_community_extensions": False,
        "allow_persistent_secrets": False,
        "memory_limit": request["memory_limit"],
        "threads": int(request["threads"]),
        "temp_directory": "",  # no spilling: past memory_limit the query fails instead of writing files
    }
    try:
        con = connect_read_only(Path(request["warehouse"]), config)
    except (duckdb.Error, RuntimeError, FileNotFoundError) as exc:
        raise QueryFailed(f"Could not open the warehouse: {_first_line(exc)}") from exc
    try:
        configure(con, macros=False)
        con.execute("set lock_configuration = true")
        if explain:
            table = con.sql(text).to_arrow_table()
            names, kinds = table.column_names, ["varchar"] * table.num_columns
            as_text: set[int] = set()
        else:
            relation = con.sql(text)  # binds only: the names (duplicates kept) and types
            names, kinds = relation.columns, [t.id for t in relation.types]
            as_text = {i for i, k in enumerate(kinds) if k not in _NATIVE_TYPES}
            table = _fetch(con, text, as_text, max_rows)
            beyond = {
                i for i, k in enumerate(kinds) if k in _TEMPORAL_TYPES and _beyond_python(table.column(i))
            }
            if beyond:  # DATE 'infinity', year 10000: only their text form can be shown
                as_text |= beyond
                table = _fetch(con, text, as_text, max_rows)
    except duckdb.OutOfMemoryException as exc:
        raise QueryStopped(
            f"The query needs more memory than its limit ({request['memory_limit']}): {_first_line(exc)}. "
            "Filter or aggregate more, or select fewer columns."
        ) from exc
    except duckdb.PermissionException as exc:
        raise QueryRefused(f"{_first_line(exc)}: only the warehouse's own tables can be read here.") from exc
    except duckdb.Error as exc:
        raise QueryFailed(_first_line(exc)) from exc
    finally:
        con.close()
    import pyarrow as pa

    truncated = table.num_rows > max_rows
    table = table.slice(0, max_rows)
    for i, kind in enumerate(kinds):
        if kind in _WIDE_INTEGERS:
            table = table.set_column(i, table.field(i).name, _integer_if_it_fits(table.column(i)))
            if pa.types.is_integer(table.schema.field(i).type):
                as_text.discard(i)
    names, renamed = unique_names(list(names))
    table = table.rename_columns(names)
    return table, truncated, renamed, [names[i] for i in sorted(as_text)]


def _fetch(con: duckdb.DuckDBPyConnection, text: str, as_text: set[int], max_rows: int) -> pa.Table:
    """At most max_rows + 1 rows, the columns in ``as_text`` cast to text; by position, so duplicate
    column names do not matter."""
    n = len(con.sql(text).columns)
    items = [f"cast(#{i + 1} as varchar)" if i in as_text else f"#{i + 1}" for i in range(n)]
    return con.sql(f"select {', '.join(items)} from (\n{text}\n) limit {max_rows + 1}").to_arrow_table()


def _beyond_python(column: pa.ChunkedArray) -> bool:
    """True if a date or timestamp column holds a value outside years 1-9999 (or an infinity)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_date32(kind):
        low, high, raw = -719_162, 2_932_896, column.cast(pa.int32())
    else:  # timestamp[s|ms|us|ns]: seconds since the epoch of 0001-01-01 and 9999-12-31 23:59:59
        per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[kind.unit]
        low, high = -62_135_596_800 * per_second, 253_402_300_799 * per_second
        raw = column.cast(pa.int64())
    bounds = pc.min_max(raw).as_py()
    if bounds["min"] is None:
        return False
    return bounds["min"] < low or bounds["max"] > high


def _integer_if_it_fits(column: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(column, pa.int64())
    except pa.ArrowInvalid:
        return column


def unique_names(names: list[str]) -> tuple[list[str], dict[str, str]]:
    """Column names made unique, ignoring case as DuckDB does: ['a', 'A', 'a_2'] -> ['a', 'A_3', 'a_2'].

    Returns the names and {new name: original} for the renamed ones.
    """
    taken = {n.lower() for n in names}
    seen: set[str] = set()
    out, renamed = [], {}
    for name in names:
        new = name
        if name.lower() in seen:
            n = 2
            while f"{name}_{n}".lower() in taken:
                n += 1
            new = f"{name}_{n}"
            taken.add(new.lower())
            renamed[new] = name
        seen.add(new.lower())
        out.append(new)
    return out, renamed


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


if __name__ == "__main__":
    sys.exit(_child())
