"""The demo warehouse the dashboard, browser and report tests share: built once per test process.

The full pipeline (Dagster, Great Expectations checks, publish) runs on the deterministic demo
organisation with a fixed "today", so the months and numbers are the same on every run.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import shutil
import tempfile
from pathlib import Path

TODAY = dt.date(2026, 11, 28)
REPORT_MONTH = dt.date(2026, 10, 1)  # the last full month on TODAY


@functools.cache
def demo_home() -> Path:
    """A folder with files/, warehouse.duckdb and reports/2026-10/ of the demo organisation."""
    from pipelines.execute import run_pipeline
    from platform_kpi.demo.operations import generate_demo_operations
    from platform_kpi.demo.org import generate_demo_org
    from platform_kpi.reporting.report import write_report

    home = Path(tempfile.mkdtemp(prefix="kpi-demo-"))
    atexit.register(shutil.rmtree, home, True)
    generate_demo_org(home / "files", services=40, seed=7, today=TODAY)
    generate_demo_operations(home, home / "files", seed=7, today=TODAY)  # as `kpi demo` does
    run_pipeline(
        home / "files", home / "warehouse.duckdb", reports_dir=home / "reports", sources=home / "sources.yaml"
    )
    write_report(home / "warehouse.duckdb", REPORT_MONTH, home / "reports")
    return home
