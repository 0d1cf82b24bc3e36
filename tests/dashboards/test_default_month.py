"""The dashboard's default month and the monthly report's month are the same for a given "today":
the report is written by `kpi report` run as a subprocess, the dashboard runs in AppTest, both with
KPI_TODAY set to that day."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
KPI = Path(sys.executable).with_name("kpi")


def report_month(demo: Path, tmp_path: Path, today: str) -> str:
    """The month `kpi report` (no --month) writes on ``today``, from the folder it reports."""
    env = {**os.environ, "KPI_TODAY": today, "KPI_WAREHOUSE": str(demo / "warehouse.duckdb")}
    out = subprocess.run(
        [str(KPI), "report", "--no-deliver", "--out", str(tmp_path / "reports")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    months = set(re.findall(r"reports/(\d{4}-\d{2})/report\.html", out.stdout))
    assert len(months) == 1, out.stdout
    return months.pop()


def dashboard_month(demo: Path, monkeypatch: pytest.MonkeyPatch, today: str) -> str:
    monkeypatch.setenv("KPI_WAREHOUSE", str(demo / "warehouse.duckdb"))
    monkeypatch.setenv("KPI_TODAY", today)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, [e.message for e in at.exception]
    return at.selectbox(key="f_to").value


@pytest.mark.parametrize(
    ("today", "month"),
    # The demo holds data up to 28 November 2026. On 1 December the report covers November; the
    # dashboard used to open on October (the second-newest month of data).
    [("2026-12-01", "2026-11"), ("2026-11-15", "2026-10")],
)
def test_dashboard_default_month_equals_the_report_month(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, today: str, month: str
) -> None:
    assert report_month(demo, tmp_path, today) == month
    assert dashboard_month(demo, monkeypatch, today) == month
