"""The product as a user installs it: a wheel built from pyproject.toml, alone in a fresh virtual
environment (its dependencies pinned by uv.lock), runs `kpi demo` outside the source checkout."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.repo import REPO_ROOT

pytestmark = pytest.mark.slow


def _uv() -> str:
    found = shutil.which("uv") or str(Path(site.getuserbase()) / "bin" / "uv")
    if not Path(found).exists():  # the Makefile installs uv before any test runs
        pytest.fail("uv is not installed (make install puts it in the user site)")
    return found


@pytest.fixture(scope="module")
def wheel(module_tmp) -> Path:
    out = module_tmp
    subprocess.run(
        [_uv(), "build", "--wheel", "--out-dir", str(out), str(REPO_ROOT)], check=True, capture_output=True
    )
    (path,) = out.glob("platform_kpi-*.whl")
    return path


def test_the_wheel_carries_the_data_the_product_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "platform_kpi/_bundled/catalog/kpis.yaml",
        "platform_kpi/_bundled/config/kpi.yaml",
        "platform_kpi/_bundled/config/costs.yaml",
        "platform_kpi/_bundled/config/delivery.yaml",
        "platform_kpi/_bundled/sql/marts/kpi_monthly.sql",
        "platform_kpi/_bundled/sql/seeds/status_map.csv",
        "dashboards/app.py",
        "kpi_cli/main.py",
        "pipelines/definitions.py",
    ):
        assert expected in names, expected
    assert not any(n.startswith("tests/") for n in names)


def test_kpi_demo_runs_from_a_fresh_environment_holding_only_the_wheel(wheel, tmp_path):
    uv = _uv()
    venv = tmp_path / "venv"
    pins = tmp_path / "pins.txt"
    # The exact versions of uv.lock, without the project itself (it comes from the wheel).
    subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "-o", str(pins)],
        check=True,
        cwd=REPO_ROOT,
        capture_output=True,
    )
    subprocess.run([uv, "venv", "--python", sys.executable, str(venv)], check=True, capture_output=True)
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    subprocess.run(
        [uv, "pip", "install", "-r", str(pins), str(wheel)], check=True, env=env, capture_output=True
    )

    work = tmp_path / "elsewhere"  # not the checkout: nothing may be found relative to the source tree
    work.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KPI_", "PYTHON", "VIRTUAL_ENV"))}
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import platform_kpi, sys; print(platform_kpi.__file__)"],
        cwd=work,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert str(venv) in where and str(REPO_ROOT) not in where, where

    run = subprocess.run(
        [str(venv / "bin" / "kpi"), "demo", "--dir", "demo", "--services", "4", "--today", "2026-12-01"],
        cwd=work,
        env=clean,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (work / "demo" / "warehouse.duckdb").exists()
    assert (work / "demo" / "reports" / "2026-11" / "report.pdf").exists()
    assert "checks passed" in run.stdout
