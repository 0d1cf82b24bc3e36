"""The byte-level line scan reads a file a few MB at a time; lines, line ends and byte positions must
not depend on where a chunk boundary falls."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from connectors import file_scan

CONTENT = b'id,name\r\n1,a\r\n\n2,"b\r\nc"\n\r\n3,x\ry\n4,\x00\n5,last\r'


def _expected_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [line.removesuffix(b"\r") for line in lines]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 4 << 20])
def test_lines_and_bytes_do_not_depend_on_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(file_scan, "_CHUNK_BYTES", chunk)
    path = tmp_path / "f.csv"
    path.write_bytes(CONTENT)
    expected = _expected_lines(CONTENT)

    scan = file_scan.scan_lines(path, count=b",\r")
    assert scan.lines == len(expected) == 9
    assert scan.byte_counts == {44: CONTENT.count(b","), 13: CONTENT.count(b"\r")}
    assert [scan.raw(n) for n in range(1, scan.lines + 1)] == expected
    assert scan.has(b"\x00") and scan.has(b"\r\ny") is False and scan.has(b"x\ry")
    assert scan.blank_lines() == [3, 6]
    assert file_scan._lines_holding(scan, 0).tolist() == [8]
    assert file_scan._lines_holding(scan, 13).tolist() == [1, 2, 4, 6, 7, 9]


SCAN_BIG_FILE = """
import resource, sys
from pathlib import Path
from connectors import file_scan
path = Path(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
scan = file_scan.scan_lines(path, count=b",")
assert scan.lines == 2_000_000 and not scan.has(b"\\x00")
assert len(scan.starts) == 2_000_000 and scan.raw(1_999_999).endswith(b"00:01:00Z")
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""


def test_the_scan_does_not_hold_the_file_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as fh:
        line = b"12345678,service-0001,success,2026-01-01T00:00:00Z,2026-01-01T00:01:00Z\n"
        for _ in range(40):
            fh.write(line * 50_000)  # 40 x 3.6 MB = 146 MB
    # A process of its own: ru_maxrss is the process's peak so far.
    out = subprocess.run(
        [sys.executable, "-c", SCAN_BIG_FILE, str(path)], capture_output=True, text=True, check=True
    )
    grown_mb = float(out.stdout)
    # The line index is two int64 arrays (32 MB); the file itself (146 MB) is never resident whole.
    assert grown_mb < 100, f"peak memory grew {grown_mb:.0f} MB while scanning a 146 MB file"


@pytest.mark.parametrize("interleaved", [False, True])
def test_rows_get_their_lines_in_file_order(tmp_path: Path, interleaved: bool) -> None:
    """Rows are numbered from their row ids; when another file's rows sit between them (not one run of
    row ids), in row-id order all the same."""
    import duckdb

    from connectors import files

    path = tmp_path / "builds.csv"
    path.write_text("build_id\n")
    con = duckdb.connect()
    con.execute("create table t (build_id varchar, _file varchar, _line bigint)")
    con.execute("insert into t values ('old', 'builds.csv', 7)")  # numbered before: left alone
    rows = [("a", "builds.csv"), ("other", "other.csv"), ("b", "builds.csv"), ("c", "builds.csv")]
    if not interleaved:
        rows = [r for r in rows if r[1] == "builds.csv"] + [("other", "other.csv")]
    for key, name in rows:
        con.execute("insert into t values (?, ?, null)", [key, name])
    spec = files.ENTITIES["builds"]
    reader = files._Reader(con, path, spec, files.EntityLoad("builds", [], None), "t")
    reader.number_rows(first=2)
    got = con.execute("select build_id, _line from t order by rowid").fetchall()
    assert (
        got == [("old", 7), ("a", 2), ("other", None), ("b", 3), ("c", 4)]
        if interleaved
        else [("old", 7), ("a", 2), ("b", 3), ("c", 4), ("other", None)]
    )
