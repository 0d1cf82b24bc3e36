"""The raw layer's contract and its one writer.

``sql/raw/_sources.yml`` (dbt's ``sources:`` format) lists every table the product writes into schema
``raw``, with each column's exact DuckDB type and meaning. It is the only definition of those tables:
the file import, the API syncs and the cost loaders create them with :func:`ensure_raw_tables` and
write them with :func:`replace_raw` (a snapshot, or the part of one a writer owns) or
:func:`upsert_raw` (by key), which refuse data whose columns are not exactly the contract's and cast
every column to its declared type, so a raw table has the same shape whatever a run read. Pure Python
(no Dagster).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from platform_kpi.models import YAML_LOADER, ContractError
from platform_kpi.settings import SQL_DIR

SOURCES_FILE = "_sources.yml"
SCHEMA = "raw"

Data = pd.DataFrame | duckdb.DuckDBPyRelation


@dataclass(frozen=True)
class RawColumn:
    name: str
    data_type: str  # DuckDB's spelling, lower case (varchar, bigint, timestamp, json, varchar[], ...)
    description: str


@dataclass(frozen=True)
class RawTable:
    """One raw table of the contract: its name (``<source>__<entity>``), meaning and columns."""

    name: str
    description: str
    columns: tuple[RawColumn, ...]

    @property
    def table(self) -> str:
        return f"{SCHEMA}.{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def ddl(self, *, replace: bool = False) -> str:
        cols = ", ".join(f"{c.name} {c.data_type}" for c in self.columns)
        head = "create or replace table" if replace else "create table if not exists"
        return f"{head} {self.table} ({cols})"


def load_sources(path: Path) -> dict[str, RawTable]:
    """The raw tables ``path`` (a dbt sources file with the one source ``raw``) declares, by name."""
    doc = yaml.load(path.read_text(), Loader=YAML_LOADER) or {}
    sources = doc.get("sources") or []
    if [s.get("name") for s in sources] != [SCHEMA]:
        raise ContractError(f"{path}: expected exactly one source, named {SCHEMA}")
    out: dict[str, RawTable] = {}
    for entry in sources[0].get("tables") or []:
        name = entry.get("name")
        where = f"{path}: table {name}"
        if set(entry) - {"name", "description", "columns"}:
            raise ContractError(
                f"{where}: unexpected keys {sorted(set(entry) - {'name', 'description', 'columns'})}"
            )
        if name in out:
            raise ContractError(f"{where}: declared twice")
        description = str(entry.get("description") or "").strip()
        if not description:
            raise ContractError(f"{where}: no description")
        columns = []
        for col in entry.get("columns") or []:
            cwhere = f"{where}, column {col.get('name')}"
            if set(col) != {"name", "data_type", "description"}:
                raise ContractError(
                    f"{cwhere}: expected the keys name, data_type, description, got {sorted(col)}"
                )
            if not str(col["description"] or "").strip():
                raise ContractError(f"{cwhere}: no description")
            columns.append(
                RawColumn(
                    str(col["name"]), str(col["data_type"]).strip().lower(), str(col["description"]).strip()
                )
            )
        if not columns:
            raise ContractError(f"{where}: no columns")
        if len({c.name for c in columns}) != len(columns):
            raise ContractError(f"{where}: a column is declared twice")
        out[str(name)] = RawTable(str(name), description, tuple(columns))
    return out


@functools.cache
def raw_tables(sql_dir: Path = SQL_DIR) -> dict[str, RawTable]:
    """Every raw table of the shipped contract (``sql/raw/_sources.yml``), by name."""
    return load_sources(sql_dir / SCHEMA / SOURCES_FILE)


def raw_table(name: str) -> RawTable:
    """The contract of ``raw.<name>``; a table the contract does not list is an error naming it."""
    name = name.removeprefix(f"{SCHEMA}.")
    try:
        return raw_tables()[name]
    except KeyError:
        raise ContractError(
            f"raw.{name} is not in sql/{SCHEMA}/{SOURCES_FILE}; declare it there first"
        ) from None


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, tables: Iterable[str] | None = None) -> None:
    """Create the raw tables (default: all of the contract) that do not exist yet; existing rows stay."""
    con.execute(f"create schema if not exists {SCHEMA}")
    for name in raw_tables() if tables is None else tables:
        con.execute(raw_table(name).ddl())


_names = itertools.count()


def _columns_of(data: Data) -> list[str]:
    return [str(c) for c in data.columns]


def check_columns(table: RawTable, columns: Iterable[str]) -> None:
    """Raise ContractError naming the table and the columns when ``columns`` are not the contract's."""
    columns = list(columns)
    declared = table.column_names
    extra = [c for c in columns if c not in declared]
    missing = [c for c in declared if c not in columns]
    problems = []
    if extra:
        problems.append(f"columns sql/{SCHEMA}/{SOURCES_FILE} does not declare: {', '.join(extra)}")
    if missing:
        problems.append(f"missing declared columns: {', '.join(missing)}")
    if problems:
        raise ContractError(
            f"{table.table}: the data to write has " + "; and ".join(problems) + " (nothing written)"
        )


def _typed_select(table: RawTable, source: str) -> str:
    cols = ", ".join(f"cast({c.name} as {c.data_type}) as {c.name}" for c in table.columns)
    return f"select {cols} from {source}"


@contextlib.contextmanager
def _incoming(con: duckdb.DuckDBPyConnection, data: Data) -> Iterator[str]:
    """``data`` as a temporary view of ``con``, for the length of the block."""
    view = f"_raw_incoming_{next(_names)}"
    if isinstance(data, pd.DataFrame):
        con.register(view, data)
    else:
        data.create_view(view, replace=True)
    failed = False
    try:
        yield view
    except BaseException:
        failed = True
        raise
    finally:
        try:
            if isinstance(data, pd.DataFrame):
                con.unregister(view)
            else:
                con.execute(f"drop view if exists {view}")
        except duckdb.Error:
            if not failed:  # in a transaction the failure aborted, cleanup fails too: keep the first error
                raise


def _write(
    con: duckdb.DuckDBPyConnection, table: RawTable, view: str, statements: list[tuple[str, list]]
) -> int:
    """Run ``statements`` (each may read the incoming rows as ``{incoming}``), then insert them typed."""
    for sql, params in statements:
        con.execute(sql.format(incoming=view), params)
    # fetchall: an unfinished result would block later work on the connection (DuckDB 2.0)
    return int(con.execute(f"insert into {table.table} {_typed_select(table, view)}").fetchall()[0][0])


def _transaction(con: duckdb.DuckDBPyConnection, work: Callable[[], int]) -> int:
    con.execute("begin transaction")
    try:
        result = work()
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return result


def replace_raw(
    con: duckdb.DuckDBPyConnection,
    name: str,
    data: Data,
    *,
    where: str | None = None,
    params: list | None = None,
) -> int:
    """Replace the rows of ``raw.<name>`` with ``data`` (a DataFrame or a relation of this connection),
    in one transaction; returns how many rows were written.

    ``where`` limits the replacement to the rows a writer owns (e.g. one entity's manifest rows); by
    default the whole table is replaced. ``data`` must have exactly the contract's columns (any order):
    a missing or extra column raises ContractError naming the table and the columns, and a value that
    does not cast to its column's type fails the write; either way the previous rows stay.
    """
    table = raw_table(name)
    check_columns(table, _columns_of(data))
    if where is None:
        # Recreate from the contract: the table's shape is the contract's even if an old one differed.
        statements = [(table.ddl(replace=True), [])]
    else:
        statements = [(table.ddl(), []), (f"delete from {table.table} where {where}", params or [])]
    con.execute(f"create schema if not exists {SCHEMA}")
    with _incoming(con, data) as view:
        return _transaction(con, lambda: _write(con, table, view, statements))


def upsert_raw(con: duckdb.DuckDBPyConnection, name: str, data: Data, *, key: str = "key") -> int:
    """Insert ``data`` into ``raw.<name>``, replacing the rows with the same ``key``.

    Runs in the caller's transaction (the API syncs commit rows and their cursor together); the table
    must exist (:func:`ensure_raw_tables`). Column checks as in :func:`replace_raw`.
    """
    table = raw_table(name)
    check_columns(table, _columns_of(data))
    delete = f"delete from {table.table} where {key} in (select {key} from {{incoming}})"
    with _incoming(con, data) as view:
        return _write(con, table, view, [(delete, [])])


def raw_drift(con: duckdb.DuckDBPyConnection, tables: dict[str, RawTable] | None = None) -> list[str]:
    """How schema raw of a built warehouse differs from the contract (empty: they agree): tables the
    contract does not list, listed tables that are missing, and columns or types that differ."""
    tables = raw_tables() if tables is None else tables
    built: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? order by table_name, ordinal_position",
        [SCHEMA],
    ).fetchall():
        built.setdefault(table, []).append((column, dtype.lower()))
    problems = []
    unlisted = sorted(set(built) - set(tables))
    if unlisted:
        problems.append(
            f"sql/{SCHEMA}/{SOURCES_FILE} does not list: {', '.join(f'raw.{t}' for t in unlisted)}"
        )
    absent = sorted(set(tables) - set(built))
    if absent:
        problems.append(
            f"sql/{SCHEMA}/{SOURCES_FILE} lists tables the warehouse lacks: {', '.join(f'raw.{t}' for t in absent)}"
        )
    for name in sorted(set(built) & set(tables)):
        declared = [(c.name, c.data_type) for c in tables[name].columns]
        if built[name] != declared:
            have = ", ".join(f"{c} {t}" for c, t in built[name])
            want = ", ".join(f"{c} {t}" for c, t in declared)
            problems.append(f"raw.{name} has ({have}); sql/{SCHEMA}/{SOURCES_FILE} declares ({want})")
    return problems
