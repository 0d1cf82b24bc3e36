"""Errors the `kpi` command shows (run as a subprocess, as a user runs it): one line that names the
file (and line and column where there is one) and says what to do; never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from platform_kpi.settings import work_path_for
from tests.conftest import build_warehouse, dep, deployments

KPI = Path(sys.executable).with_name("kpi")


def kpi(
    *args: str, prefix: tuple[str, ...] = (), settings: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`kpi` as a subprocess with none of this process's KPI_* settings, only ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KPI_")} | (settings or {})
    return subprocess.run([*prefix, str(KPI), *args], env=env, capture_output=True, text=True, timeout=600)


def test_every_failure_of_a_run_names_its_file_line_and_column(tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "services.csv").write_text("service,team\napi,payments\n")
    # a JSONL file without a required field (and a unit separator inside a record, which DuckDB could not
    # split into lines before the import read files line by line)
    (files / "deployments.jsonl").write_text(
        '{"deployment_id": "d1", "service": "api", "environment": "prod", "finished_at": "2026-10-01T10:00:00Z"}\n'
        '{"deployment_id": "d2", "service": "a\x1fpi", "environment": "prod", "finished_at": "2026-10-02T10:00:00Z"}\n'
    )
    out = kpi("run", "--files", str(files), "--warehouse", str(tmp_path / "w.duckdb"))
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    assert "Traceback" not in text
    summary = text[text.index("kpi run: The pipeline run failed") :].splitlines()
    failures = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in summary[1:-1]}
    # which file, what is wrong and what is required, on one line
    assert failures["raw_files"] == (
        "files: deployments.jsonl is missing required field(s) 'status' in every record (keys found: "
        "deployment_id, environment, finished_at, service). Required for deployments: deployment_id, service, "
        "environment, status, finished_at."
    )
    assert summary[-1].startswith("Fix the input or config named above")


def test_a_run_out_of_memory_says_which_setting_to_raise(tmp_path: Path) -> None:
    """Out of memory is not the input's fault: the advice names the cap and the setting, not the file."""
    files = tmp_path / "files"
    files.mkdir()
    (files / "services.csv").write_text("service,team\napi,payments\n")
    (files / "deployments.csv").write_text(
        "deployment_id,service,environment,status,finished_at\n"
        + "".join(f"d{i},api,prod,success,2026-10-01T10:00:00Z\n" for i in range(2000))
    )
    out = kpi(
        "run",
        "--files",
        str(files),
        "--warehouse",
        str(tmp_path / "w.duckdb"),
        settings={"KPI_DUCKDB_MEMORY_LIMIT": "2MB"},
    )
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    assert "Traceback" not in text
    assert "Out of Memory Error" in text
    assert text.rstrip().splitlines()[-1] == (
        "DuckDB ran out of the memory this run may use (KPI_DUCKDB_MEMORY_LIMIT: 2MB). "
        "Set KPI_DUCKDB_MEMORY_LIMIT higher, e.g. 2GB, and run again (re-running is safe)."
    )
    assert not (tmp_path / "w.duckdb").exists()


def test_a_full_disk_says_so_and_not_fix_the_input(tmp_path: Path) -> None:
    """The run's work file can be written nowhere: /dev/full answers every write with ENOSPC, as a full
    disk does. The warehouse resource fails before any step, and that failure is named too (it used to
    say only "see the Dagster logs", and to fix the input)."""
    files = tmp_path / "files"
    files.mkdir()
    (files / "services.csv").write_text("service,team\napi,payments\n")
    warehouse = tmp_path / "w.duckdb"
    work_path_for(warehouse).symlink_to("/dev/full")
    out = kpi("run", "--files", str(files), "--warehouse", str(warehouse))
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    assert "Traceback" not in text
    lines = text.rstrip().splitlines()
    assert (
        lines[-2].strip() == 'run set-up: IO Error: Could not write file "/dev/full": No space left on device'
    )
    assert lines[-1].startswith("A disk ran out of space while the run wrote the file named above (")
    assert lines[-1].endswith(
        "MB are free now where w.duckdb lives). A run needs room for at least twice the warehouse's size. "
        "Free space there, or put the warehouse on a disk with room (--warehouse or KPI_WAREHOUSE), and run "
        "again (re-running is safe)."
    )
    assert not warehouse.exists()


def test_a_config_yaml_error_names_file_line_and_column_before_anything_runs(tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "services.csv").write_text("service,team\napi,payments\n")
    config = tmp_path / "kpi.yaml"
    config.write_text("kpis:\n  - id: x\n    name: [unclosed\n")
    out = kpi(
        "run", "--files", str(files), "--warehouse", str(tmp_path / "w.duckdb"), "--config", str(config)
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stderr == ""  # no traceback
    # the configuration is validated before the run starts: one line naming file, line and column, and
    # saying what to do; nothing ran
    assert out.stdout.splitlines() == [
        f"kpi run: {config}: line 4, column 1: not valid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence at line 3, column 11). Fix the file there and run again."
    ]
    assert not (tmp_path / "w.duckdb").exists()


def _without_privileges() -> tuple[str, ...]:
    """A prefix that runs a command without root's power to write anywhere (tests run as root in CI)."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux): a read-only folder cannot be simulated")
    return (setpriv, "--inh-caps=-all", "--bounding-set=-all", "--")


def test_kpi_report_into_a_read_only_folder_says_so_in_one_line(tmp_path: Path) -> None:
    warehouse = build_warehouse(tmp_path, {"deployments.csv": deployments(dep("d1", "2026-10-05T10:00:00Z"))})
    read_only = tmp_path / "reports"
    read_only.mkdir()
    read_only.chmod(0o555)
    out = kpi(
        "report",
        "--month",
        "2026-10",
        "--no-deliver",
        "--warehouse",
        str(warehouse),
        "--out",
        str(read_only),
        prefix=_without_privileges(),
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stderr == ""  # no traceback
    assert out.stdout.splitlines() == [
        f"kpi report: cannot write into {read_only} (permission denied). Pass --out DIR with a folder you can "
        "write to (or set KPI_REPORTS_DIR), or make that folder writable."
    ]
    assert list(read_only.iterdir()) == []


def test_kpi_report_out_is_a_file(tmp_path: Path) -> None:
    warehouse = build_warehouse(tmp_path, {"deployments.csv": deployments(dep("d1", "2026-10-05T10:00:00Z"))})
    a_file = tmp_path / "report.pdf"
    a_file.write_text("")
    out = kpi(
        "report", "--month", "2026-10", "--no-deliver", "--warehouse", str(warehouse), "--out", str(a_file)
    )
    assert (out.returncode, out.stderr) == (2, "")
    assert out.stdout.splitlines() == [
        f"kpi report: {a_file} is a file, not a folder. Pass --out DIR with the folder the reports go in."
    ]


def test_kpi_run_on_a_missing_folder_says_so_before_running(tmp_path: Path) -> None:
    out = kpi("run", "--files", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb"))
    assert (out.returncode, out.stderr) == (2, "")
    assert out.stdout.splitlines() == [
        f"kpi run: input folder {tmp_path / 'nope'} does not exist. Pass --files DIR with your services, "
        "deployments, changes, incidents and builds files (README 'Your own data')."
    ]
