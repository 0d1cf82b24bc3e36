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

from pipelines.settings import SQL_DIR

MODEL_LAYERS = ("staging", "core", "marts", "ops")
_REF = re.compile(r"\b(raw|staging|core|marts|ops)\.([a-z_][a-z0-9_]*)\b")
_COMMENT = re.compile(r"--[^\n]*")


@dataclass(frozen=True)
class SqlModel:
    layer: str
    name: str
    path: Path
    sql: str
    deps: tuple[tuple[str, str], ...]
    description: str

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
            doc = " ".join(
                line.removeprefix("--").strip() for line in text.splitlines() if line.startswith("--")
            )
            models.append(SqlModel(layer, path.stem, path, text, deps, doc.split(". ")[0] if doc else ""))
    return models


def topological(models: list[SqlModel]) -> list[SqlModel]:
    """Models in an order where each comes after the models it reads."""
    by_key = {m.key: m for m in models}
    order = TopologicalSorter({m.key: [d for d in m.deps if d in by_key] for m in models}).static_order()
    return [by_key[k] for k in order]


def execute_model(con: duckdb.DuckDBPyConnection, model: SqlModel) -> dict[str, float | int]:
    """(Re)build the model's table from its SQL; returns row count and seconds taken."""
    started = time.perf_counter()
    try:
        con.execute(f"create or replace table {model.table} as\n{model.sql}")
    except duckdb.Error as exc:
        raise RuntimeError(f"SQL model {model.table} ({model.path.name}) failed: {exc}") from exc
    rows = con.execute(f"select count(*) from {model.table}").fetchone()[0]
    return {"rows": int(rows), "seconds": round(time.perf_counter() - started, 3)}
