"""`make bench`: issue #16's targets, measured on this machine in one run, each command in its own process.

Generates (once, cached under .bench/) the demo organisation at ≈1,000 services × 12 months (≈2M
builds), then times whole commands, as a user runs them (Python start-up and imports included):

  lean        bench/lean_duckdb.py: the foundation KPIs straight from the CSVs in one DuckDB script
  full        `kpi run --files` of the same files: Dagster, every asset, every check, the publish
  read_csv    DuckDB's own read_csv of the files the full run's load step (raw_files) reads, into
              tables, against that step's time in the full run
  incremental `kpi run` again on the warehouse the full run published, with one more day of data: the
              full run reads the files as they were the day before (runs and incidents that ended
              on the last day still open then), this run the files as generated
  demo        `kpi demo` end to end (generate, run, report)
  sync        bench/sync.py (when present): a full and an incremental sync from the built-in simulator
  dashboard   bench/dashboard_speed.py on its own warehouse of 1,000 services × 24 months (built once
              under .bench/dashboard-24): first render and filter change in headless Chromium
  floor       processes that only import what every run of the refresh job imports (the Dagster
              definitions; Great Expectations apart): no run, full or incremental, can take less

and prints seconds and peak RSS of each, the targets and whether each was met. The exit status is 0
only when every target was met.

    .venv/bin/python -m bench.run [--services 1000] [--dir .bench] [--regenerate] [--only full,lean]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.data import TODAY, benchmark_org

BIN = Path(sys.executable).parent
FULL_VS_LEAN = 2.0  # full run ≤ 2× the lean script
FULL_RSS_MB = 1024.0
INCREMENTAL_SPEEDUP = 10.0
LOAD_VS_READ_CSV = 1.5
DEMO_SECONDS = 15.0
PHASES = ("lean", "full", "read_csv", "incremental", "demo", "sync", "dashboard", "floor")


def _timed(cmd: list[str], **kwargs) -> dict:
    """Run ``cmd`` to its end; its wall seconds, CPU seconds, peak RSS (its own, MB) and stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {code}):\n{stdout[-3000:]}")
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 0),  # KiB on Linux
        "stdout": stdout,
    }


def _steps(stdout: str) -> dict[str, float]:
    """The seconds of each step from `kpi run`'s progress lines ("[ 3/49] core_models (1.23s)")."""
    steps = {}
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("[") and "] " in line and line.endswith("s)"):
            step, took = line.split("] ", 1)[1].rsplit(" (", 1)
            steps[step] = float(took.removesuffix("s)"))
    return steps


def _read_csv_floor(files_dir: Path, db: Path) -> None:
    """Child of the read_csv phase: every file raw_files reads, with DuckDB's own readers, into tables."""
    import duckdb

    from connectors import files

    listing = files.list_folder(files_dir)
    db.unlink(missing_ok=True)
    with duckdb.connect(str(db)) as con:
        for entity, paths in listing.by_entity.items():
            for i, path in enumerate(paths):
                reader = "read_json_auto" if path.suffix == ".jsonl" else "read_csv"
                con.execute(f"create table {entity}_{i} as select * from {reader}('{path}')")


# The day before the data's last day: the full run sees the files as they were then.
CUT = f"{TODAY - dt.timedelta(days=1):%Y-%m-%d}T00:00:00Z"
_DAY_BEFORE = {
    # entity: (rows that existed, the columns as they were then)
    "deployments": (
        "started_at < $cut",
        "* replace (case when finished_at >= $cut then 'in_progress' else status end as status, "
        "case when finished_at >= $cut then null else finished_at end as finished_at)",
    ),
    "builds": (
        "started_at < $cut",
        "* replace (case when finished_at >= $cut then 'running' else status end as status, "
        "case when finished_at >= $cut then null else finished_at end as finished_at)",
    ),
    "incidents": (
        "created_at < $cut",
        "* replace (case when resolved_at >= $cut then null else resolved_at end as resolved_at)",
    ),
    "changes": ("merged_at < $cut", "*"),
}


def day_before(files_dir: Path, out: Path) -> Path:
    """``files_dir`` as it was a day before its last day (the other files unchanged), once."""
    marker = out / ".done"
    if marker.exists():
        return out
    import duckdb

    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(files_dir, out)
    with duckdb.connect() as con:
        for entity, (kept, columns) in _DAY_BEFORE.items():
            source = files_dir / f"{entity}.csv"
            con.execute(
                f"copy (select {columns.replace('$cut', repr(CUT))} from read_csv('{source}', all_varchar = true, header = true) "
                f"where {kept.replace('$cut', repr(CUT))}) to '{out / (entity + '.csv')}' (header)"
            )
    marker.write_text(CUT)
    return out


def _phase_lean(files_dir: Path, work: Path) -> dict:
    return _timed([str(BIN / "python"), "-m", "bench.lean_duckdb", str(files_dir), str(work / "lean.duckdb")])


def _phase_full(files_dir: Path, work: Path) -> dict:
    warehouse = work / "warehouse.duckdb"
    for stale in work.glob("warehouse*"):
        stale.unlink()
    result = _timed([str(BIN / "kpi"), "run", "--files", str(files_dir), "--warehouse", str(warehouse)])
    result["steps"] = _steps(result["stdout"])
    return result


def _phase_incremental(files_dir: Path, work: Path) -> dict:
    """After the full phase: the same warehouse, the files one day later."""
    warehouse = work / "warehouse.duckdb"
    if not warehouse.exists():
        raise SystemExit("the incremental phase runs after the full phase (it refreshes its warehouse)")
    result = _timed([str(BIN / "kpi"), "run", "--files", str(files_dir), "--warehouse", str(warehouse)])
    result["steps"] = _steps(result["stdout"])
    return result


def _phase_read_csv(files_dir: Path, work: Path) -> dict:
    code = "import sys; from pathlib import Path; from bench.run import _read_csv_floor; "
    code += "_read_csv_floor(Path(sys.argv[1]), Path(sys.argv[2]))"
    return _timed([str(BIN / "python"), "-c", code, str(files_dir), str(work / "read_csv.duckdb")])


def _phase_demo(_files_dir: Path, work: Path) -> dict:
    demo = work / "demo"
    shutil.rmtree(demo, ignore_errors=True)
    return _timed([str(BIN / "kpi"), "demo", "--dir", str(demo), "--today", TODAY.isoformat()])


def _phase_sync(_files_dir: Path, _work: Path) -> dict | None:
    if importlib.util.find_spec("bench.sync") is None:
        return None
    return _timed([str(BIN / "python"), "-m", "bench.sync"])


def _phase_dashboard(_files_dir: Path, _work: Path) -> dict:
    home = Path(".bench/dashboard-24")
    warehouse = home / "warehouse.duckdb"
    where = ["--warehouse", str(warehouse)] if warehouse.exists() else ["--build", str(home)]
    return _timed([str(BIN / "python"), "-m", "bench.dashboard_speed", *where])


def _phase_floor(_files_dir: Path, _work: Path) -> dict:
    """The Dagster definitions' import (every run waits for it), and Great Expectations' (a run's checks
    need it; the run imports it in a background thread while its first steps go on)."""
    result = _timed([str(BIN / "python"), "-c", "import pipelines.definitions"])
    result["gx_seconds"] = _timed([str(BIN / "python"), "-c", "import great_expectations"])["seconds"]
    return result


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--dir", default=".bench")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--only", help="comma-separated phases: " + ", ".join(PHASES))
    args = parser.parse_args()
    only = args.only.split(",") if args.only else list(PHASES)

    root = Path(args.dir) / f"org-{args.services}"
    files_dir = benchmark_org(root, args.services, regenerate=args.regenerate)

    before = day_before(files_dir, root / "files-day-before")
    work = Path(tempfile.mkdtemp(prefix="kpi-bench-", dir=root))
    results: dict[str, dict | None] = {}
    runners = {
        "lean": _phase_lean,
        "full": _phase_full,
        "read_csv": _phase_read_csv,
        "incremental": _phase_incremental,
        "demo": _phase_demo,
        "sync": _phase_sync,
        "dashboard": _phase_dashboard,
        "floor": _phase_floor,
    }
    try:
        for name in only:
            print(f"  running {name} ...", flush=True)
            # Every phase reads the files of the day before; the incremental run then the last day's.
            results[name] = runners[name](files_dir if name == "incremental" else before, work)
            r = results[name]
            if r is not None:
                print(
                    f"    {r['seconds']:.2f} s wall, {r['cpu_seconds']:.2f} s CPU, peak RSS {r['peak_rss_mb']:.0f} MB",
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("\nphase        seconds   CPU s   peak RSS MB")
    for name, r in results.items():
        if r is None:
            print(f"{name:<12} {'not measured':>24}")
        else:
            print(f"{name:<12} {r['seconds']:>7.2f} {r['cpu_seconds']:>7.2f}   {r['peak_rss_mb']:>8.0f}")

    verdicts: list[bool] = []
    full, lean = results.get("full"), results.get("lean")
    if full:
        steps = sorted(full["steps"].items(), key=lambda kv: -kv[1])
        print("\nfull run, slowest steps: " + ", ".join(f"{k} {v:.2f}s" for k, v in steps[:8]))
        gx = sum(v for k, v in full["steps"].items() if "_gx_" in k)
        print(f"full run, Great Expectations checks together: {gx:.2f} s")
        ok = full["peak_rss_mb"] <= FULL_RSS_MB
        verdicts.append(ok)
        print(
            f"full run peak RSS: {full['peak_rss_mb']:.0f} MB (target ≤ {FULL_RSS_MB:.0f} MB: {_verdict(ok)})"
        )
    if full and lean:
        ratio = full["seconds"] / lean["seconds"]
        ok = ratio <= FULL_VS_LEAN
        verdicts.append(ok)
        print(
            f"full run {full['seconds']:.2f} s / lean script {lean['seconds']:.2f} s = {ratio:.1f}× "
            f"(target ≤ {FULL_VS_LEAN:.0f}×: {_verdict(ok)})"
        )
    read_csv = results.get("read_csv")
    if full and read_csv:
        load = full["steps"].get("raw_files")
        if load is not None:
            ratio = load / read_csv["seconds"]
            ok = ratio <= LOAD_VS_READ_CSV
            verdicts.append(ok)
            print(
                f"load step raw_files {load:.2f} s / DuckDB read_csv of the same files {read_csv['seconds']:.2f} s "
                f"(whole process) = {ratio:.2f}× (target ≤ {LOAD_VS_READ_CSV}×: {_verdict(ok)})"
            )
    incremental = results.get("incremental")
    if full and incremental:
        speedup = full["seconds"] / incremental["seconds"]
        ok = speedup >= INCREMENTAL_SPEEDUP
        verdicts.append(ok)
        steps = sorted(incremental["steps"].items(), key=lambda kv: -kv[1])
        print("incremental run, slowest steps: " + ", ".join(f"{k} {v:.2f}s" for k, v in steps[:8]))
        print(
            f"incremental daily run {incremental['seconds']:.2f} s: {speedup:.1f}× faster than the full run "
            f"(target ≥ {INCREMENTAL_SPEEDUP:.0f}×: {_verdict(ok)})"
        )
    floor = results.get("floor")
    if floor:
        print(
            f"floor: importing the Dagster definitions takes {floor['seconds']:.2f} s, which every run waits "
            f"for; Great Expectations' import {floor['gx_seconds']:.2f} s more CPU, overlapped with the first steps"
        )
        if lean:
            # The two ratio targets together: a full run at 2x the lean script leaves the daily run a tenth of that.
            budget = FULL_VS_LEAN * lean["seconds"] / INCREMENTAL_SPEEDUP
            print(
                f"  with the full run at its target ({FULL_VS_LEAN:.0f}× lean = {FULL_VS_LEAN * lean['seconds']:.2f} s), "
                f"a {INCREMENTAL_SPEEDUP:.0f}× faster daily run has {budget:.2f} s: "
                f"{floor['seconds'] / budget:.1f}× less than the definitions' import alone"
            )
    demo = results.get("demo")
    if demo:
        ok = demo["seconds"] <= DEMO_SECONDS
        verdicts.append(ok)
        print(f"kpi demo end to end: {demo['seconds']:.2f} s (target ≤ {DEMO_SECONDS:.0f} s: {_verdict(ok)})")
    if "sync" in results:
        sync = results["sync"]
        if sync is None:
            verdicts.append(False)
            print("sync: bench/sync.py is not there yet: MISSED")
        else:
            print("\nsync (bench/sync.py):\n" + sync["stdout"].rstrip())
            verdicts.append("MISSED" not in sync["stdout"])
    dashboard = results.get("dashboard")
    if dashboard:
        lines = dashboard["stdout"].splitlines()
        print(
            "\ndashboard (bench/dashboard_speed.py):\n"
            + "\n".join(line for line in lines if "target" in line)
        )
        verdicts.append("MISSED" not in dashboard["stdout"])
    return 0 if verdicts and all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
