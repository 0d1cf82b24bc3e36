"""A throwaway PostgreSQL server the tests start themselves (Debian's ``postgresql`` package; .ci/run
installs it): a real server on 127.0.0.1 with password authentication, not a mock.

initdb refuses to run as root, so under root the server runs as the ``postgres`` user the package
creates. Without the binaries the tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "kpi"
PASSWORD = "s3cr3t-Pg-pa55word"
DATABASE = "itsm"


def _bin_dir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    host: str
    port: int

    def url(self, *, password: bool = False, driver: str = "postgresql+psycopg") -> str:
        secret = f":{PASSWORD}" if password else ""
        return f"{driver}://{USER}{secret}@{self.host}:{self.port}/{DATABASE}"

    def admin(self):
        """A psycopg connection for the test's own set-up (autocommit)."""
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, user=USER, password=PASSWORD, dbname=DATABASE, autocommit=True
        )


def start_postgres() -> Iterator[PostgresServer]:
    """Start a server in a temporary folder, yield it, stop it and remove the folder."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        message = "PostgreSQL server binaries not found (apt-get install postgresql; .ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix="kpi-pg-"))
    data, sock, pwfile = base / "data", base / "sock", base / "pw"
    sock.mkdir()
    pwfile.write_text(PASSWORD + "\n")
    if as_root:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
        shutil.chown(pwfile, "postgres")
    port = _free_port()
    run = lambda *args: subprocess.run([*prefix, *args], check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            "-A",
            "scram-sha-256",
            "--pwfile",
            str(pwfile),
        )
        run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(base / "log"),
            "-w",
            "-o",
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        server = PostgresServer("127.0.0.1", port)
        import psycopg

        deadline = time.monotonic() + 20
        while True:
            try:
                with psycopg.connect(
                    host=server.host,
                    port=port,
                    user=USER,
                    password=PASSWORD,
                    dbname="postgres",
                    autocommit=True,
                ) as con:
                    con.execute(f"create database {DATABASE}")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)
