"""One run at a time writes a warehouse, and what a killed run leaves behind never breaks the next.

Runs share the work file beside the published warehouse; DuckDB lets one process write it. A run holds
the warehouse's run lock (a flock, released by the OS when the process dies) for its whole length, on
the CLI path and the Dagster path; a second run waits, or refuses naming the holder.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.inputs import kpi_config
from assets.resources import WarehouseResource, configuration_resource
from kpi_cli.main import main as kpi
from platform_kpi.settings import DEFAULT_CONFIG, work_path_for
from platform_kpi.warehouse import lock_path_for, publish, read_connection, write_connection
from tests.pipeline.test_run import write_files
from tests.repo import REPO_ROOT

KPI = str(Path(sys.executable).with_name("kpi"))


def _holds_lock(warehouse: Path, pid: int) -> bool:
    """Whether process ``pid`` holds the run lock (it wrote its pid after locking), checked via the OS."""
    import fcntl

    lock = lock_path_for(warehouse)
    if not lock.exists() or f'"pid": {pid},' not in lock.read_text():
        return False
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the lock if we got it
    return False


def _wait_for(predicate, what: str, timeout: float = 300.0, procs: tuple = ()) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        for p in procs:
            assert p.poll() is None, f"{what}: process {p.pid} exited with {p.returncode}"
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


class _Lines:
    """A subprocess's combined output, collected line by line in the background."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=lambda: self.lines.extend(iter(proc.stdout.readline, "")))
        self.thread.start()

    @property
    def text(self) -> str:
        return "".join(self.lines)


def _kpi_run(files: Path, warehouse: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [KPI, "run", "--files", str(files), "--warehouse", str(warehouse)],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
def test_a_second_kpi_run_waits_for_the_first_or_refuses_naming_it(tmp_path, monkeypatch, capsys):
    files = write_files(tmp_path / "files")
    warehouse = tmp_path / "warehouse.duckdb"
    first = _kpi_run(files, warehouse)
    second = None
    try:
        # Freeze the first run while it holds the lock, as a long run would hold it.
        _wait_for(lambda: _holds_lock(warehouse, first.pid), "the first run holds the lock", procs=(first,))
        os.kill(first.pid, signal.SIGSTOP)

        # Told not to wait, a run refuses at once, naming the holder and what to do.
        monkeypatch.setenv("KPI_LOCK_TIMEOUT_SEC", "0")
        assert kpi(["run", "--files", str(files), "--warehouse", str(warehouse)]) == 1
        out = capsys.readouterr().out
        assert f"Another run is writing {warehouse}: pid {first.pid} " in out and "(kpi run," in out
        assert "Wait for it to finish and run again" in out and "KPI_LOCK_TIMEOUT_SEC" in out
        monkeypatch.delenv("KPI_LOCK_TIMEOUT_SEC")

        # By default a second `kpi run` waits, says for whom, and runs once the first is done.
        second = _kpi_run(files, warehouse)
        lines = _Lines(second)
        _wait_for(
            lambda: "Another run is writing" in lines.text, "the second run says it waits", procs=(second,)
        )
        assert f"pid {first.pid} " in lines.text and "Waiting up to 3600s" in lines.text
        assert second.poll() is None  # still waiting: it did not touch the work file
        os.kill(first.pid, signal.SIGCONT)
        first_out = first.communicate(timeout=600)[0]
        assert second.wait(timeout=600) == 0, lines.text
        lines.thread.join()
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)
                proc.kill()
                proc.wait()
    assert first.returncode == 0, first_out
    assert "Done in" in first_out and "Done in" in lines.text
    assert "Could not set lock" not in first_out + lines.text
    with read_connection(warehouse) as con:
        assert con.execute("select count(*) from core.deployments").fetchone()[0] == 5


_HOLDER = """
import sys
from pathlib import Path
from platform_kpi.warehouse import run_lock
with run_lock(Path(sys.argv[1]), owner="test holder"):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_dagster_run_holds_the_lock_and_a_killed_holder_releases_it(tmp_path, monkeypatch):
    warehouse = tmp_path / "warehouse.duckdb"
    resource = WarehouseResource(warehouse=str(warehouse))
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(warehouse)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        monkeypatch.setenv("KPI_LOCK_TIMEOUT_SEC", "0")
        result = dg.materialize(
            [kpi_config],
            resources={"warehouse": resource, "configuration": configuration_resource(DEFAULT_CONFIG)},
            raise_on_error=False,
        )
        assert not result.success
        failure = "\n".join(str(e.event_specific_data.error) for e in result.all_events if e.is_run_failure)
        assert f"pid {holder.pid} " in failure and "(test holder," in failure, failure
        assert not work_path_for(warehouse).exists()  # nothing was written
    finally:
        holder.kill()  # SIGKILL: no clean-up code runs; the OS drops the lock
        holder.wait()
    assert lock_path_for(warehouse).exists()  # the stale lock file does not block anyone
    result = dg.materialize(
        [kpi_config],
        resources={"warehouse": resource, "configuration": configuration_resource(DEFAULT_CONFIG)},
    )
    assert result.success


_KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from platform_kpi.warehouse import write_connection
with write_connection(Path(sys.argv[1])) as con:
    con.execute("set checkpoint_threshold = '10GB'")  # keep the changes in the write-ahead log
    con.execute("create or replace table raw.files__deployments as select range as i from range(200000)")
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.slow
def test_a_killed_runs_leftovers_do_not_break_the_next_run_and_are_cleaned(tmp_path, capsys):
    files = write_files(tmp_path / "files")
    warehouse = tmp_path / "warehouse.duckdb"
    work = work_path_for(warehouse)
    # A run killed while it wrote the work file leaves a write-ahead log; a full disk tears it (here: a
    # block that never reached the disk reads back as zeros), and DuckDB then refuses to open the file.
    killed = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(work)], cwd=REPO_ROOT)
    assert killed.returncode == -signal.SIGKILL
    wal = work.with_name(work.name + ".wal")
    size = wal.stat().st_size
    with open(wal, "r+b") as f:
        f.seek(size // 3)
        f.write(b"\0" * (size // 3))
    with pytest.raises(duckdb.Error, match="replaying WAL"):
        duckdb.connect(str(work)).close()
    # A publish killed mid-copy leaves its temp file beside the published warehouse.
    partial = warehouse.with_name(f".{warehouse.name}.4242.tmp")
    partial.write_bytes(b"DUCK" * 50_000)

    assert kpi(["run", "--files", str(files), "--warehouse", str(warehouse)]) == 0
    out = capsys.readouterr().out
    assert "Removed warehouse.work.duckdb.wal" in out and "Done in" in out
    assert not partial.exists() and not wal.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "files",
        "warehouse.duckdb",
        "warehouse.duckdb.lock",
        "warehouse.work.duckdb",
    ]
    with read_connection(warehouse) as con:
        assert con.execute("select count(*) from core.deployments").fetchone()[0] == 5


_FULL_DISK_PUBLISH = """
import resource, shutil, signal, sys
from pathlib import Path
from platform_kpi.warehouse import publish
work, published = Path(sys.argv[1]), Path(sys.argv[2])
copyfile = shutil.copyfile

def copy_onto_a_full_disk(src, dst):
    # The disk fills up during the copy: from here on no write may reach past half the file (a write
    # past the limit fails with EFBIG, as with ENOSPC on a full disk, once SIGXFSZ is ignored).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (work.stat().st_size // 2, resource.RLIM_INFINITY))
    return copyfile(src, dst)

shutil.copyfile = copy_onto_a_full_disk
try:
    publish(work, published)
except OSError as exc:
    sys.exit(exc.errno)
"""


def _small_work_file(tmp_path: Path) -> Path:
    work = tmp_path / "w.work.duckdb"
    with write_connection(work) as con:
        con.execute("create table core.t as select range as i, 'x' || range as s from range(300000)")
    return work


def test_a_publish_that_runs_out_of_disk_leaves_no_temp_file(tmp_path):
    work = _small_work_file(tmp_path)
    published = tmp_path / "w.duckdb"
    published.write_bytes(b"the previous snapshot")
    done = subprocess.run(
        [sys.executable, "-c", _FULL_DISK_PUBLISH, str(work), str(published)], cwd=REPO_ROOT
    )
    assert done.returncode == errno.EFBIG
    assert published.read_bytes() == b"the previous snapshot"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb", "w.work.duckdb"]


def test_publish_flushes_the_copy_to_disk_before_the_rename(tmp_path, monkeypatch):
    work = _small_work_file(tmp_path)
    published = tmp_path / "w.duckdb"
    calls: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        calls.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(src, dst):
        calls.append(("replace", str(src)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    publish(work, published)
    tmp = str(published.with_name(f".w.duckdb.{os.getpid()}.tmp"))
    assert calls.index(("fsync", tmp)) < calls.index(("replace", tmp)), calls
    assert ("fsync", str(tmp_path)) in calls[calls.index(("replace", tmp)) :]  # the rename itself
