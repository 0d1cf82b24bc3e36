"""Byte-level facts about an input file, found before (and checked after) DuckDB parses it.

DuckDB's CSV reader is fast but, on a broken file, can lose lines without a trace: an unbalanced
quote swallows every line after it into one rejected record, a line of 50,000 fields costs it over a
minute (it reports each extra field separately), a lone carriage return stops the whole read. So
the reader first learns the file's physical lines here (vectorized, a fraction of DuckDB's own read
time) and sets aside the few lines DuckDB must not see; after DuckDB has parsed the rest, every
physical line must be the header, blank, part of a record or set aside, or the read is not trusted.

Set-aside lines are blanked in a copy of the file (their bytes removed, the line break kept), so the
copy has the same line numbers as the original and DuckDB reports them for every record it rejects.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# A record longer than this is not read (DuckDB's own default line limit); it is quarantined.
MAX_RECORD_BYTES = 2_000_000
# A line this much wider than the header is set aside before DuckDB reads the file: DuckDB reports
# each extra field as its own error, which grows with the square of the width (1.2 s at 5,000
# fields, 70 s at 50,000, measured here). Narrower bad lines are left to DuckDB, which rejects them.
MAX_EXTRA_FIELDS = 32
# Bytes read at a time when scanning a file (see _chunks).
_CHUNK_BYTES = 4 << 20
# Only lines at least this long can hold that many fields; only they are counted.
_WIDE_LINE_BYTES = 256


@dataclass
class LineScan:
    """A file's physical lines: how many, and (computed on first use) where each starts and ends.

    A line ends at LF; a CR before the LF is not part of the line. Counting lines and delimiters
    reads the file once at memchr speed; the per-line index (a vectorized pass costing about a tenth
    of DuckDB's read) is built only when a line has to be found: a bad line, a blank line, a repair.
    """

    path: Path
    size: int
    lines: int
    byte_counts: dict[int, int]  # how often each counted byte occurs in the file
    set_aside: dict[int, str] = field(default_factory=dict)  # line -> why DuckDB must not see it
    continuation: set[int] = field(default_factory=set)  # 2nd.. lines of records that span lines
    _index: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _build_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._index is None:
            if self.size == 0:
                empty = np.zeros(0, dtype=np.int64)
                self._index = (empty, empty, np.zeros(0, dtype=np.uint8))
            else:
                breaks, crs, last = [], [], 0
                for offset, chunk in _chunks(self.path):
                    at = np.flatnonzero(chunk == 10)
                    # a CR right before a line break ends the line too (the chunk's first byte looks
                    # back to the previous chunk's last)
                    before = np.where(at > 0, chunk[np.maximum(at - 1, 0)], last)
                    breaks.append(at + offset)
                    crs.append(before == 13)
                    last = int(chunk[-1])
                breaks_at = np.concatenate(breaks).astype(np.int64)
                cr = np.concatenate(crs)
                starts = np.concatenate(([0], breaks_at + 1)).astype(np.int64)
                ends = np.concatenate((breaks_at - cr, [self.size])).astype(np.int64)
                if starts[-1] == self.size:  # the file ends with a line break: no line after it
                    starts, ends = starts[:-1], ends[:-1]
                elif last == 13:  # the last line has no line break but ends with a CR
                    ends[-1] -= 1
                # Mapped, not read: slicing a line touches only its own pages.
                self._index = (starts, ends, np.memmap(self.path, dtype=np.uint8, mode="r"))
        return self._index

    @property
    def starts(self) -> np.ndarray:
        return self._build_index()[0]

    @property
    def ends(self) -> np.ndarray:
        return self._build_index()[1]

    @property
    def data(self) -> np.ndarray:
        return self._build_index()[2]

    def has(self, pattern: bytes) -> bool:
        tail = b""
        for _, chunk in _chunks(self.path):
            window = tail + chunk.tobytes()
            if pattern in window:
                return True
            tail = window[len(window) - len(pattern) + 1 :] if len(pattern) > 1 else b""
        return False

    def first_line(self) -> bytes:
        """Line 1 without its line break (read directly: no index needed)."""
        with self.path.open("rb") as fh:
            line = fh.readline()
        return line.removesuffix(b"\n").removesuffix(b"\r")

    def blank_lines(self) -> list[int]:
        """Empty data lines (after line 1), excluding line breaks inside quoted fields."""
        empty = np.flatnonzero(self.ends == self.starts) + 1
        return [int(n) for n in empty if n > 1 and n not in self.continuation]

    def raw(self, line: int) -> bytes:
        return self.data[self.starts[line - 1] : self.ends[line - 1]].tobytes()

    def text(self, line: int, limit: int | None = None) -> str:
        """The line as text (bytes that are not UTF-8 shown as \\xNN), cut at ``limit`` characters."""
        start, end = int(self.starts[line - 1]), int(self.ends[line - 1])
        if limit is not None:
            end = min(end, start + limit * 4)
        text = self.data[start:end].tobytes().decode("utf-8", "backslashreplace")
        return (
            text
            if limit is None or len(text) <= limit
            else text[:limit] + f"... ({self.length(line):,} bytes)"
        )

    def length(self, line: int) -> int:
        return int(self.ends[line - 1] - self.starts[line - 1])


def _chunks(path: Path) -> Iterator[tuple[int, np.ndarray]]:
    """The file's bytes in order, a few MB at a time, each with its offset.

    Read through one buffer rather than mapped whole: a mapped file counts in the process's memory
    once touched (211 MB for the benchmark's builds.csv), and so does every whole-file comparison.
    """
    buffer = bytearray(_CHUNK_BYTES)
    offset = 0
    with path.open("rb", buffering=0) as fh:
        while n := fh.readinto(buffer):
            yield offset, np.frombuffer(buffer, dtype=np.uint8, count=n)
            offset += n


def scan_lines(path: Path, count: bytes = b"") -> LineScan:
    """Count the physical lines of ``path`` (and how often each byte of ``count`` occurs)."""
    size = path.stat().st_size
    if size == 0:
        return LineScan(path, 0, 0, dict.fromkeys(count, 0))
    breaks, counts, last = 0, dict.fromkeys(count, 0), 10
    for _, chunk in _chunks(path):
        breaks += int(np.count_nonzero(chunk == 10))
        for byte in count:
            counts[byte] += int(np.count_nonzero(chunk == byte))
        last = int(chunk[-1])
    return LineScan(path, size, breaks + (1 if last != 10 else 0), counts)


def _lines_holding(scan: LineScan, byte: int) -> np.ndarray:
    """Line numbers (1-based, ascending, unique) of the lines that contain ``byte``."""
    if not scan.has(bytes([byte])):  # memchr: the common case costs next to nothing
        return np.zeros(0, dtype=np.int64)
    positions = np.concatenate(
        [np.flatnonzero(chunk == byte) + offset for offset, chunk in _chunks(scan.path)]
    )
    return np.unique(np.searchsorted(scan.starts, positions, side="right"))


def set_aside_nul_lines(scan: LineScan) -> None:
    for line in _lines_holding(scan, 0):
        if line > 1:
            scan.set_aside[int(line)] = (
                "contains a NUL byte (0x00): the file may be UTF-16 or binary; re-save it as UTF-8 text"
            )


def set_aside_control_lines(scan: LineScan, byte: int, what: str) -> None:
    for line in _lines_holding(scan, byte):
        scan.set_aside[int(line)] = what


def set_aside_wide_lines(scan: LineScan, columns: int, delimiter: bytes = b",") -> None:
    """Set aside the lines with more than ``columns + MAX_EXTRA_FIELDS`` fields (see MAX_EXTRA_FIELDS).

    When the whole file holds no more delimiters than its lines need plus MAX_EXTRA_FIELDS, no line
    can be that wide unless others lack fields; only then are lines looked at one by one.
    """
    delim = delimiter[0]
    if delim in scan.byte_counts and scan.byte_counts[delim] <= (columns - 1) * scan.lines + MAX_EXTRA_FIELDS:
        return
    lengths = scan.ends - scan.starts
    wide = np.flatnonzero(lengths >= max(_WIDE_LINE_BYTES, columns + MAX_EXTRA_FIELDS))
    if not len(wide):
        return
    for index in wide:
        line = int(index) + 1
        if line == 1 or line in scan.continuation:
            continue
        segment = scan.data[scan.starts[index] : scan.ends[index]]
        fields = int(np.count_nonzero(segment == delim)) + 1
        if fields <= columns + MAX_EXTRA_FIELDS:
            continue
        if np.count_nonzero(segment == 34):  # quoted: count the fields properly
            try:
                fields = len(next(csv.reader([scan.text(line)], strict=True)))
            except (csv.Error, StopIteration):
                continue  # not a record on its own line: leave it to DuckDB and the line check
        if fields > columns + MAX_EXTRA_FIELDS:
            scan.set_aside[line] = f"has {fields:,} fields; the header has {columns}"


class _Lines:
    """The file's lines from ``next`` on, as text for the csv module, stopping a record that grows
    past MAX_RECORD_BYTES (a quote that never closes must not read the rest of the file)."""

    def __init__(self, scan: LineScan, first: int) -> None:
        self.scan, self.next, self.record_start = scan, first, first

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self.next
        if line > self.scan.lines:
            raise StopIteration
        starts = self.scan.starts
        if line > self.record_start and starts[line - 1] - starts[self.record_start - 1] > MAX_RECORD_BYTES:
            raise StopIteration
        self.next += 1
        return (
            self.scan.data[starts[line - 1] : self.scan.ends[line - 1]].tobytes().decode("utf-8", "replace")
            + "\n"
        )


def find_multiline_records(scan: LineScan, columns: int, used_columns: list[int], names: list[str]) -> None:
    """Mark the lines of quoted fields that span lines, and set aside every line that opens a quote
    which does not close into a proper record.

    A record may span lines only inside a quoted field (RFC 4180). One that does is kept when it has
    the header's number of fields and the line breaks sit in columns the entity does not use (ids,
    services, statuses and times never hold one); otherwise the quote is unbalanced, so the line that
    opened it is set aside and reading resumes on the next line, and no good line after it is lost.
    Only lines holding a quote can open such a field; the cost is one csv-module pass over them.
    """
    quoted = _lines_holding(scan, 34)
    quoted = quoted[quoted > 1]
    if not len(quoted):
        return
    lines = _Lines(scan, int(quoted[0]))
    reader = csv.reader(lines, strict=True)
    at = 0
    while at < len(quoted):
        start = int(quoted[at])
        if start < lines.next:  # already read as part of an earlier record
            at += 1
            continue
        lines.next = lines.record_start = start
        try:
            fields = next(reader)
            problem = None
        except StopIteration:
            fields, problem = None, "eof"
        except csv.Error:
            fields, problem = None, "error"
        end = lines.next - 1
        if end > start:  # the record spans lines
            if (
                problem is None
                and len(fields) == columns
                and not any("\n" in fields[i] or "\r" in fields[i] for i in used_columns if i < len(fields))
            ):
                scan.continuation.update(range(start + 1, end + 1))
                at += 1
                continue
            if problem is not None:
                detail = "never closes"
            elif len(fields) != columns:
                detail = f"runs on to line {end} and gives {len(fields)} fields instead of {columns}"
            else:
                where = next(names[i] for i in used_columns if "\n" in fields[i] or "\r" in fields[i])
                detail = f"runs on to line {end}, putting a line break into {where}"
            scan.set_aside[start] = (
                f'a quote (") opens a field on this line and {detail}: quote the whole field and '
                'double every quote inside it ("")'
            )
            lines.next = start + 1
        if problem is not None or end > start:
            reader = csv.reader(lines, strict=True)  # a fresh parser state after a broken record
        at += 1


def set_aside_lone_cr_lines(scan: LineScan) -> None:
    """Lines holding a carriage return that does not end the line (outside quotes) stop DuckDB's reader."""
    for line in _lines_holding(scan, 13):
        line = int(line)
        if line in scan.continuation or line in scan.set_aside:
            continue
        text = scan.raw(line).decode("utf-8", "replace")
        if "\r" not in text:
            continue
        try:
            next(csv.reader([text + "\n"], strict=True))
            continue  # the CR sits inside a quoted field
        except csv.Error:
            pass
        except StopIteration:
            continue
        if line + 1 in scan.continuation:
            continue
        scan.set_aside[line] = (
            "contains a carriage return (\\r) inside the line: the file mixes line endings; "
            "re-save it with LF or CRLF line endings"
        )


def write_without_set_aside(scan: LineScan, out: Path) -> Path:
    """A copy of the file with the set-aside lines emptied (line breaks kept: line numbers stay)."""
    with out.open("wb") as fh:
        position = 0
        for line in sorted(scan.set_aside):
            start, end = int(scan.starts[line - 1]), int(scan.ends[line - 1])
            scan.data[position:start].tofile(fh)
            position = end
        scan.data[position:].tofile(fh)
    return out
