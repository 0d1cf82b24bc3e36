"""SQL models: one file under sql/<layer>/ per table, named as its table and its asset key.

A model's dependencies are the ``<schema>.<table>`` names its SQL mentions, so the graph can never
drift from the queries. Each layer's ``_models.yml`` (dbt's format) is the models' contract: every
column with a one-line description and the tests declared on it (not_null, unique, accepted_values,
relationships), which platform_kpi.validation compiles to SQL checks. Pure Python (no Dagster): the
Dagster assets, the benchmark and the tests all run models through ``execute_model``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import yaml

from platform_kpi.settings import SQL_DIR
from platform_kpi.warehouse import table_names

# The contracts are read by every run and test process: libyaml's parser (when PyYAML has it) reads
# sql/raw/_sources.yml in 0.016 s instead of 0.096 s.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MODEL_LAYERS = ("staging", "core", "marts", "ops")
# Staging models are thin views over raw (dbt's convention): writing a multi-million-row copy of every
# source costs seconds and buys nothing. Any model can say `-- materialized: view|table` to override;
# `incremental` is a table rebuilt in part, by the planner INCREMENTAL names for it.
DEFAULT_MATERIALIZATION = {"staging": "view"}
_MATERIALIZED = re.compile(r"^--\s*materialized:\s*(view|table|incremental)\s*$", re.M)
_REF = re.compile(r"\b(raw|staging|core|marts|ops)\.([a-z_][a-z0-9_]*)\b")
_COMMENT = re.compile(r"--[^\n]*")
CONTRACT_FILE = "_models.yml"
# dbt's generic tests; platform_kpi.validation compiles each to SQL.
TESTS = {"not_null": (), "unique": (), "accepted_values": ("values",), "relationships": ("to", "field")}


class ContractError(ValueError):
    """A layer's _models.yml is malformed or disagrees with the SQL models; the message names file and model."""


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    # (test name, arguments) in the order declared, e.g. ("accepted_values", {"values": ["a", "b"]})
    tests: tuple[tuple[str, dict], ...] = ()


@dataclass(frozen=True)
class SqlModel:
    layer: str
    name: str
    path: Path
    sql: str
    deps: tuple[tuple[str, str], ...]
    description: str  # the leading comment block: what the table means, in business terms
    materialized: str = "table"
    columns: tuple[Column, ...] = ()  # the contract, from the layer's _models.yml

    @property
    def tested(self) -> bool:
        return any(c.tests for c in self.columns)

    @property
    def relationship_targets(self) -> tuple[tuple[str, str], ...]:
        """The tables this model's relationships tests read (a check on it must wait for them)."""
        targets = {
            tuple(str(args["to"]).split("."))
            for c in self.columns
            for name, args in c.tests
            if name == "relationships"
        }
        return tuple(sorted(targets))

    @property
    def table(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.layer, self.name)


def _test(spec: object, where: str) -> tuple[str, dict]:
    if isinstance(spec, str):
        name, args = spec, {}
    elif isinstance(spec, dict) and len(spec) == 1:
        [(name, args)] = spec.items()
    else:
        raise ContractError(f"{where}: a test is a name or a one-key mapping, got {spec!r}")
    if name not in TESTS:
        raise ContractError(f"{where}: unknown test {name!r} (known: {', '.join(TESTS)})")
    if not isinstance(args, dict) or sorted(args) != sorted(TESTS[name]):
        raise ContractError(
            f"{where}: test {name} takes {', '.join(TESTS[name]) or 'no arguments'}, got {args!r}"
        )
    if name == "accepted_values" and not (isinstance(args["values"], list) and args["values"]):
        raise ContractError(f"{where}: accepted_values needs a non-empty list of values")
    if name == "relationships" and not _REF.fullmatch(str(args["to"])):
        raise ContractError(f"{where}: relationships.to must be <layer>.<table>, got {args['to']!r}")
    return name, args


def load_contract(path: Path) -> dict[str, tuple[Column, ...]]:
    """The columns each model of one layer's ``_models.yml`` declares, by model name."""
    doc = yaml.load(path.read_text(), Loader=YAML_LOADER) or {}
    out: dict[str, tuple[Column, ...]] = {}
    for entry in doc.get("models") or []:
        name = entry.get("name")
        where = f"{path}: model {name}"
        if set(entry) - {"name", "columns"}:
            # One source for each fact: the table's description is the SQL file's leading comment.
            raise ContractError(f"{where}: unexpected keys {sorted(set(entry) - {'name', 'columns'})}")
        if name in out:
            raise ContractError(f"{where}: declared twice")
        columns = []
        for col in entry.get("columns") or []:
            cwhere = f"{where}, column {col.get('name')}"
            if set(col) - {"name", "description", "tests"}:
                raise ContractError(
                    f"{cwhere}: unexpected keys {sorted(set(col) - {'name', 'description', 'tests'})}"
                )
            description = str(col.get("description") or "").strip()
            if not description:
                raise ContractError(f"{cwhere}: no description")
            tests = tuple(_test(t, cwhere) for t in col.get("tests") or [])
            columns.append(Column(str(col["name"]), description, tests))
        if len({c.name for c in columns}) != len(columns):
            raise ContractError(f"{where}: a column is declared twice")
        out[name] = tuple(columns)
    return out


def discover_models(sql_dir: Path = SQL_DIR) -> list[SqlModel]:
    """Every SQL model under ``sql_dir``, with its dependencies parsed from the SQL and its contract."""
    models = []
    for layer in MODEL_LAYERS:
        contract_path = sql_dir / layer / CONTRACT_FILE
        contract = load_contract(contract_path) if contract_path.exists() else {}
        paths = sorted((sql_dir / layer).glob("*.sql"))
        unknown = set(contract) - {p.stem for p in paths}
        if unknown:
            raise ContractError(f"{contract_path}: models without a SQL file: {', '.join(sorted(unknown))}")
        for path in paths:
            if path.stem not in contract:
                raise ContractError(f"{contract_path}: no entry for the model {path.stem} ({path.name})")
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
            models.append(
                SqlModel(layer, path.stem, path, text, deps, doc, materialized, contract[path.stem])
            )
    for model in models:
        layer = [m for m in models if m.layer == model.layer]
        for target in model.relationship_targets:
            # A layer's tests run after the layer is built and block what is built from it (the
            # layers after it): a test may read its own layer and what comes before, never after.
            built_from = {m.key for m in needed_for(models, {target})}
            if target[0] != model.layer and any(m.key in built_from for m in layer):
                raise ContractError(
                    f"{sql_dir / model.layer / CONTRACT_FILE}: model {model.name}: relationships to "
                    f"{'.'.join(target)}, which is built from the {model.layer} layer after its checks; "
                    "point it at a table of this layer or an earlier one"
                )
    return models


def contract_drift(con: duckdb.DuckDBPyConnection, model: SqlModel) -> list[str]:
    """How the built table or view differs from the model's declared columns (empty: they agree)."""
    built = [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [model.layer, model.name],
        ).fetchall()
    ]
    declared = [c.name for c in model.columns]
    problems = []
    undescribed = [c for c in built if c not in declared]
    if undescribed:
        problems.append(
            f"{model.table} has columns {CONTRACT_FILE} does not describe: {', '.join(undescribed)}"
        )
    missing = [c for c in declared if c not in built]
    if missing:
        problems.append(
            f"{CONTRACT_FILE} describes columns {model.table} does not produce: {', '.join(missing)}"
        )
    return problems


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


def execute_model(
    con: duckdb.DuckDBPyConnection, model: SqlModel, *, full: bool = False
) -> dict[str, float | int | None]:
    """(Re)build the model's table or view from its SQL; returns row count (tables) and seconds taken.
    An incremental model rebuilds only what its planner finds changed, unless ``full``."""
    started = time.perf_counter()
    kind = "table" if model.materialized == "incremental" else model.materialized
    planned = None
    try:
        _drop_other_kind(con, model)
        # No model relies on physical row order (readers ORDER BY), and an unordered sink lets DuckDB
        # write a multi-million-row table on every core instead of one.
        con.execute("set preserve_insertion_order = false")
        try:
            if model.materialized == "incremental":
                planned = _execute_incremental(con, model, full)
            else:
                con.execute(f"create or replace {kind} {model.table} as\n{model.sql}")
        finally:
            con.execute("reset preserve_insertion_order")
    except duckdb.Error as exc:
        raise RuntimeError(f"SQL model {model.table} ({model.path.name}) failed: {exc}") from exc
    if model.description:
        # The model's business description travels with the table, for anyone at a SQL prompt
        # (select comment from duckdb_tables() / duckdb_views()).
        text = model.description.replace("'", "''")
        con.execute(f"comment on {kind} {model.table} is '{text}'")
    rows = None
    if kind == "table":  # counting a view would compute it
        rows = int(con.execute(f"select count(*) from {model.table}").fetchone()[0])
    stats: dict = {"rows": rows, "seconds": round(time.perf_counter() - started, 3)}
    if planned is not None:
        stats.update(
            build="full" if planned.full else "incremental",
            reason=planned.reason,
            periods=planned.build_periods,
        )
    return stats


def _execute_incremental(con: duckdb.DuckDBPyConnection, model: SqlModel, full: bool):
    """Plan, then replace the planned periods' rows and record the state, in one transaction: the
    table and what the next plan compares with never disagree."""
    from platform_kpi.incremental import INCREMENTAL

    plan, batches, record = INCREMENTAL[model.table]
    planned = plan(con, full=full)
    con.execute("begin")
    try:
        if planned.full:
            con.execute(f"drop table if exists {model.table}")
        else:
            con.execute(
                f"delete from {model.table} as t using temp.kpi_values_build as p "
                "where t.grain = p.grain and t.period_start = p.period_start"
            )
        for _ in batches(con):
            if model.table in table_names(con):
                con.execute(f"insert into {model.table} by name\n{model.sql}")
            else:
                con.execute(f"create table {model.table} as\n{model.sql}")
        if model.table not in table_names(con):  # nothing to build from
            con.execute(f"create table {model.table} as\n{model.sql}")
        if planned.full or planned.build_periods:  # else nothing changed: the state stays as it is
            record(con, planned)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return planned
