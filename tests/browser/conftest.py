"""A running dashboard on the demo warehouse and a real headless Chromium (Debian's `chromium`).

Under CI=true a missing browser fails the tests; elsewhere it skips them with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.dashboards.demo import TODAY, demo_home

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def demo() -> Path:
    return demo_home()


@contextlib.contextmanager
def serve_process(env: dict[str, str], log_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """Streamlit serving dashboards/app.py with ``env`` added to the environment, on a free port,
    healthy: (its url, its process); stopped on exit."""
    port = _free_port()
    env = {**os.environ, **env}
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "dashboards" / "app.py"),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            "--client.toolbarMode",
            "viewer",
            "--theme.primaryColor",
            "#4f46e5",
        ],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Streamlit did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.25)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def serve(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """Streamlit with ``env`` added to the environment: its url."""
    with serve_process(env, log_path) as (url, _):
        yield url


@contextlib.contextmanager
def serve_dashboard(
    warehouse: Path, reports: Path, log_path: Path, **env_extra: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Streamlit on ``warehouse``: (its url, its process)."""
    env = {"KPI_WAREHOUSE": str(warehouse), "KPI_REPORTS_DIR": str(reports), **env_extra}
    with serve_process(env, log_path) as served:
        yield served


@pytest.fixture(scope="session")
def dashboard_url(demo: Path) -> Iterator[str]:
    """The dashboard on the demo warehouse."""
    env = {
        "KPI_WAREHOUSE": str(demo / "warehouse.duckdb"),
        "KPI_REPORTS_DIR": str(demo / "reports"),
        "KPI_TODAY": TODAY.isoformat(),  # the demo's "today": October is the last full month
    }
    with serve(env, demo / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)
    pg = context.new_page()
    pg.set_default_timeout(int(os.environ.get("PW_TIMEOUT_MS", "30000")))
    try:
        yield pg
    finally:
        context.close()
