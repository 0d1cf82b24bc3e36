"""`kpi run` as a user runs it (a subprocess): bad rows are quarantined and listed while the good ones
are published; a file that cannot be used, or a run that would drop most of an entity's rows, exits 1
with a message naming the file (line, column) and what to do, and leaves the published warehouse as
it was."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import query
from tests.repo import REPO_ROOT

KPI = str(Path(sys.executable).with_name("kpi"))
SERVICES = "service,team\napi,core\nweb,front\n"
DEPLOYMENTS = (
    "\n".join(
        [
            "deployment_id,service,environment,status,started_at,finished_at",
            "d1,api,production,success,2026-01-10T09:00:00Z,2026-01-10T10:00:00Z",  # 2
            '"d2,api,production,success,2026-01-11T09:00:00Z,2026-01-11T10:00:00Z',  # 3: a stray quote
            "d3,web,production,success,2026-01-12T09:00:00Z,2026-01-12T10:00:00Z",  # 4
            "d4,web,production,success,2026-01-13T09:00:00Z,2999-01-13T10:00:00Z",  # 5: year 2999
            "d5,web,production,success,2026-01-14T09:00:00Z,",  # 6: no finished_at
            "d6,api,production,success,2026-01-15T09:00:00Z,2026-01-15T10:00:00Z",  # 7
        ]
    )
    + "\n"
)
BUILDS = """build_id,service,branch,status,started_at,finished_at
b1,api,main,success,2026-01-10T09:00:00Z,2026-01-10T09:10:00Z
b2,web,main,failure,2026-01-10T09:00:00Z,2026-01-10T09:20:00Z
"""


def kpi_run(files: Path, warehouse: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KPI_")}
    env["KPI_HOME"] = str(warehouse.parent)
    return subprocess.run(
        [KPI, "run", "--files", str(files), "--warehouse", str(warehouse), *extra],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=900,
    )


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.fixture(scope="module")
def published(module_tmp):
    root = module_tmp
    files = root / "files"
    files.mkdir()
    (files / "services.csv").write_text(SERVICES)
    (files / "Deployments.csv").write_text(DEPLOYMENTS)  # mis-cased: read, and said so
    (files / "builds.csv").write_text(BUILDS)
    (files / "deploys.csv").write_text("not an entity file\n")
    warehouse = root / "warehouse.duckdb"
    result = kpi_run(files, warehouse)
    return files, warehouse, result


def test_bad_rows_are_quarantined_and_listed_and_the_good_ones_published(published):
    _files, warehouse, result = published
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "  Deployments.csv: 6 records, 3 loaded, 3 quarantined" in out
    assert "  note Deployments.csv: read as deployments.csv" in out
    assert (
        "  WARNING changes: no changes.csv or changes.jsonl in the folder; nothing loaded for changes" in out
    )
    assert "  WARNING deploys.csv: not an entity file name" in out
    assert '  Deployments.csv:3 (deployments): a quote (") opens a field on this line and never closes' in out
    assert "  Deployments.csv:5 (deployments): finished_at 2999-01-13 10:00:00 is in the future" in out
    assert "  Deployments.csv:6 (deployments): finished_at is blank" in out
    rows = query(warehouse, "select deployment_id from core.deployments order by 1")
    assert [r["deployment_id"] for r in rows] == [
        "files:deployment:d1",
        "files:deployment:d3",
        "files:deployment:d6",
    ]
    [months] = query(warehouse, "select min(month) as first, max(month) as last from marts.kpi_monthly")
    assert (str(months["first"]), str(months["last"])) == ("2026-01-01", "2026-01-01")


def _broken_copy(files: Path, tmp_path: Path, change) -> Path:
    copy = tmp_path / "files"
    shutil.copytree(files, copy, symlinks=True)
    change(copy)
    return copy


def _write(name: str, content: bytes):
    def change(folder: Path) -> None:
        (folder / "Deployments.csv").unlink()
        (folder / name).write_bytes(content)

    return change


def _loop(folder: Path) -> None:
    (folder / "Deployments.csv").unlink()
    os.symlink(folder / "changes.csv", folder / "deployments.csv")
    os.symlink(folder / "deployments.csv", folder / "changes.csv")


def _folder(folder: Path) -> None:
    (folder / "Deployments.csv").unlink()
    (folder / "deployments.csv").mkdir()


FAILURES = [
    (
        "repeated column",
        _write("deployments.csv", DEPLOYMENTS.replace("started_at", "status", 1).encode()),
        "deployments.csv line 1 (the header) names column 'status' more than once: columns 4 ('status') and 5 "
        "('status'). Remove or rename the extra column(s) and run again.",
    ),
    (
        "header not UTF-8",
        _write("deployments.csv", "déploiement_id,".encode("latin-1") + DEPLOYMENTS.encode()),
        "deployments.csv line 1 (the header), byte 2: not UTF-8 text (byte 0xE9). Re-save the file as UTF-8",
    ),
    (
        "symlink loop",
        _loop,
        "deployments.csv is a symbolic link that cannot be followed (Too many levels of symbolic links)",
    ),
    ("entity file is a folder", _folder, "deployments.csv is a folder, not a file"),
]


@pytest.mark.parametrize(("name", "change", "message"), FAILURES, ids=[f[0] for f in FAILURES])
def test_an_unusable_file_exits_1_naming_it_and_keeps_the_published_warehouse(
    published, tmp_path, name, change, message
):
    files, warehouse, first = published
    assert first.returncode == 0
    before = fingerprint(warehouse)
    result = kpi_run(_broken_copy(files, tmp_path, change), warehouse)
    assert result.returncode == 1, result.stdout + result.stderr
    assert message in result.stdout
    assert f"{warehouse} was not updated" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert fingerprint(warehouse) == before


def test_a_run_that_would_drop_most_rows_stops_unless_told_to_go_on(published, tmp_path):
    files, warehouse, first = published
    assert first.returncode == 0
    before = fingerprint(warehouse)
    # The deployments file lost all but its header: 0 rows where 3 were published.
    truncated = _broken_copy(
        files, tmp_path, _write("Deployments.csv", DEPLOYMENTS.split("\n")[0].encode() + b"\n")
    )
    result = kpi_run(truncated, warehouse)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "deployments: 0 rows loaded, the published warehouse has 3 (100% fewer; row_drop_threshold is 50%)"
        in result.stdout
    )
    assert "--allow-row-drop" in result.stdout
    assert fingerprint(warehouse) == before
    # Said on purpose: published, and the run says what it did.
    result = kpi_run(truncated, warehouse, "--allow-row-drop")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING Deployments.csv: header only: no records; nothing loaded for deployments" in result.stdout
    assert query(warehouse, "select count(*) as n from core.deployments") == [{"n": 0}]
