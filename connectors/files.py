"""Bring-your-own-data: canonical entity files (CSV or JSON Lines) read into DuckDB, every line accounted for.

This is the generic source every later connector feeds: a folder holding, per entity, ``NAME.csv``
and/or ``NAME.jsonl`` (services, deployments, changes, incidents, builds; the name's case does not
matter). DuckDB parses the files as text; time columns are then cast in SQL (ISO-8601; an offset is
converted to UTC, a naive time means UTC). Every other value is kept as the text the file holds, and
the staging models validate it and quarantine bad rows with a reason. Each row keeps its file name
and line so a quarantined row can be found again.

Whole-file problems stop the run with an error naming the file (and the line, byte or column): a
required column missing, a column named twice, a header that is not UTF-8, an entity file that is a
folder or a broken link. A line that is not a record (wrong number of fields, an unbalanced quote,
not UTF-8, not a JSON object, too long) or holds a time that does not parse is a load error with its
line, key and reason (it lands in ops.quarantine), and every other line is still loaded. Every
physical line of a file must end up as the header, blank, or part of a loaded or quarantined record
(see connectors/file_scan.py); the counts are kept per file for ops.file_accounting.
"""

from __future__ import annotations

import csv
import itertools
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from connectors import file_scan
from connectors.file_scan import LineScan

SOURCE = "files"
FORMATS = (".csv", ".jsonl")
# Names in the folder that look like data but are not entity files are reported, not read silently.
_DATA_SUFFIXES = {
    ".csv",
    ".tsv",
    ".txt",
    ".json",
    ".jsonl",
    ".ndjson",
    ".gz",
    ".zip",
    ".xlsx",
    ".xls",
    ".parquet",
}
# How much of a bad record ops.quarantine keeps.
RECORD_TEXT_CHARS = 2000
_CAST_VALUE = re.compile(r'Could not convert string "(.*?)" to', re.S)


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
            # The pull-request flow (all optional; a file without them loads as before). The review
            # times are the source's already-filtered ones: the first review by someone other than
            # the author and not a bot, and the first approval.
            (
                "deployment_id",
                "opened_at",
                "ready_at",
                "first_review_at",
                "approved_at",
                "additions",
                "deletions",
                "commits",
                "url",
            ),
            ("first_commit_at", "merged_at", "opened_at", "ready_at", "first_review_at", "approved_at"),
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
        # Developer-experience survey exports, one row per response. Free-text answers are never
        # loaded: any column not named here is dropped on import (and listed as ignored).
        EntitySpec(
            "survey_responses",
            "response_id",
            ("response_id", "submitted_at", "team"),
            ("survey", "satisfaction", "nps"),
            ("submitted_at",),
        ),
        # The enablement sessions register: one row per session held (workshop, training, office
        # hours) with its audience team (blank: the whole organisation) and its attendees as a
        # ';'-separated list of ids (emails or handles; only their hashes leave the staging layer).
        EntitySpec(
            "enablement_sessions",
            "session_id",
            ("session_id", "held_at", "topic"),
            ("team", "attendees"),
            ("held_at",),
        ),
        # Platform adoption (golden paths, pipeline templates, documentation freshness). Catalog and CI
        # rows are snapshots: every row of one snapshot_at (scanned_at per repo) is the whole state at
        # that time, so history is what was seen then, never re-derived from today's state.
        EntitySpec(
            "catalog_entities",
            "name",
            ("snapshot_at", "kind", "name"),
            (
                "namespace",
                "type",
                "lifecycle",
                "owner",
                "system",
                "repo",
                "source_template",
                "techdocs_ref",
                "pagerduty_service",
                "runbook_url",
                "tags",
                "url",
            ),
            ("snapshot_at",),
        ),
        # One row per template reference found in a repository's CI configuration (a workflow's
        # `uses:`, a GitLab `include:`, a Jenkinsfile `@Library`); a scanned file without any
        # reference is one row with a blank reference.
        EntitySpec(
            "ci_config_scans",
            "repo",
            ("scanned_at", "repo", "path"),
            ("kind", "reference", "version"),
            ("scanned_at",),
        ),
        # One row per known edit of a document (at least its latest one).
        EntitySpec(
            "docs_pages",
            "doc_id",
            ("doc_id", "service", "updated_at"),
            ("kind", "title", "labels", "url", "created_at"),
            ("updated_at", "created_at"),
        ),
        # Alerts (pages) from any alerting tool, one row per alert: who acknowledged it (a person or
        # an integration), how it was resolved (by a person, or automatically: auto, timeout,
        # integration) and the incident it became part of, if any.
        EntitySpec(
            "alerts",
            "alert_id",
            ("alert_id", "service", "created_at"),
            (
                "acknowledged_at",
                "acknowledged_by",
                "resolved_at",
                "resolved_by",
                "incident_id",
                "severity",
                "occurrences",
                "alert_source",
            ),
            ("created_at", "acknowledged_at", "resolved_at"),
        ),
    )
}

# Columns every raw table carries besides the entity's own.
LINEAGE_COLUMNS = ("_file", "_line")
LOAD_ERROR_COLUMNS = ("entity", "_file", "_line", "record_key", "error", "record")
MANIFEST_COLUMNS = (
    "entity",
    "file",
    "format",
    "status",
    "bytes",
    "lines",
    "header_lines",
    "blank_lines",
    "continuation_lines",
    "records",
    "load_errors",
    "repaired",
    "ignored_columns",
    "note",
)


class SourceFileError(ValueError):
    """A source file cannot be used at all (missing or repeated column, unreadable); names the file and what to fix."""


@dataclass
class FileStats:
    """What reading one file found: its lines, and what became of them (a row of raw.files__manifest).

    Every physical line is the header, blank, a continuation line of a record whose quoted field
    spans lines, or the first line of a record; ``records`` = rows loaded into raw + load errors.
    """

    entity: str | None
    file: str | None
    format: str | None
    status: str  # read | empty | missing | ignored
    bytes: int = 0
    lines: int = 0
    header_lines: int = 0
    blank_lines: int = 0
    continuation_lines: int = 0
    records: int = 0
    load_errors: int = 0
    repaired: bool = False  # whether lines had to be set aside before DuckDB could read the file
    ignored_columns: list[str] = field(default_factory=list)
    note: str = ""

    def row(self) -> tuple:
        return tuple(getattr(self, c) for c in MANIFEST_COLUMNS)


@dataclass
class EntityLoad:
    """What was read for one entity: the raw rows (as a DuckDB relation) and the lines that were not records."""

    entity: str
    files: list[Path]
    rows: duckdb.DuckDBPyRelation
    load_errors: list[tuple[str, str, int, str | None, str, str]] = field(default_factory=list)
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    stats: list[FileStats] = field(default_factory=list)


@dataclass(frozen=True)
class FolderListing:
    """The entity files of an input folder, and the data-looking files that are not entity files."""

    folder: Path
    by_entity: dict[str, list[Path]]
    ignored: list[str]


def list_folder(files_dir: Path) -> FolderListing:
    """Find each entity's files (``NAME.csv`` / ``NAME.jsonl``, any case) and check they can be read.

    Raises SourceFileError for a folder that does not exist, two files that would both be read as the
    same entity file (``deployments.csv`` and ``Deployments.csv``), and an entity file that is a
    folder, a link that cannot be followed (missing target, loop) or not a regular file.
    """
    if not files_dir.is_dir():
        raise SourceFileError(f"{SOURCE}: folder {files_dir} does not exist (or is not a folder)")
    wanted = {f"{e}{ext}": (e, ext) for e in ENTITIES for ext in FORMATS}
    found: dict[str, list[str]] = {}
    ignored = []
    for entry in sorted(os.scandir(files_dir), key=lambda e: e.name):
        lowered = entry.name.lower()
        if lowered in wanted:
            found.setdefault(lowered, []).append(entry.name)
        elif Path(lowered).suffix in _DATA_SUFFIXES and not entry.name.startswith("."):
            ignored.append(entry.name)
    by_entity: dict[str, list[Path]] = {e: [] for e in ENTITIES}
    for lowered, names in sorted(
        found.items(), key=lambda kv: (list(ENTITIES).index(wanted[kv[0]][0]), kv[0])
    ):
        if len(names) > 1:
            raise SourceFileError(
                f"{SOURCE}: {files_dir} holds {' and '.join(names)}; both would be read as {lowered}. "
                "Keep one of them."
            )
        path = files_dir / names[0]
        _check_file(path)
        by_entity[wanted[lowered][0]].append(path)
    return FolderListing(files_dir, by_entity, ignored)


def _check_file(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if path.is_symlink():
            raise SourceFileError(
                f"{SOURCE}: {path.name} is a symbolic link that cannot be followed ({exc.strerror}); "
                "point it at the file, or put the file itself in the folder."
            ) from exc
        raise SourceFileError(f"{SOURCE}: {path.name} cannot be read: {exc.strerror}") from exc
    if stat.S_ISDIR(mode):
        raise SourceFileError(
            f"{SOURCE}: {path.name} is a folder, not a file; put the records in a file of that name."
        )
    if not stat.S_ISREG(mode):
        raise SourceFileError(f"{SOURCE}: {path.name} is not a regular file (a pipe or device?)")
    if not os.access(path, os.R_OK):
        raise SourceFileError(f"{SOURCE}: {path.name} cannot be read (permission denied)")


def entity_files(files_dir: Path, entity: str) -> list[Path]:
    """The files that hold ``entity`` in ``files_dir`` (``NAME.csv`` and/or ``NAME.jsonl``, any case)."""
    return list_folder(files_dir).by_entity[entity]


def _type(spec: EntitySpec, column: str) -> str:
    return "timestamp" if column in spec.times else "varchar"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_tags = itertools.count()


class _Reader:
    """Reads one file of one entity into the entity's raw table, and keeps what it found."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, path: Path, spec: EntitySpec, load: EntityLoad, table: str
    ) -> None:
        self.con, self.path, self.spec, self.load, self.table = con, path, spec, load, table
        self.tag = f"{spec.name}_{next(_tags)}"
        self.stats = FileStats(spec.name, path.name, path.suffix.lower().lstrip("."), "read")
        self.stats.bytes = path.stat().st_size
        if path.name != path.name.lower():
            self.stats.note = f"read as {path.name.lower()}"
        self.errors: list[tuple[str, str, int, str | None, str, str]] = []
        load.stats.append(self.stats)

    def error(self, line: int, key: str | None, reason: str, record: str) -> None:
        self.errors.append((self.spec.name, self.path.name, int(line), key or None, reason, record))

    def fail(self, message: str) -> SourceFileError:
        return SourceFileError(f"{SOURCE}: {self.path.name} {message}")

    def duckdb_rejects(self, reject_table: str) -> list[tuple]:
        """DuckDB's rejected records, one per line: (line, [error type], [column], [message], last
        column, text), the lists in column order."""
        rows = self.con.execute(
            f"select line, list(error_type order by column_idx), list(column_name order by column_idx), "
            f"list(error_message order by column_idx), max(column_idx), any_value(csv_line) "
            f"from {reject_table} group by line order by line"
        ).fetchall()
        # DuckDB prefixes the record with the blank lines before it; the line number is the record's own.
        return [(*r[:5], (r[5] or "").lstrip("\r\n")) for r in rows]

    def insert(self, select: str) -> int:
        """Append the rows of ``select`` (entity columns, _line, _load_error) to the raw table."""
        return self.con.execute(
            f"insert into {self.table} by name select *, {_sql_str(self.path.name)} as _file from ({select})"
        ).fetchone()[0]

    def number_rows(self, first: int) -> None:
        """Give the rows just inserted without a line their provisional line: record number + first - 1.

        The table keeps the order of the file (DuckDB preserves insertion order), so the rows of one
        insert hold consecutive row ids; numbering from them costs a fraction of a row_number()
        window over the read (0.1 s instead of 1.2 s for 2M rows), which runs on one thread.
        """
        where = f"_file = {_sql_str(self.path.name)} and _line is null"
        low, high, n = self.con.execute(
            f"select min(rowid), max(rowid), count(*) from {self.table} where {where}"
        ).fetchone()
        if not n:
            return
        if high - low + 1 == n:
            self.con.execute(f"update {self.table} set _line = rowid - {low} + {first} where {where}")
        else:  # not one run of row ids: number them in row-id order instead
            self.con.execute(
                f"update {self.table} set _line = n.line from (select rowid as r, row_number() over (order by rowid) "
                f"+ {first - 1} as line from {self.table} where {where}) as n where {self.table}.rowid = n.r"
            )

    def forget_rows(self) -> None:
        self.con.execute(f"delete from {self.table} where _file = ?", [self.path.name])

    def renumber(self, skipped: list[int], first: int) -> None:
        _renumber(self.con, self.table, f"_file = {_sql_str(self.path.name)}", skipped, first)

    def take_time_errors(self, scan: LineScan) -> None:
        """Rows whose time did not parse become load errors (the line as the file holds it)."""
        rows = self.con.execute(
            f"select _line, {self.spec.key}, _load_error from {self.table} "
            "where _file = ? and _load_error is not null order by _line",
            [self.path.name],
        ).fetchall()
        if rows:
            for line, key, reason in rows:
                self.error(line, key, reason, scan.text(line, RECORD_TEXT_CHARS))
            self.con.execute(
                f"delete from {self.table} where _file = ? and _load_error is not null", [self.path.name]
            )


def _renumber(con: duckdb.DuckDBPyConnection, table: str, where: str, skipped: list[int], first: int) -> None:
    """Turn the rows' provisional line (record number + first - 1) into their physical line.

    Record k sits on the k-th line (from ``first`` on) that is not skipped. With skipped lines
    s_0 < s_1 < ..., record k comes after s_i exactly when k >= s_i - i - first + 1, so its line is
    k + first - 1 + (number of such i): an ASOF join finds that number. Only rows after the first
    skipped line change, so a file without skipped lines costs nothing here.
    """
    if not skipped:
        return
    thresholds = [line - i - first + 1 for i, line in enumerate(sorted(skipped))]
    offset = first - 1
    con.execute(
        f"update {table} set _line = _line + s.n from ("
        f"select r.k, s.n from (select _line - {offset} as k from {table} where {where} and _line - {offset} >= $lo) as r "
        "asof join (select t, max(n) as n from (select unnest($t::bigint[]) as t, unnest($n::bigint[]) as n) "
        "group by t) as s on s.t <= r.k"
        f") as s where {where} and _line - {offset} = s.k",
        {"t": thresholds, "n": list(range(1, len(thresholds) + 1)), "lo": thresholds[0]},
    )


def _casts_and_time_errors(spec: EntitySpec) -> tuple[str, str]:
    """SQL over columns <time>__text: each time column cast to UTC, and the row's time errors (or NULL).

    A time is bad when it is not blank and does not parse, or parses to infinity.
    """
    casts = [f"timezone('UTC', try_cast({c}__text as timestamptz)) as {c}" for c in spec.times]
    checks = [
        (
            f"({c}__text is not null and ({c} is null or not isfinite({c})))",
            f"'{c} ' || {c}__text || ' is not an ISO-8601 time'",
        )
        for c in spec.times
    ]
    if not checks:
        return "", "cast(null as varchar)"
    error = (
        "case when "
        + " or ".join(b for b, _ in checks)
        + " then concat_ws('; ', "
        + ", ".join(f"case when {b} then {r} end" for b, r in checks)
        + ") end"
    )
    return ", ".join(casts), error


def _typed_select(spec: EntitySpec, inner: str) -> str:
    """Entity columns (times cast), _line and _load_error, from ``inner`` (text columns, <time>__text, _line)."""
    casts, error = _casts_and_time_errors(spec)
    typed = f"select *, {casts} from ({inner})" if casts else inner
    return f"select {', '.join(spec.columns)}, _line, {error} as _load_error from ({typed})"


# --------------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------------


def _header(reader: _Reader, scan: LineScan) -> list[str]:
    raw = scan.first_line()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise reader.fail(
            "is UTF-16 text; re-save it as UTF-8 (in Excel: Save As > CSV UTF-8) and run again."
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise reader.fail(
            f"line 1 (the header), byte {exc.start + 1}: not UTF-8 text (byte 0x{raw[exc.start]:02X}). "
            "Re-save the file as UTF-8 (in Excel: Save As > CSV UTF-8) and run again."
        ) from exc
    if not text.strip():
        raise reader.fail("line 1 is empty: the first line must be the header (column names).")
    if "\r" in text:
        raise reader.fail(
            "line 1 (the header) holds a carriage return (\\r): the file uses old Mac line endings; "
            "re-save it with LF or CRLF line endings."
        )
    try:
        return next(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise reader.fail(f"line 1 (the header) is not a CSV row: {exc}") from exc


def _check_columns(reader: _Reader, names: list[str]) -> dict[str, int]:
    """The position of each entity column in the header; raises for a missing or repeated column."""
    spec = reader.spec
    lowered = [n.strip().lower() for n in names]
    positions: dict[str, list[int]] = {}
    for i, n in enumerate(lowered):
        positions.setdefault(n, []).append(i)
    missing = [c for c in spec.required if c not in positions]
    if missing:
        raise reader.fail(
            f"is missing required column(s) {', '.join(repr(m) for m in missing)} "
            f"(found: {', '.join(names) or 'none'}). Required for {spec.name}: {', '.join(spec.required)}."
        )
    # A column named twice holds two values for one field; which is right cannot be guessed, and
    # keeping either silently could put the wrong time or status into every KPI. Stop and say so.
    for c in spec.columns:
        if len(positions.get(c, [])) > 1:
            where = " and ".join(f"{i + 1} ({names[i]!r})" for i in positions[c])
            raise reader.fail(
                f"line 1 (the header) names column {c!r} more than once: columns {where}. "
                "Remove or rename the extra column(s) and run again."
            )
    extra = [n for n, low in zip(names, lowered, strict=True) if low not in spec.columns]
    if extra:
        reader.stats.ignored_columns = extra
        reader.load.ignored_columns[reader.path.name] = extra
    return {c: positions[c][0] for c in spec.columns if c in positions}


def _reject_reason(reject: tuple, columns: int, names: list[str], times: dict[str, str], raw: bytes) -> str:
    """Why DuckDB rejected a line, in the user's terms: the structural error if there is one (a line
    with 50,000 fields is that, not a bad time), else every time that did not parse."""
    _line, kinds, cols, messages, max_idx, _text = reject
    for kind, col, message in zip(kinds, cols, messages, strict=True):
        if str(kind).upper() != "CAST":
            return _reason(kind, col, message, max_idx, columns, names, raw)
    bad = []
    for col, message in zip(cols, messages, strict=True):
        value = _CAST_VALUE.search(message or "")
        bad.append(f"{times.get(col, col)} {value.group(1) if value else '?'} is not an ISO-8601 time")
    return "; ".join(bad)


def _reason(
    error_type: str,
    column: str | None,
    message: str | None,
    max_idx,
    columns: int,
    names: list[str],
    raw: bytes,
) -> str:
    """Why DuckDB rejected a line (one error of it), in the user's terms."""
    kind = str(error_type).upper()
    message = message or ""
    if kind == "TOO MANY COLUMNS":
        return f"has {int(max_idx):,} fields; the header has {columns}"
    if kind == "MISSING COLUMNS":
        found = re.search(r"Found: (\d+)", message)
        return f"has {found.group(1) if found else 'fewer'} field(s); the header has {columns}"
    if kind == "INVALID ENCODING":
        try:
            raw.decode("utf-8")
            where = ""
        except UnicodeDecodeError as exc:
            where = f" (byte 0x{raw[exc.start]:02X} at byte {exc.start + 1} of the line)"
        return f"not UTF-8 text{where}: re-save the file as UTF-8"
    if kind == "LINE SIZE OVER MAXIMUM":
        size = re.search(r"Actual Size:\s*(\d+)", message)
        actual = f"{int(size.group(1)):,} bytes" if size else "too long"
        return f"the record is {actual}, over the {file_scan.MAX_RECORD_BYTES:,}-byte limit"
    if kind == "UNQUOTED VALUE":
        return (
            f'a quote (") in {_column_name(column, names)} is not a proper CSV quote (text after a closing '
            "quote, or an opening quote that does not close on this line): quote the whole field and "
            'double every quote inside it ("")'
        )
    return f"not a CSV record: {kind.lower()}: {message}"


def _column_name(column: str | None, names: list[str]) -> str:
    if column and column.startswith("c") and column[1:].isdigit() and int(column[1:]) < len(names):
        return f"column {names[int(column[1:])]!r}"
    return "a field"


def _key_of(text: str, key_index: int) -> str | None:
    """The record's id as well as it can be told from a line that is not a proper record."""
    try:
        fields = next(csv.reader([text], strict=True))
    except (csv.Error, StopIteration):
        fields = [f.strip().strip('"') for f in text.split(",")]  # an unbalanced quote: split plainly
    return (fields[key_index].strip() or None) if len(fields) > key_index else None


def _load_csv(reader: _Reader) -> None:
    spec, path, stats = reader.spec, reader.path, reader.stats
    scan = file_scan.scan_lines(path, count=b",")
    stats.lines = scan.lines
    if scan.lines == 0:
        stats.status, stats.note = "empty", "empty file (not even a header)"
        return
    names = _header(reader, scan)
    positions = _check_columns(reader, names)
    stats.header_lines = 1
    if scan.lines == 1:
        stats.note = "header only: no records"
        return
    columns = len(names)

    file_scan.set_aside_nul_lines(scan)
    file_scan.set_aside_wide_lines(scan, columns)
    attempt = None if scan.set_aside else _csv_into_table(reader, scan, path, names, positions)
    if attempt is None:  # lines DuckDB must not see, or its read did not account for every line
        reader.forget_rows()
        stats.repaired = True
        file_scan.find_multiline_records(scan, columns, sorted(positions.values()), names)
        file_scan.set_aside_lone_cr_lines(scan)
        file_scan.set_aside_wide_lines(scan, columns)
        tmp = Path(tempfile.mkdtemp(prefix="kpi-import-"))
        try:
            source = file_scan.write_without_set_aside(scan, tmp / "clean.csv") if scan.set_aside else path
            attempt = _csv_into_table(reader, scan, source, names, positions)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if attempt is None:
            raise reader.fail(
                f"could not be read so that each of its {scan.lines:,} lines is accounted for (the header, "
                "blank, or part of a loaded or quarantined record), so it was not loaded. Check the file "
                "for unbalanced quotes or mixed line endings, or save it as JSON Lines."
            )
    good, rejects, skipped, blank = attempt
    reader.renumber(sorted(skipped), first=2)

    key_index = positions[spec.key]
    for line, reason in sorted(scan.set_aside.items()):
        text = scan.text(line, RECORD_TEXT_CHARS)
        reader.error(line, _key_of(text, key_index), reason, text)
    times = {f"c{positions[c]}": c for c in spec.times if c in positions}
    for reject in rejects:
        line = reject[0]
        text = scan.text(line, RECORD_TEXT_CHARS)
        reason = _reject_reason(reject, columns, names, times, scan.raw(line))
        reader.error(line, _key_of(text, key_index), reason, text)
    reader.take_time_errors(scan)

    stats.blank_lines = len(blank)
    stats.continuation_lines = len(scan.continuation)
    stats.records = good + len(scan.set_aside) + len(rejects)


def _csv_into_table(
    reader: _Reader, scan: LineScan, source: Path, names: list[str], positions: dict[str, int]
):
    """Parse ``source`` with DuckDB into the raw table; None unless every physical line is accounted for.

    Returns (good records, rejects by line, skipped lines, blank lines). Skipped lines are the data
    lines that are not the first line of a good record: blank, set aside, rejected or continuation.
    Rows get a provisional line (record number + 1) that ``renumber`` corrects.
    """
    con, spec, tag = reader.con, reader.spec, reader.tag
    # Times are parsed by DuckDB's CSV reader (text columns and casting in SQL cost 1.4x more, measured
    # here): a time it cannot parse rejects that record alone, with its line and value.
    time_at = {positions[c] for c in spec.times if c in positions}
    columns = (
        "{"
        + ", ".join(f"'c{i}': '{'TIMESTAMPTZ' if i in time_at else 'VARCHAR'}'" for i in range(len(names)))
        + "}"
    )
    rej, rej_scan = f"rej_{tag}", f"rejscan_{tag}"
    values, infinite = [], []
    for c in spec.columns:
        if c not in positions:
            values.append(f"cast(null as {_type(spec, c)}) as {c}")
        elif c in spec.times:
            # The UTC wall time, by arithmetic: timezone('UTC', x) goes through ICU and costs more.
            values.append(
                f"case when isfinite(c{positions[c]}) then make_timestamp(epoch_us(c{positions[c]})) end as {c}"
            )
            # DuckDB reads 'infinity' as a time; it is not one.
            infinite.append(
                (
                    f"not isfinite(c{positions[c]})",
                    f"'{c} ' || case when c{positions[c]} > timestamptz '2000-01-01' then 'infinity' "
                    f"else '-infinity' end || ' is not an ISO-8601 time'",
                )
            )
        else:
            values.append(f"trim(c{positions[c]}) as {c}")
    error = (
        (
            "case when "
            + " or ".join(b for b, _ in infinite)
            + " then concat_ws('; ', "
            + ", ".join(f"case when {b} then {r} end" for b, r in infinite)
            + ") end"
        )
        if infinite
        else "cast(null as varchar)"
    )
    select = (
        f"select {', '.join(values)}, {error} as _load_error "
        f"from read_csv({_sql_str(str(source))}, columns={columns}, header=true, auto_detect=false, "
        f"delim=',', quote='\"', escape='\"', strict_mode=true, max_line_size={file_scan.MAX_RECORD_BYTES}, "
        f"store_rejects=true, rejects_table='{rej}', rejects_scan='{rej_scan}')"
    )
    try:
        con.execute(f"drop table if exists {rej}; drop table if exists {rej_scan}")
        good = reader.insert(select)
        reader.number_rows(first=2)
    except duckdb.Error:
        if reader.stats.repaired:
            raise
        return None
    rejects = reader.duckdb_rejects(rej)
    spaces = {int(r[0]) for r in rejects if not r[5].strip()}  # a line of only spaces is blank, not a record
    kept = [r for r in rejects if int(r[0]) not in spaces]
    parts = [spaces, set(scan.set_aside), scan.continuation, {int(r[0]) for r in kept}]
    # DuckDB skips empty lines without a word: they are the lines left over, and are looked for (which
    # needs the line index) only when there are any.
    empty_lines = scan.lines - 1 - good - sum(len(p) for p in parts)
    empty = set(scan.blank_lines()) if empty_lines > 0 else set()
    parts.append(empty)
    skipped = set().union(*parts)
    accounted = (
        sum(len(p) for p in parts) == len(skipped)  # no line counted twice
        and all(2 <= n <= scan.lines for n in skipped)
        # no rejected record swallowed lines beyond the ones known to belong to it
        and all("\n" not in r[5] or int(r[0]) + 1 in scan.continuation for r in kept)
        and 1 + len(skipped) + good == scan.lines
    )
    return (good, kept, skipped, spaces | empty) if accounted else None


# --------------------------------------------------------------------------------------------------
# JSON Lines
# --------------------------------------------------------------------------------------------------


def _load_jsonl(reader: _Reader) -> None:
    con, spec, path, stats = reader.con, reader.spec, reader.path, reader.stats
    scan = file_scan.scan_lines(path)
    stats.lines = scan.lines
    if scan.lines == 0:
        stats.status, stats.note = "empty", "empty file"
        return
    # The unit separator is the column delimiter DuckDB is given (it never occurs in valid JSON).
    file_scan.set_aside_control_lines(
        scan, 0x1F, "not valid JSON: it contains the control character U+001F; escape it as \\u001f"
    )
    rejects = None if scan.set_aside else _lines_into_table(reader, scan, path)
    if rejects is None:
        stats.repaired = True
        file_scan.set_aside_lone_cr_lines(scan)
        tmp = Path(tempfile.mkdtemp(prefix="kpi-import-"))
        try:
            source = file_scan.write_without_set_aside(scan, tmp / "clean.jsonl") if scan.set_aside else path
            rejects = _lines_into_table(reader, scan, source)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if rejects is None:
            raise reader.fail(
                f"could not be read so that each of its {scan.lines:,} lines is accounted for; it was not loaded."
            )
    for line, reason in sorted(scan.set_aside.items()):
        reader.error(line, _json_key(scan, line, spec.key), reason, scan.text(line, RECORD_TEXT_CHARS))
    for line, kinds, _columns, messages, _max, _text in rejects:
        kind, message = str(kinds[0]).upper(), messages[0]
        if kind in ("INVALID ENCODING", "LINE SIZE OVER MAXIMUM"):
            reason = _reason(kind, None, message, None, 1, [], scan.raw(line))
        else:
            reason = f"not a JSON object: {kind.lower()}: {message}"
        reader.error(line, _json_key(scan, line, spec.key), reason, scan.text(line, RECORD_TEXT_CHARS))

    # Physical line of each row: the row number, shifted past the lines DuckDB rejected.
    lines = f"jlines_{reader.tag}"
    con.execute(
        f"create or replace temp table {lines} as select _row as _line, try_cast(l as json) as j, "
        f"l is null or trim(l) = '' as _blank from lines_{reader.tag}"
    )
    _renumber(con, lines, "true", [int(r[0]) for r in rejects], first=1)
    # Set-aside lines were emptied in the copy DuckDB read: they are load errors, not blank lines.
    blank = con.execute(f"select count(*) from {lines} where _blank").fetchone()[0] - len(scan.set_aside)
    not_objects = con.execute(
        f"select _line, coalesce(json_type(j), 'invalid') from {lines} "
        "where not _blank and (j is null or json_type(j) <> 'OBJECT') order by _line"
    ).fetchall()
    for n, (line, kind) in enumerate(not_objects):
        if kind != "invalid":
            reason = f"not a JSON object (a JSON {kind.lower()}; one object per line)"
        elif n < 200:  # DuckDB's own words for the first few hundred
            reason = f"not valid JSON: {_json_error(con, scan.raw(line))}"
        else:
            reason = "not valid JSON"
        reader.error(line, _json_key(scan, line, spec.key), reason, scan.text(line, RECORD_TEXT_CHARS))
    valid = f"select _line, j from {lines} where json_type(j) = 'OBJECT'"
    spellings = _json_spellings(reader, valid)

    def value(c: str) -> str:
        extracts = [f"json_extract_string(j, {_sql_str(_json_path(k))})" for k in spellings.get(c, [])]
        if not extracts:
            return "cast(null as varchar)"
        return f"nullif(trim({extracts[0] if len(extracts) == 1 else 'coalesce(' + ', '.join(extracts) + ')'}), '')"

    # Two spellings of one field in one record (Status and status): which holds the value is a guess.
    clashes = [(c, keys) for c, keys in spellings.items() if len(keys) > 1]
    if clashes:
        clash_sql = " or ".join(
            "(" + " + ".join(f"json_exists(j, {_sql_str(_json_path(k))})::int" for k in keys) + ") > 1"
            for _c, keys in clashes
        )
        names = "; ".join(" and ".join(keys) + f" both name {c}" for c, keys in clashes)
        for (line,) in con.execute(
            f"select _line from ({valid}) where {clash_sql} order by _line"
        ).fetchall():
            reader.error(
                line,
                _json_key(scan, line, spec.key),
                f"keys differing only in case name one field ({names})",
                scan.text(line, RECORD_TEXT_CHARS),
            )
        valid += f" and not ({clash_sql})"
    texts = [
        f"{value(c)} as {c}" if c not in spec.times else f"{value(c)} as {c}__text" for c in spec.columns
    ]
    reader.insert(_typed_select(spec, f"select _line, {', '.join(texts)} from ({valid})"))
    reader.take_time_errors(scan)
    stats.blank_lines = blank
    stats.records = _rows_of(reader) + len(reader.errors)
    if stats.blank_lines + stats.records != scan.lines:
        raise reader.fail(
            f"has {scan.lines:,} lines but {stats.blank_lines + stats.records:,} were accounted for; it was not loaded."
        )


def _rows_of(reader: _Reader) -> int:
    return reader.con.execute(
        f"select count(*) from {reader.table} where _file = ?", [reader.path.name]
    ).fetchone()[0]


def _json_key(scan: LineScan, line: int, key: str) -> str | None:
    """The record's id from a line that is not a usable record, if it names one plainly."""
    found = re.search(
        r'"\s*' + re.escape(key) + r'\s*"\s*:\s*"([^"\\]*)"', scan.text(line, RECORD_TEXT_CHARS), re.I
    )
    return found.group(1).strip() or None if found else None


def _json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _json_error(con: duckdb.DuckDBPyConnection, raw: bytes) -> str:
    try:
        con.execute("select json(?)", [raw.decode("utf-8", "replace")]).fetchone()
    except duckdb.Error as exc:
        message = re.sub(r"^[A-Za-z ]+Error: ", "", str(exc).split("\n", 1)[0])
        return message.split("  Input:")[0].strip()
    return "unknown error"


def _json_spellings(reader: _Reader, valid: str) -> dict[str, list[str]]:
    """The keys used for each entity column (matched case-insensitively, spaces trimmed).

    Raises SourceFileError when a required column is in no record at all; keys that name no column
    are reported as ignored.
    """
    con, spec = reader.con, reader.spec
    keys = [
        k
        for (k,) in con.execute(f"select distinct unnest(json_keys(j)) from ({valid}) order by 1").fetchall()
    ]
    spellings: dict[str, list[str]] = {}
    for k in keys:
        spellings.setdefault(k.strip().lower(), []).append(k)
    if con.execute(f"select count(*) from ({valid})").fetchone()[0]:
        missing = [c for c in spec.required if c not in spellings]
        if missing:
            raise reader.fail(
                f"is missing required field(s) {', '.join(repr(m) for m in missing)} in every record "
                f"(keys found: {', '.join(keys) or 'none'}). Required for {spec.name}: {', '.join(spec.required)}."
            )
    extra = [k for k in keys if k.strip().lower() not in spec.columns]
    if extra:
        reader.stats.ignored_columns = extra
        reader.load.ignored_columns[reader.path.name] = extra
    return {c: spellings[c] for c in spec.columns if c in spellings}


def _lines_into_table(reader: _Reader, scan: LineScan, source: Path):
    """Each line of ``source`` as text into lines_<tag> (blank lines as NULL); DuckDB's rejects, or
    None unless every physical line is a row or a reject."""
    con, tag = reader.con, reader.tag
    rej, rej_scan = f"rej_{tag}", f"rejscan_{tag}"
    try:
        con.execute(f"drop table if exists {rej}; drop table if exists {rej_scan}")
        con.execute(
            f"create or replace temp table lines_{tag} as select row_number() over () as _row, l "
            f"from read_csv({_sql_str(str(source))}, columns={{'l': 'VARCHAR'}}, header=false, delim='\x1f', "
            f"quote='', escape='', auto_detect=false, strict_mode=true, "
            f"max_line_size={file_scan.MAX_RECORD_BYTES}, store_rejects=true, rejects_table='{rej}', "
            f"rejects_scan='{rej_scan}')"
        )
    except duckdb.Error:
        if reader.stats.repaired:
            raise
        return None
    rows = con.execute(f"select count(*) from lines_{tag}").fetchone()[0]
    rejects = reader.duckdb_rejects(rej)
    if rows + len(rejects) != scan.lines or any("\n" in r[5] for r in rejects):
        return None
    return rejects


def read_entity(
    con: duckdb.DuckDBPyConnection,
    files_dir: Path,
    entity: str,
    listing: FolderListing | None = None,
    table: str | None = None,
) -> EntityLoad:
    """Read every file of ``entity`` in ``files_dir`` into the temporary table ``table`` (default
    files_load_<entity>), which platform_kpi.loading writes into raw.files__<entity>.

    The table is replaced: entity columns (times as UTC timestamps, the rest as text), _file, _line.
    Raises SourceFileError when a file cannot be used at all. An absent entity gives no rows and a
    manifest row saying so.
    """
    spec = ENTITIES[entity]
    table = table or f"files_load_{entity}"
    listing = listing or list_folder(files_dir)
    paths = listing.by_entity[entity]
    cols = ", ".join(f"{c} {_type(spec, c)}" for c in spec.columns)
    con.execute(
        f"create or replace temp table {table} ({cols}, _file varchar, _line bigint, _load_error varchar)"
    )
    load = EntityLoad(entity=entity, files=paths, rows=con.table(table))
    if not paths:
        load.stats.append(
            FileStats(entity, None, None, "missing", note=f"no {entity}.csv or {entity}.jsonl in the folder")
        )
    for path in paths:
        reader = _Reader(con, path, spec, load, table)
        try:
            (_load_csv if path.suffix.lower() == ".csv" else _load_jsonl)(reader)
        except duckdb.Error as exc:
            raise SourceFileError(f"{SOURCE}: {path.name} could not be read: {exc}") from exc
        except OSError as exc:
            raise SourceFileError(f"{SOURCE}: {path.name} could not be read: {exc.strerror or exc}") from exc
        reader.stats.load_errors = len(reader.errors)
        load.load_errors.extend(reader.errors)
    con.execute(f"alter table {table} drop column _load_error")
    load.rows = con.table(table)
    return load


def ignored_file_stats(listing: FolderListing) -> list[FileStats]:
    """Manifest rows for the data-looking files of the folder that no entity reads."""
    names = ", ".join(f"{e}.csv/.jsonl" for e in ENTITIES)
    return [
        FileStats(
            None,
            name,
            Path(name).suffix.lower().lstrip("."),
            "ignored",
            note=f"not an entity file name (expected {names}); not read",
        )
        for name in listing.ignored
    ]
