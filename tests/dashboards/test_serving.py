"""`kpi dashboard` as a service manager runs it: a subprocess that listens on loopback unless told
otherwise, and that stops (with nothing left holding the port) when it gets SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

KPI = Path(sys.executable).with_name("kpi")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> set[str]:
    """The local addresses a TCP socket listens on at ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hex_port = local.split(":")
            if state != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(addr)
            # the kernel prints each 32-bit word in host (little-endian) order
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(socket.inet_ntop(socket.AF_INET if width == 8 else socket.AF_INET6, raw))
    return found


def streamlit_pids(port: int) -> list[int]:
    """Processes running Streamlit on ``port``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(argv) and str(port).encode() in argv:
            pids.append(int(proc.name))
    return pids


def start(tmp_path: Path, port: int, *extra: str) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KPI_DASHBOARD")}
    proc = subprocess.Popen(
        [str(KPI), "dashboard", "--warehouse", str(tmp_path / "none.duckdb"), "--port", str(port), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return proc, proc.stdout.readline()


def wait_healthy(proc: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"no answer at {url}/_stcore/health")


def stop_all(proc: subprocess.Popen, port: int) -> None:
    """Clean-up only: whatever the test left of the processes it started."""
    for pid in {proc.pid, *streamlit_pids(port)}:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(10)


def test_the_dashboard_listens_on_loopback_by_default(tmp_path: Path) -> None:
    port = free_port()
    proc, first_line = start(tmp_path, port)
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}")
        assert listening(port) == {"127.0.0.1"}
        assert f"http://localhost:{port}" in first_line and "listening on 127.0.0.1" in first_line
    finally:
        stop_all(proc, port)


def test_sigterm_stops_streamlit_and_frees_the_port(tmp_path: Path) -> None:
    port = free_port()
    # --address is honoured (127.0.0.2 is loopback too, and unlike the default)
    proc, _ = start(tmp_path, port, "--address", "127.0.0.2")
    try:
        wait_healthy(proc, f"http://127.0.0.2:{port}")
        assert listening(port) == {"127.0.0.2"}
        assert streamlit_pids(port)
        proc.send_signal(signal.SIGTERM)  # as systemd or `docker stop` does
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (listening(port) or streamlit_pids(port)):
            time.sleep(0.1)
        assert not listening(port), "the port is still held after SIGTERM"
        assert not streamlit_pids(port), "a streamlit process outlived SIGTERM"
        assert proc.wait(5) is not None
    finally:
        stop_all(proc, port)
