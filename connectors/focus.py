"""FOCUS cost-and-usage exports (FinOps Open Cost and Usage Specification 1.0, 1.1 and 1.2).

AWS Data Exports, Azure Cost Management (``FocusCost``) and GCP write the same columns, as CSV (often
gzipped) or Parquet, usually as a folder of part files per billing period. ``read_focus`` takes files
and/or folders, reads every ``*.csv``, ``*.csv.gz`` and ``*.parquet`` in them with DuckDB and returns
one relation of text columns in the raw shape (``RAW_COLUMNS``): the FOCUS columns as snake_case,
the FOCUS version the file's columns match, and the file and row each record came from. Typing and
validation happen in ``sql/staging/stg_focus__costs.sql``, which quarantines bad rows with a reason.

Required: the columns every version 1.0–1.2 defines (``REQUIRED``); a file without one of them is an
error naming the file and the column. Optional: the conditional columns (``ResourceId``, ``Tags``, ...)
and the ones later versions added (1.1 ``ServiceSubcategory``; 1.2 ``InvoiceId``,
``BillingAccountType``, ``SubAccountType``, ``PricingCurrency``): used when present, NULL otherwise.
Provider-specific ``x_`` columns are ignored. A CSV line that is not a record (wrong number of
fields) is reported as a load error with its line; every other line is still read.
"""

from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

SOURCE = "focus"

# Columns present in every FOCUS version 1.0–1.2 (mandatory there).
REQUIRED = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
)
# Conditional columns of every version, then the columns 1.1 and 1.2 added.
OPTIONAL = (
    "BillingAccountName",
    "SubAccountId",
    "SubAccountName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "RegionId",
    "ChargeFrequency",
    "ConsumedQuantity",
    "ConsumedUnit",
    "Tags",
    "ServiceSubcategory",  # 1.1
    "InvoiceId",  # 1.2
    "BillingAccountType",  # 1.2
    "SubAccountType",  # 1.2
    "PricingCurrency",  # 1.2
)
VERSION_MARKERS = (
    ("1.2", ("InvoiceId", "BillingAccountType", "SubAccountType", "PricingCurrency")),
    ("1.1", ("ServiceSubcategory",)),
)
LINEAGE = ("focus_version", "_file", "_line")
LOAD_ERROR_COLUMNS = ("source", "_file", "_line", "error", "record")
SUFFIXES = (".csv", ".csv.gz", ".parquet")


def snake(name: str) -> str:
    """``EffectiveCost`` -> ``effective_cost``: the raw table's column name for a FOCUS column."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


RAW_COLUMNS = tuple(snake(c) for c in REQUIRED + OPTIONAL) + LINEAGE


class FocusFileError(ValueError):
    """A FOCUS file cannot be used at all (missing required column, unreadable); names file and column."""


@dataclass
class FocusLoad:
    files: list[tuple[Path, str]]
    rows: duckdb.DuckDBPyRelation
    load_errors: list[tuple[str, str, int, str, str]] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def empty_select() -> str:
    cols = ", ".join(f"cast(null as varchar) as {c}" for c in RAW_COLUMNS if c != "_line")
    return f"select {cols}, cast(null as bigint) as _line where false"


def focus_files(paths: list[Path]) -> list[tuple[Path, str]]:
    """Every export file under ``paths`` with the name it is known by (its path below the folder given,
    or its file name), so ids and quarantine entries do not depend on where the folder sits."""
    found: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_file():
            found.append((path, path.name))
        elif path.is_dir():
            found.extend(
                (p, p.relative_to(path).as_posix())
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.name.lower().endswith(SUFFIXES)
            )
        else:
            raise FocusFileError(f"{SOURCE}: {path} does not exist")
    return found


def detect_version(columns: set[str]) -> str:
    """The newest FOCUS version whose added columns the file carries (1.0 when none)."""
    for version, markers in VERSION_MARKERS:
        if any(m.lower() in columns for m in markers):
            return version
    return "1.0"


def _check_columns(path: Path, names: list[str]) -> dict[str, str]:
    lowered = {n.strip().lower(): n for n in names}
    missing = [c for c in REQUIRED if c.lower() not in lowered]
    if missing:
        raise FocusFileError(
            f"{SOURCE}: {path.name} is missing required FOCUS column(s) {', '.join(missing)} "
            f"(FOCUS 1.0–1.2 all define them; found: {', '.join(names[:40]) or 'none'})."
        )
    return lowered


def _select_list(lowered: dict[str, str], name_as: str, version: str, expr) -> str:
    cols = []
    for name in REQUIRED + OPTIONAL:
        raw = lowered.get(name.lower())
        cols.append(
            f"{expr(raw, name)} as {snake(name)}" if raw else f"cast(null as varchar) as {snake(name)}"
        )
    cols.append(f"{_sql_str(version)} as focus_version")
    cols.append(f"{_sql_str(name_as)} as _file")
    return ", ".join(cols)


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh), [])


def _csv_select(con: duckdb.DuckDBPyConnection, path: Path, name_as: str, n: int, load: FocusLoad) -> str:
    names = _csv_header(path)
    lowered = _check_columns(path, names)
    version = detect_version(set(lowered))
    load.versions[name_as] = version
    p = _sql_str(str(path))
    rej, scan, good = f"focus_rej_{n}", f"focus_scan_{n}", f"focus_good_{n}"
    columns = "{" + ", ".join(f"{_sql_str(c)}: 'VARCHAR'" for c in names) + "}"
    con.execute(
        f"create or replace temp table {good} as "
        f"select *, row_number() over () as _k from read_csv({p}, columns={columns}, header=true, auto_detect=false, "
        f"delim=',', quote='\"', escape='\"', store_rejects=true, rejects_table='{rej}', rejects_scan='{scan}')"
    )
    rejected = con.execute(
        f"select line, arg_min(error_message, column_idx), any_value(csv_line) from {rej} group by line order by line"
    ).fetchall()
    for line, message, csv_line in rejected:
        load.load_errors.append((SOURCE, name_as, int(line), f"not a CSV record: {message}", csv_line or ""))
    # Good rows come back in file order: number them by skipping the rejected lines (line 1 is the header).
    total = con.execute(f"select count(*) from {good}").fetchone()[0] + len(rejected)
    con.execute(
        f"create or replace temp table focus_lines_{n} as "
        f"select range as line, row_number() over (order by range) as _k from range(2, {total + 2}) "
        f"where range not in (select line from {rej})"
    )
    cols = _select_list(lowered, name_as, version, lambda raw, _name: f"nullif(trim(g.{_quote(raw)}), '')")
    return f"select {cols}, l.line as _line from {good} g join focus_lines_{n} l using (_k)"


def _parquet_select(con: duckdb.DuckDBPyConnection, path: Path, name_as: str, load: FocusLoad) -> str:
    p = _sql_str(str(path))
    schema = con.execute(f"describe select * from read_parquet({p})").fetchall()
    types = {name: str(kind) for name, kind, *_ in schema}
    lowered = _check_columns(path, list(types))
    version = detect_version(set(lowered))
    load.versions[name_as] = version

    def expr(raw: str, name: str) -> str:
        kind = types[raw].upper()
        if name == "Tags" and not kind.startswith("VARCHAR"):
            return f"to_json({_quote(raw)})::varchar"  # MAP/STRUCT tags (AWS Parquet) as a JSON object
        if kind.startswith("TIMESTAMP"):
            # Typed instants keep their zone: written as ISO-8601 UTC text like the CSV exports.
            return f"strftime(timezone('UTC', {_quote(raw)}::timestamptz), '%Y-%m-%dT%H:%M:%SZ')"
        return f"cast({_quote(raw)} as varchar)"

    cols = _select_list(lowered, name_as, version, expr)
    return f"select {cols}, file_row_number + 1 as _line from read_parquet({p}, file_row_number=true)"


def read_focus(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> FocusLoad:
    """Every FOCUS export file under ``paths`` as one relation in the raw shape (text columns).

    Raises FocusFileError when a file lacks a required column or cannot be read.
    """
    files = focus_files(paths)
    load = FocusLoad(files=files, rows=con.sql(empty_select()))
    selects = []
    for n, (path, name_as) in enumerate(files):
        try:
            if path.name.lower().endswith(".parquet"):
                selects.append(_parquet_select(con, path, name_as, load))
            else:
                selects.append(_csv_select(con, path, name_as, n, load))
        except duckdb.Error as exc:
            raise FocusFileError(f"{SOURCE}: {path.name} could not be read: {exc}") from exc
    if selects:
        load.rows = con.sql(" union all by name ".join(f"({s})" for s in selects))
    return load
