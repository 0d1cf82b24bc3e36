"""Scale check for the demo-organisation generator.

Generates a 1,000-service organisation into a temporary directory and prints the rows
written per file, the seconds it took and the process's peak resident memory.

Run:  .venv/bin/python bench/gen_scale_check.py
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from platform_kpi.demo.org import generate_demo_org  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="demo-org-scale-") as tmp:
        began = time.perf_counter()
        counts = generate_demo_org(Path(tmp), services=1000, months=12, inject_bad_rows=False)
        seconds = time.perf_counter() - began
        size_mb = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 1e6
    for entity, rows in counts.items():
        print(f"{entity:<12} {rows:>10,} rows")
    print(f"{'total':<12} {sum(counts.values()):>10,} rows  ({size_mb:,.0f} MB of CSV)")
    print(f"seconds      {seconds:10.2f}")
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / 1e6 if sys.platform == "darwin" else peak / 1024
    print(f"peak RSS     {peak_mb:10.0f} MB")


if __name__ == "__main__":
    main()
