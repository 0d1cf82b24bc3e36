"""SQL models: one file under sql/<layer>/ per table, named as its table and its asset key.

A model's dependencies are the ``<schema>.<table>`` names its SQL mentions, so the graph can never
drift from the queries. Pure Python (no Dagster): the Dagster assets, the benchmark and the tests all
run models through ``execute_model``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

from platform_kpi.settings import SQL_DIR

MODEL_LAYERS = ("staging", "core", "marts", "ops")
# Staging models are thin views over raw (dbt's convention): writing a multi-million-row copy of every
# source costs seconds and buys nothing. Any model can say `-- materialized: view|table` to override.
DEFAULT_MATERIALIZATION = {"staging": "view"}
_MATERIALIZED = re.compile(r"^--\s*materialized:\s*(view|table)\s*$", re.M)
_REF = re.compile(r"\b(raw|staging|core|marts|ops)\.([a-z_][a-z0-9_]*)\b")
_COMMENT = re.compile(r"--[^\n]*")


@dataclass(frozen=True)
class SqlModel:
    layer: str
    name: str
    path: Path
    sql: str
    deps: tuple[tuple[str, str], ...]
    description: str  # the leading comment block: what the table means, in business terms
    materialized: str = "table"

    @property
    def table(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.layer, self.name)


def discover_models(sql_dir: Path = SQL_DIR) -> list[SqlModel]:
    """Every SQL model under ``sql_dir``, with its dependencies parsed from the SQL."""
    models = []
    for layer in MODEL_LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            text = path.read_text()
            code = _COMMENT.sub("", text)
            deps = tuple(sorted({m.groups() for m in _REF.finditer(code)} - {(layer, path.stem)}))
            header = []
            for line in text.splitlines():  # the leading comment block is the model's documentation
                if not line.startswith("--"):
                    break
                if not _MATERIALIZED.match(line):
                    header.append(line.removeprefix("--").strip())
            doc = " ".join(header)
            found = _MATERIALIZED.search(text)
            materialized = found.group(1) if found else DEFAULT_MATERIALIZATION.get(layer, "table")
            models.append(SqlModel(layer, path.stem, path, text, deps, doc, materialized))
    return models


def topological(models: list[SqlModel]) -> list[SqlModel]:
    """Models in an order where each comes after the models it reads."""
    by_key = {m.key: m for m in models}
    order = TopologicalSorter({m.key: [d for d in m.deps if d in by_key] for m in models}).static_order()
    return [by_key[k] for k in order]


def needed_for(models: list[SqlModel], targets: set[tuple[str, str]]) -> list[SqlModel]:
    """The models ``targets`` are built from (themselves included), in dependency order."""
    by_key = {m.key: m for m in models}
    needed: set[tuple[str, str]] = set()
    todo = list(targets)
    while todo:
        key = todo.pop()
        if key in needed or key not in by_key:
            continue
        needed.add(key)
        todo.extend(by_key[key].deps)
    return [m for m in topological(models) if m.key in needed]


def _drop_other_kind(con: duckdb.DuckDBPyConnection, model: SqlModel) -> None:
    existing = con.execute(
        "select table_type from information_schema.tables where table_schema = ? and table_name = ?",
        [model.layer, model.name],
    ).fetchone()
    if existing is None:
        return
    is_view = existing[0] == "VIEW"
    if is_view and model.materialized == "table":
        con.execute(f"drop view {model.table}")
    elif not is_view and model.materialized == "view":
        con.execute(f"drop table {model.table}")


def execute_model(con: duckdb.DuckDBPyConnection, model: SqlModel) -> dict[str, float | int | None]:
    """(Re)build the model's table or view from its SQL; returns row count (tables) and seconds taken."""
    started = time.perf_counter()
    try:
        _drop_other_kind(con, model)
        # No model relies on physical row order (readers ORDER BY), and an unordered sink lets DuckDB
        # write a multi-million-row table on every core instead of one.
        con.execute("set preserve_insertion_order = false")
        try:
            con.execute(f"create or replace {model.materialized} {model.table} as\n{model.sql}")
        finally:
            con.execute("reset preserve_insertion_order")
    except duckdb.Error as exc:
        raise RuntimeError(f"SQL model {model.table} ({model.path.name}) failed: {exc}") from exc
    if model.description:
        # The model's business description travels with the table, for anyone at a SQL prompt
        # (select comment from duckdb_tables() / duckdb_views()).
        text = model.description.replace("'", "''")
        con.execute(f"comment on {model.materialized} {model.table} is '{text}'")
    rows = None
    if model.materialized == "table":  # counting a view would compute it
        rows = int(con.execute(f"select count(*) from {model.table}").fetchone()[0])
    return {"rows": rows, "seconds": round(time.perf_counter() - started, 3)}
