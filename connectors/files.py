"""Bring-your-own-data: canonical entity files (CSV or JSON Lines) read into DuckDB as text.

This is the generic source every later connector feeds: a folder holding, per entity, ``NAME.csv``
and/or ``NAME.jsonl`` (services, deployments, changes, incidents, builds). Time columns are parsed
here (ISO-8601; an offset is converted to UTC, a naive time means UTC) because DuckDB's CSV reader
does it an order of magnitude faster than SQL casts; every other value is kept as the text the file
holds, and the staging models validate it and quarantine bad rows with a reason. Each row keeps its
file name and line so a quarantined row can be found again.

A file that lacks a required column is an error naming the file and the column. A line that is not a
record at all (too many or too few CSV fields, not JSON) or holds a time that does not parse is a load
error with its line, key and reason (it lands in ops.quarantine), and every other line is still loaded.
"""

from __future__ import annotations

import csv
import mmap
import re
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
    times: tuple[str, ...] = ()

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
            ("started_at", "finished_at"),
        ),
        EntitySpec(
            "changes",
            "change_id",
            ("change_id", "service", "first_commit_at", "merged_at"),
            ("deployment_id",),
            ("first_commit_at", "merged_at"),
        ),
        EntitySpec(
            "incidents",
            "incident_id",
            ("incident_id", "service", "created_at"),
            ("resolved_at", "severity", "caused_by_deployment_id"),
            ("created_at", "resolved_at"),
        ),
        EntitySpec(
            "builds",
            "build_id",
            ("build_id", "service", "branch", "status", "started_at", "finished_at"),
            ("is_default_branch",),
            ("started_at", "finished_at"),
        ),
    )
}

# Columns every raw table carries besides the entity's own.
LINEAGE_COLUMNS = ("_file", "_line")
LOAD_ERROR_COLUMNS = ("entity", "_file", "_line", "record_key", "error", "record")
_CAST_VALUE = re.compile(r'Could not convert string "(.*?)" to', re.S)


class SourceFileError(ValueError):
    """A source file cannot be used at all (missing required column, unreadable); names file and column."""


@dataclass
class EntityLoad:
    """What was read for one entity: the raw rows (as a DuckDB relation) and the lines that were not records."""

    entity: str
    files: list[Path]
    rows: duckdb.DuckDBPyRelation
    load_errors: list[tuple[str, str, int, str | None, str, str]] = field(default_factory=list)
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)


def entity_files(files_dir: Path, entity: str) -> list[Path]:
    """The files that hold ``entity`` in ``files_dir`` (``NAME.csv`` and/or ``NAME.jsonl``)."""
    return [p for p in (files_dir / f"{entity}.csv", files_dir / f"{entity}.jsonl") if p.is_file()]


def _type(spec: EntitySpec, column: str) -> str:
    return "timestamp" if column in spec.times else "varchar"


def _empty_select(spec: EntitySpec) -> str:
    cols = ", ".join(f"cast(null as {_type(spec, c)}) as {c}" for c in spec.columns)
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
    # Time columns are parsed by DuckDB's CSV reader (fast, ISO-8601, offsets honoured, naive = session
    # UTC); a value it cannot parse rejects that row alone, with its line, into the rejects table.
    types = {n: ("TIMESTAMPTZ" if n.strip().lower() in spec.times else "VARCHAR") for n in names}
    columns = "{" + ", ".join(f"{_sql_str(n)}: '{t}'" for n, t in types.items()) + "}"
    good = f"good_{spec.name}_csv"
    con.execute(
        f"create or replace temp table {good} as "
        f"select *, row_number() over () as _row from read_csv({p}, columns={columns}, header=true, "
        f"auto_detect=false, delim=',', quote='\"', escape='\"', store_rejects=true, "
        f"rejects_table='{rej}', rejects_scan='{scan}')"
    )
    key_index = [n.strip().lower() for n in names].index(spec.key)
    rejected = con.execute(
        f"select line, arg_min(error_type, column_idx), arg_min(column_name, column_idx), "
        f"arg_min(error_message, column_idx), any_value(csv_line) from {rej} group by line order by line"
    ).fetchall()
    for line, error_type, column, message, csv_line in rejected:
        # DuckDB prefixes the record with the blank lines before it; the line number is the record's own.
        csv_line = (csv_line or "").lstrip("\r\n")
        fields = next(csv.reader([csv_line]), [])
        key = fields[key_index].strip() if len(fields) > key_index else None
        if str(error_type).upper() == "CAST" and column:
            found = _CAST_VALUE.search(message or "")
            value = found.group(1) if found else "?"
            reason = f"{column.strip().lower()} {value} is not an ISO-8601 time"
        else:
            reason = f"not a CSV record: {message}"
        load.load_errors.append((spec.name, path.name, int(line), key or None, reason, csv_line or ""))
    # Good rows come back in file order. Their line is row + 1 (the header), shifted by every skipped
    # line before them (rejected, or blank: the reader drops blank lines silently but counts them in
    # line numbers): with skipped lines r_0 < r_1 < ..., good row k sits after r_i when k >= r_i - i - 1.
    skipped = sorted({int(line) for line, *_rest in rejected} | set(_blank_lines(path)))
    shifts = [line - i - 1 for i, line in enumerate(skipped)]
    line_expr = (
        f"_row + 1 + len(list_filter({shifts}::bigint[], lambda t: t <= _row))" if shifts else "_row + 1"
    )

    def column_expr(c: str) -> str:
        if c not in lowered:
            return f"cast(null as {_type(spec, c)}) as {c}"
        if c in spec.times:
            return f"timezone('UTC', {_quote(lowered[c])}) as {c}"
        return f"trim({_quote(lowered[c])}) as {c}"

    cols = ", ".join(column_expr(c) for c in spec.columns)
    return f"select {cols}, {_sql_str(path.name)} as _file, {line_expr} as _line from {good}"


def _blank_lines(path: Path) -> list[int]:
    """Numbers of the empty lines after the header of a CSV file (fast when there are none)."""
    if path.stat().st_size == 0:
        return []
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data.find(b"\n\n") < 0 and data.find(b"\n\r\n") < 0:
            return []
    with path.open("rb") as fh:
        return [n for n, line in enumerate(fh, start=1) if n > 1 and not line.strip(b"\r\n")]


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
        load.load_errors.append((spec.name, path.name, int(line), None, "not a JSON object", text[:2000]))
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
    extracted = ", ".join(f"trim(json_extract_string(j, {_sql_str('$.' + c)})) as {c}" for c in spec.columns)
    table = f"records_{spec.name}_jsonl"
    con.execute(f"create or replace temp table {table} as select {extracted}, line from ({valid})")
    # A time that does not parse rejects the record, as in CSV files; the reason names field and value.
    bad_time = " or ".join(
        f"(coalesce({c}, '') <> '' and try_cast({c} as timestamptz) is null)" for c in spec.times
    ) or "false"
    bad_rows = con.execute(
        f"select line, {spec.key}, to_json(t)::varchar, {', '.join(spec.times) or 'null'} from {table} as t where {bad_time}"
    ).fetchall()
    for row in bad_rows:
        line, key, record, values = row[0], row[1], row[2], row[3:]
        column, value = next(
            (c, v) for c, v in zip(spec.times, values, strict=True) if v and _is_bad_time(con, v)
        )
        load.load_errors.append(
            (spec.name, path.name, int(line), key, f"{column} {value} is not an ISO-8601 time", record)
        )
    cols = ", ".join(
        f"timezone('UTC', try_cast(nullif({c}, '') as timestamptz)) as {c}" if c in spec.times else c
        for c in spec.columns
    )
    return f"select {cols}, {_sql_str(path.name)} as _file, line as _line from {table} where not ({bad_time})"


def _is_bad_time(con: duckdb.DuckDBPyConnection, value: str) -> bool:
    return con.execute("select try_cast(? as timestamptz) is null", [value]).fetchone()[0]


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
