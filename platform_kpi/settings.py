"""Every environment switch of the product, read in one place and only when asked.

Nothing in the code base reads ``os.environ`` at import time; callers ask for ``load_settings()``
when they need the values, so tests and the CLI can point the pipeline anywhere.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


def bundled(name: str) -> Path:
    """A data folder the product ships (``sql``, ``catalog``, ``config``).

    An installed wheel carries them inside the package (``platform_kpi/_bundled/<name>``, see
    pyproject's force-include); a source checkout has them at the repository root.
    """
    packaged = resources.files("platform_kpi") / "_bundled" / name
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[1] / name


SQL_DIR = bundled("sql")
CATALOG_DIR = bundled("catalog")
DEFAULT_CONFIG = bundled("config") / "kpi.yaml"
# DuckDB's own default is 80% of RAM, which a 10M-row cost export fills (5.8 GB measured); capped, it
# spills to disk. At 512MB the 1,000-service benchmark run peaks at 960 MB in all (the Python side,
# Great Expectations' import included, is about 400 MB) at the same speed as with 1536MB (1,516 MB
# peak), and the 10M-row export still loads and models (795 MB peak).
DEFAULT_MEMORY_LIMIT = "512MB"
# How long a run waits for another run of the same warehouse before giving up (a full benchmark-size
# run takes about a minute; an API sync under rate limits can take much longer).
DEFAULT_LOCK_TIMEOUT_SEC = 3600.0
AUTH_MODES = ("none", "proxy")


@dataclass(frozen=True)
class DashboardAuth:
    """Who may open the dashboard on a shared server.

    ``mode`` "none": anyone who can reach the port (the default, with the port bound to 127.0.0.1).
    ``mode`` "proxy": an authenticating reverse proxy (oauth2-proxy, a Kubernetes ingress with auth,
    ...) signs people in and passes who they are in ``user_header`` and their groups, comma-separated,
    in ``groups_header``; a request without the user header is refused. The headers are trusted, so
    the dashboard must be reachable only through that proxy. The SQL page is shown only to members of
    ``sql_group`` (nobody when it is unset).
    """

    mode: str = "none"
    user_header: str = "X-Forwarded-User"
    groups_header: str = "X-Forwarded-Groups"
    sql_group: str | None = None

    @property
    def enabled(self) -> bool:
        return self.mode != "none"


#: where `kpi demo` writes by default, relative to the working directory (as `make demo` runs it)
DEMO_DIR = Path("data") / "demo"


@dataclass(frozen=True)
class SqlLimits:
    """What one ad-hoc query (the dashboard's SQL page, ``kpi sql``) may use before it is stopped.

    Each query runs in its own process; beyond these it is killed and the user told which limit hit.
    """

    #: wall-clock seconds before the query's process is killed (None: no limit)
    timeout_sec: float | None = 30.0
    #: DuckDB memory_limit of the query (no spilling to disk: beyond it the query fails)
    memory_limit: str = "1GB"
    #: rows returned at most; the rest are cut and the user told so
    max_rows: int = 10_000
    #: DuckDB threads of the query (the dashboard shares its cores with every user)
    threads: int = 1
    #: queries of one dashboard process that may run at once; more wait for a free slot
    max_concurrent: int = 2


@dataclass(frozen=True)
class Settings:
    """Where the pipeline reads and writes.

    ``warehouse`` is the published snapshot that the dashboard, ``kpi sql`` and the report read;
    the pipeline writes ``work_warehouse`` and swaps a finished copy over ``warehouse`` atomically,
    so readers are never blocked by a run.
    """

    home: Path
    warehouse: Path
    files_dir: Path | None
    config: Path
    reports_dir: Path
    #: sources.yaml naming the API sources to sync (None: no API source)
    sources: Path | None = None
    #: DuckDB memory_limit of every writing connection (a DuckDB size such as '512MB')
    duckdb_memory_limit: str = DEFAULT_MEMORY_LIMIT
    #: seconds a run waits while another run writes the same warehouse (0: refuse at once)
    lock_timeout_sec: float = DEFAULT_LOCK_TIMEOUT_SEC
    #: the date that decides "last month" (None: today, UTC); pins a demo or a test to a day
    today: dt.date | None = None
    #: the interface `kpi dashboard` listens on (loopback unless told otherwise)
    dashboard_address: str = "127.0.0.1"
    dashboard_auth: DashboardAuth = DashboardAuth()
    #: limits of the dashboard's SQL page and of ``kpi sql`` (KPI_SQL_*)
    sql: SqlLimits = SqlLimits()
    #: True when KPI_WAREHOUSE or KPI_HOME chose the warehouse (False: the built-in default)
    warehouse_configured: bool = False

    @property
    def work_warehouse(self) -> Path:
        return work_path_for(self.warehouse)


def work_path_for(warehouse: Path) -> Path:
    """The private file a run writes before it publishes ``warehouse``."""
    return warehouse.with_name(warehouse.stem + ".work" + (warehouse.suffix or ".duckdb"))


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from environment variables (see .env.example), with defaults under ``./data``."""
    env = os.environ if env is None else env
    home = Path(env.get("KPI_HOME", "data")).expanduser()
    warehouse = Path(env.get("KPI_WAREHOUSE", str(home / "warehouse.duckdb"))).expanduser()
    files_dir = env.get("KPI_FILES_DIR")
    today = env.get("KPI_TODAY", "").strip()
    try:
        pinned = dt.date.fromisoformat(today) if today else None
    except ValueError:
        raise ValueError(
            f"KPI_TODAY={today!r} is not a date: use YYYY-MM-DD, or unset it for today"
        ) from None
    mode = env.get("KPI_DASHBOARD_AUTH", "none").strip().lower() or "none"
    if mode not in AUTH_MODES:
        raise ValueError(
            f"KPI_DASHBOARD_AUTH={mode!r} is not one of {', '.join(AUTH_MODES)}: use 'proxy' behind an "
            "authenticating reverse proxy, or unset it"
        )
    auth = DashboardAuth(
        mode=mode,
        user_header=env.get("KPI_DASHBOARD_USER_HEADER", "").strip() or DashboardAuth.user_header,
        groups_header=env.get("KPI_DASHBOARD_GROUPS_HEADER", "").strip() or DashboardAuth.groups_header,
        sql_group=env.get("KPI_DASHBOARD_SQL_GROUP", "").strip() or None,
    )
    return Settings(
        home=home,
        warehouse=warehouse,
        files_dir=Path(files_dir).expanduser() if files_dir else None,
        config=Path(env.get("KPI_CONFIG", str(DEFAULT_CONFIG))).expanduser(),
        reports_dir=Path(env.get("KPI_REPORTS_DIR", str(home / "reports"))).expanduser(),
        duckdb_memory_limit=env.get("KPI_DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
        sources=Path(env["KPI_SOURCES"]).expanduser() if env.get("KPI_SOURCES") else None,
        lock_timeout_sec=_seconds(env, "KPI_LOCK_TIMEOUT_SEC", DEFAULT_LOCK_TIMEOUT_SEC),
        today=pinned,
        dashboard_address=env.get("KPI_DASHBOARD_ADDRESS", "").strip() or "127.0.0.1",
        dashboard_auth=auth,
        sql=_sql_limits(env),
        warehouse_configured=bool(env.get("KPI_WAREHOUSE") or env.get("KPI_HOME")),
    )


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ValueError(f"{name}={raw!r} is not a number of seconds (e.g. 600, or 0 to not wait)")
    return value


def _sql_limits(env: Mapping[str, str]) -> SqlLimits:
    default = SqlLimits()

    def count(name: str, fallback: int) -> int:
        raw = env.get(name, "").strip()
        if not raw:
            return fallback
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"{name}={raw!r} is not a positive whole number")
        return int(raw)

    return SqlLimits(
        timeout_sec=_seconds(env, "KPI_SQL_TIMEOUT_SEC", default.timeout_sec) or None,  # 0: no limit
        memory_limit=env.get("KPI_SQL_MEMORY_LIMIT", "").strip() or default.memory_limit,
        max_rows=count("KPI_SQL_MAX_ROWS", default.max_rows),
        threads=count("KPI_SQL_THREADS", default.threads),
        max_concurrent=count("KPI_SQL_MAX_CONCURRENT", default.max_concurrent),
    )


def reader_warehouse(explicit: Path | str | None = None, settings: Settings | None = None) -> Path:
    """The published warehouse a reader (``kpi sql``) opens.

    ``explicit`` (a --warehouse flag) wins, then KPI_WAREHOUSE / KPI_HOME. With nothing configured and
    no ``data/warehouse.duckdb``, the demo's warehouse (``data/demo``, where ``make demo`` writes) is
    used if it exists, so a newcomer's next command after ``make demo`` works.
    """
    if explicit:
        return Path(explicit).expanduser()
    settings = settings or load_settings()
    demo = DEMO_DIR / "warehouse.duckdb"
    if not settings.warehouse_configured and not settings.warehouse.exists() and demo.exists():
        return demo
    return settings.warehouse
