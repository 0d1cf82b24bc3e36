"""The foundation round's benchmark (kept for comparison; `make bench` runs bench/run.py): the full KPI
recompute at benchmark size, against a straightforward pandas version.

Generates (once, cached under .bench/) the demo organisation at ≈1,000 services × 12 months
(≈2M builds, ≈300k deployments, ≈20k incidents), then, each phase in its own process so peak memory
is that phase's own:
  1. ours/load         the refresh job's raw assets: canonical CSV files → raw tables (DuckDB read_csv)
  2. ours/recompute    the refresh job's config and SQL model assets (staging → core → marts), run three
                       times from the same loaded file; the median run counts
  3. ours/checks       the refresh job's asset checks (Great Expectations suites, KPI table contracts)
  4. ours/write-floor  only writing copies of the finished contract tables: what any design that keeps
                       them queryable pays before computing anything
  5. pandas/load       the same files with pandas.read_csv + timestamp parsing
  6. pandas/compute    the same monthly and weekly KPIs in pandas (bench/pandas_dora.py)
and prints seconds and peak RSS for each, the targets (recompute ≤ 10 s and ≤ 2 GB; ≥ 10× faster than
pandas) and whether they were met. Seconds run from after the phase's Python imports (a Dagster run has
them loaded already; pandas/compute also starts after reading its cached inputs) to the phase's end,
DuckDB's checkpoint on close included; the time before the timer is printed beside.

    .venv/bin/python -m bench.recompute [--services 1000] [--dir .bench] [--regenerate]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.data import benchmark_org

TARGET_SECONDS = 10.0
TARGET_RSS_MB = 2048.0
TARGET_SPEEDUP = 10.0
# The tables the issue makes a contract (domain tables and the KPI output), for the write floor.
CONTRACT_TABLES = (
    "core.services",
    "core.deployments",
    "core.changes",
    "core.incidents",
    "core.cicd_builds",
    "marts.kpi_monthly",
    "marts.kpi_weekly",
)


def _started(out: dict, imported: float) -> float:
    now = time.perf_counter()
    out["import_seconds"] = round(now - imported, 2)
    return now


def _phase(name: str, files_dir: Path, db: Path) -> dict:
    """Run one phase in this process and return its figures (called in a child process)."""
    # Every phase times its work, not the Python imports before it (a Dagster run has them loaded
    # already; the pandas phases do the same); the import time is reported separately.
    imported = time.perf_counter()
    out: dict = {}
    if name in ("ours/load", "ours/recompute", "ours/checks"):
        import dagster as dg

        from assets.inputs import kpi_config
        from assets.transform import model_assets
        from pipelines.execute import run_pipeline

        # Each phase runs its part of the refresh job's asset graph, in-process as `kpi run` does.
        selection, checks = {
            "ours/load": (dg.AssetSelection.groups("raw"), False),
            "ours/recompute": (dg.AssetSelection.assets(kpi_config, *model_assets), False),
            "ours/checks": (dg.AssetSelection.all_asset_checks(), True),
        }[name]
        steps: dict[str, float] = {}

        def _step(line: str) -> None:  # "[ 3/12] core_models (1.23s)"
            if line.startswith("[") and line.endswith("s)"):
                step, took = line.split("] ", 1)[1].rsplit(" (", 1)
                steps[step] = float(took.removesuffix("s)"))

        started = _started(out, imported)
        summary = run_pipeline(
            files_dir, db, selection=selection, checks=checks, progress=_step, as_of=dt.datetime(2026, 11, 28)
        )
        out.update(steps)
        if name == "ours/checks":
            out["checks_passed"], out["checks_failed"] = summary.checks_passed, summary.checks_failed
    elif name == "ours/write-floor":
        from platform_kpi.settings import work_path_for
        from platform_kpi.warehouse import write_connection

        started = _started(out, imported)
        # A floor for any design that keeps the domain and KPI tables queryable: copy the finished ones
        # (no computation at all) and time only the writing.
        with write_connection(work_path_for(db)) as con:
            con.execute("set preserve_insertion_order = false")
            for table in CONTRACT_TABLES:
                con.execute(f"create or replace table main.floor_copy as select * from {table}")
            con.execute("drop table main.floor_copy")
    elif name == "pandas/load":
        from bench.pandas_dora import load_inputs

        started = _started(out, imported)
        inputs = load_inputs(files_dir)
        out.update({k: len(v) for k, v in inputs.items()})
    elif name == "pandas/compute":
        import pickle

        from bench.pandas_dora import compute_monthly, compute_weekly, load_inputs

        cache = db.with_suffix(".pandas.pkl")
        if cache.exists():
            inputs = pickle.loads(cache.read_bytes())
        else:
            inputs = load_inputs(files_dir)
            cache.write_bytes(pickle.dumps(inputs))
        started = _started(out, imported)  # compute only: loading is phase pandas/load
        monthly = compute_monthly(inputs)
        weekly = compute_weekly(inputs)
        out.update({"monthly_rows": len(monthly), "weekly_rows": len(weekly)})
    else:
        raise SystemExit(f"unknown phase {name}")
    out["seconds"] = round(time.perf_counter() - started, 2)
    return out


def _run_child(name: str, files_dir: Path, db: Path) -> dict:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.recompute",
            "--phase",
            name,
            "--files",
            str(files_dir),
            "--db",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"phase {name} failed (exit {proc.returncode})")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 0)  # KiB on Linux
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--dir", default=".bench")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--skip-pandas", action="store_true", help="time only our pipeline")
    parser.add_argument("--repeat", type=int, default=3, help="recompute runs; the median is reported")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        print(json.dumps(_phase(args.phase, Path(args.files), Path(args.db))))
        return 0

    from platform_kpi.settings import work_path_for

    root = Path(args.dir) / f"org-{args.services}"
    # The runs write bench.work.duckdb (the refresh job's work file) and never publish bench.duckdb.
    files_dir, db = benchmark_org(root, args.services, regenerate=args.regenerate), root / "bench.duckdb"
    work = work_path_for(db)

    phases = ["ours/load", "ours/recompute", "ours/checks", "ours/write-floor"]
    if not args.skip_pandas:
        phases += ["pandas/load", "pandas/compute"]
    results = {}
    loaded = root / "loaded.duckdb"
    for name in phases:
        print(f"  running {name} ...", flush=True)
        if name == "ours/recompute":
            # Timings on a shared 2-core machine vary by ±10%: repeat the recompute, each time from the
            # same just-loaded file, and report the median run (min and max beside it).
            runs = []
            for attempt in range(args.repeat):
                shutil.copyfile(loaded, work)
                runs.append(_run_child(name, files_dir, db))
                print(f"    run {attempt + 1}/{args.repeat}: {runs[-1]['seconds']:.2f} s", flush=True)
            runs.sort(key=lambda run: run["seconds"])
            results[name] = dict(runs[len(runs) // 2])
            results[name]["runs"] = [run["seconds"] for run in runs]
            results[name]["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
        else:
            results[name] = _run_child(name, files_dir, db)
        if name == "ours/load":
            shutil.copyfile(work, loaded)
        r = results[name]
        print(
            f"    {r['seconds']:.2f} s wall, {r['cpu_seconds']:.2f} s CPU (whole process), "
            f"peak RSS {r['peak_rss_mb']:.0f} MB; imports before the timer {r['import_seconds']:.2f} s",
            flush=True,
        )

    print("\nphase              seconds   peak RSS MB   (before the timer: imports, cached inputs)")
    for name, r in results.items():
        print(f"{name:<18} {r['seconds']:>7.2f}   {r['peak_rss_mb']:>8.0f}      {r['import_seconds']:>5.2f}")
    steps = sorted(
        ((k, v) for k, v in results["ours/recompute"].items() if k.endswith("_models") or k == "kpi_config"),
        key=lambda kv: -kv[1],
    )
    print("recompute steps (median run): " + ", ".join(f"{k} {v:.2f}s" for k, v in steps))

    rec = results["ours/recompute"]
    ok_time, ok_mem = rec["seconds"] <= TARGET_SECONDS, rec["peak_rss_mb"] <= TARGET_RSS_MB
    print("\nKPI recompute runs: " + ", ".join(f"{x:.2f} s" for x in rec["runs"]) + " (median below)")
    print(
        f"KPI recompute: {rec['seconds']:.2f} s (target ≤ {TARGET_SECONDS:.0f} s: {'met' if ok_time else 'MISSED'}), "
        f"peak {rec['peak_rss_mb']:.0f} MB (target ≤ {TARGET_RSS_MB:.0f} MB: {'met' if ok_mem else 'MISSED'})"
    )
    ok = ok_time and ok_mem
    if not args.skip_pandas:
        pandas_total = results["pandas/load"]["seconds"] + results["pandas/compute"]["seconds"]
        ours_total = results["ours/load"]["seconds"] + rec["seconds"]
        speedup_compute = results["pandas/compute"]["seconds"] / rec["seconds"]
        speedup_total = pandas_total / ours_total
        print(
            f"files → KPIs: ours {ours_total:.2f} s vs pandas {pandas_total:.2f} s = {speedup_total:.1f}× faster"
        )
        print(
            f"recompute only (from loaded inputs): ours {rec['seconds']:.2f} s vs pandas "
            f"{results['pandas/compute']['seconds']:.2f} s = {speedup_compute:.1f}× faster "
            f"(ours also parses, validates and quarantines; pandas starts from parsed frames)"
        )
        floor = results["ours/write-floor"]["seconds"]
        budget = results["pandas/compute"]["seconds"] / TARGET_SPEEDUP
        print(
            f"writing the contract tables alone (no computation): {floor:.2f} s; a {TARGET_SPEEDUP:.0f}× faster "
            f"recompute than pandas compute would have {budget:.2f} s for everything"
        )
        ok_speed = speedup_total >= TARGET_SPEEDUP
        print(f"speed-up target ≥ {TARGET_SPEEDUP:.0f}× (files → KPIs): {'met' if ok_speed else 'MISSED'}")
        ok = ok and ok_speed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
