"""Bring-your-own-data: canonical entity files (CSV or JSON Lines) read into DuckDB as text.

This is the generic source every later connector feeds: a folder holding, per entity, ``NAME.csv``
and/or ``NAME.jsonl`` (services, deployments, changes, incidents, builds). Values are kept as the
text the file holds (typing and validation happen in the staging models, which quarantine bad rows
with a reason); each row keeps its file name and line so a quarantined row can be found again.

A file that lacks a required column is an error naming the file and the column. A line that is not
a record at all (too many or too few CSV fields, not JSON) is reported as a load error with its line,
and every other line is still loaded.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

SOURCE = "files"


@dataclass(frozen=True)
class EntitySpec:
    name: str
    key: str
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        EntitySpec("services", "service", ("service", "team"), ("repo", "tier")),
        EntitySpec(
            "deployments",
            "deployment_id",
            ("deployment_id", "service", "environment", "status", "finished_at"),
            ("started_at", "commit_sha", "is_rollback", "is_hotfix"),
        ),
        EntitySpec(
            "changes",
            "change_id",
            ("change_id", "service", "first_commit_at", "merged_at"),
            ("deployment_id",),
        ),
        EntitySpec(
            "incidents",
            "incident_id",
            ("incident_id", "service", "created_at"),
            ("resolved_at", "severity", "caused_by_deployment_id"),
        ),
        EntitySpec(
            "builds",
            "build_id",
            ("build_id", "service", "branch", "status", "started_at", "finished_at"),
            ("is_default_branch",),
        ),
    )
}

# Columns every raw table carries besides the entity's own.
LINEAGE_COLUMNS = ("_file", "_line")
LOAD_ERROR_COLUMNS = ("entity", "_file", "_line", "error", "record")


class SourceFileError(ValueError):
    """A source file cannot be used at all (missing required column, unreadable); names file and column."""


@dataclass
class EntityLoad:
    """What was read for one entity: the raw rows (as a DuckDB relation) and the lines that were not records."""

    entity: str
    files: list[Path]
    rows: duckdb.DuckDBPyRelation
    load_errors: list[tuple[str, str, int, str, str]] = field(default_factory=list)
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)


def entity_files(files_dir: Path, entity: str) -> list[Path]:
    """The files that hold ``entity`` in ``files_dir`` (``NAME.csv`` and/or ``NAME.jsonl``)."""
    return [p for p in (files_dir / f"{entity}.csv", files_dir / f"{entity}.jsonl") if p.is_file()]


def _empty_select(spec: EntitySpec) -> str:
    cols = ", ".join(f"cast(null as varchar) as {c}" for c in spec.columns)
    return f"select {cols}, cast(null as varchar) as _file, cast(null as bigint) as _line where false"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _csv_select(con: duckdb.DuckDBPyConnection, path: Path, spec: EntitySpec, load: EntityLoad) -> str:
    p = _sql_str(str(path))
    with path.open(newline="", encoding="utf-8-sig") as fh:
        names = next(csv.reader(fh), [])
    lowered = {n.strip().lower(): n for n in names}
    missing = [c for c in spec.required if c not in lowered]
    if missing:
        raise SourceFileError(
            f"{SOURCE}: {path.name} is missing required column(s) {', '.join(repr(m) for m in missing)} "
            f"(found: {', '.join(names) or 'none'}). Required for {spec.name}: {', '.join(spec.required)}."
        )
    extra = [n for n in names if n.strip().lower() not in spec.columns]
    if extra:
        load.ignored_columns[path.name] = extra
    rej, scan = f"rej_{spec.name}_csv", f"scan_{spec.name}_csv"
    columns = "{" + ", ".join(f"{_sql_str(n)}: 'VARCHAR'" for n in names) + "}"
    con.execute(
        f"create or replace temp table good_{spec.name}_csv as "
        f"select * from read_csv({p}, columns={columns}, header=true, auto_detect=false, delim=',', "
        f"quote='\"', escape='\"', store_rejects=true, rejects_table='{rej}', rejects_scan='{scan}')"
    )
    for line, message, csv_line in con.execute(
        f"select line, arg_min(error_message, column_idx), any_value(csv_line) from {rej} group by line order by line"
    ).fetchall():
        load.load_errors.append(
            (spec.name, path.name, int(line), f"not a CSV record: {message}", csv_line or "")
        )
    # Good rows come back in file order; give each its line number by skipping the rejected lines.
    total = con.execute(f"select count(*) from good_{spec.name}_csv").fetchone()[0] + len(
        [e for e in load.load_errors if e[1] == path.name]
    )
    con.execute(
        f"create or replace temp table lines_{spec.name}_csv as "
        f"select range as line, row_number() over (order by range) as k from range(2, {total + 2}) "
        f"where range not in (select line from {rej})"
    )
    cols = ", ".join(
        f"trim(g.{_quote(lowered[c])}) as {c}" if c in lowered else f"cast(null as varchar) as {c}"
        for c in spec.columns
    )
    return (
        f"select {cols}, {_sql_str(path.name)} as _file, l.line as _line "
        f"from (select *, row_number() over () as k from good_{spec.name}_csv) g "
        f"join lines_{spec.name}_csv l using (k)"
    )


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _jsonl_select(con: duckdb.DuckDBPyConnection, path: Path, spec: EntitySpec, load: EntityLoad) -> str:
    p = _sql_str(str(path))
    # Each line as text, numbered, so a line that is not JSON can be reported without losing the rest.
    con.execute(
        f"create or replace temp table lines_{spec.name}_jsonl as "
        f"select row_number() over () as line, l from read_csv({p}, columns={{'l': 'VARCHAR'}}, header=false, "
        f"delim=chr(31), quote='', escape='', auto_detect=false)"
    )
    for line, text in con.execute(
        f"select line, l from lines_{spec.name}_jsonl "
        f"where l is not null and trim(l) <> '' and not (json_valid(l) and starts_with(ltrim(l), '{{')) order by line"
    ).fetchall():
        load.load_errors.append((spec.name, path.name, int(line), "not a JSON object", text[:2000]))
    valid = (
        f"select line, l::json as j from lines_{spec.name}_jsonl "
        f"where l is not null and trim(l) <> '' and json_valid(l) and starts_with(ltrim(l), '{{')"
    )
    keys = {k for (k,) in con.execute(f"select distinct unnest(json_keys(j)) from ({valid})").fetchall()}
    present = {k.strip().lower() for k in keys}
    if keys or con.execute(f"select count(*) from ({valid})").fetchone()[0]:
        missing = [c for c in spec.required if c not in present]
        if missing:
            raise SourceFileError(
                f"{SOURCE}: {path.name} is missing required field(s) {', '.join(repr(m) for m in missing)} "
                f"in every record. Required for {spec.name}: {', '.join(spec.required)}."
            )
    extra = sorted(k for k in keys if k.strip().lower() not in spec.columns)
    if extra:
        load.ignored_columns[path.name] = extra
    cols = ", ".join(f"trim(json_extract_string(j, {_sql_str('$.' + c)})) as {c}" for c in spec.columns)
    return f"select {cols}, {_sql_str(path.name)} as _file, line as _line from ({valid}) order by line"


def read_entity(con: duckdb.DuckDBPyConnection, files_dir: Path, entity: str) -> EntityLoad:
    """Read every file of ``entity`` in ``files_dir`` into one relation of text columns.

    Raises SourceFileError when a file lacks a required column. An absent entity gives no rows.
    """
    spec = ENTITIES[entity]
    files = entity_files(files_dir, entity)
    load = EntityLoad(entity=entity, files=files, rows=con.sql(_empty_select(spec)))
    selects = []
    for path in files:
        try:
            if path.suffix == ".csv":
                selects.append(_csv_select(con, path, spec, load))
            else:
                selects.append(_jsonl_select(con, path, spec, load))
        except duckdb.Error as exc:
            raise SourceFileError(f"{SOURCE}: {path.name} could not be read: {exc}") from exc
    if selects:
        load.rows = con.sql(" union all ".join(f"({s})" for s in selects))
    return load
