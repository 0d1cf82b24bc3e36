"""The benchmark organisation, generated once under ``.bench/`` and shared by the benchmarks."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

TODAY = dt.date(2026, 11, 28)  # fixed so the benchmark data is the same on every machine and day


def benchmark_org(root: Path, services: int, *, regenerate: bool = False) -> Path:
    """``root/files``: the demo organisation at ``services`` services × 12 months, without bad rows,
    generated on first use (or when ``regenerate``); prints what it holds and the machine."""
    files_dir, marker = root / "files", root / "generated.json"
    if regenerate or not marker.exists():
        from platform_kpi.demo.org import generate_demo_org

        shutil.rmtree(root, ignore_errors=True)
        print(f"Generating {services} services × 12 months into {files_dir} ...", flush=True)
        started = time.perf_counter()
        counts = generate_demo_org(
            files_dir, services=services, months=12, today=TODAY, inject_bad_rows=False
        )
        marker.write_text(json.dumps(counts))
        print(f"  generated in {time.perf_counter() - started:.1f}s", flush=True)
    counts = json.loads(marker.read_text())
    print("Data: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
    print(f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}", flush=True)
    return files_dir
