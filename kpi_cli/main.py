"""The `kpi` command line: demo, run, sql, report, dashboard."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from importlib import resources
from pathlib import Path

from platform_kpi.settings import DEMO_DIR, load_settings


def _say(msg: str) -> None:
    print(msg, flush=True)


def _cmd_run(args: argparse.Namespace) -> int:
    from platform_kpi.config import load_config

    settings = load_settings()
    files_dir = Path(args.files) if args.files else settings.files_dir
    if files_dir is None:
        _say("kpi run: no input folder. Pass --files DIR (or set KPI_FILES_DIR); see README 'Your own data'.")
        return 2
    if not files_dir.is_dir():
        _say(
            f"kpi run: input folder {files_dir} does not exist. Pass --files DIR with your services, deployments, "
            "changes, incidents and builds files (README 'Your own data')."
        )
        return 2
    warehouse = Path(args.warehouse) if args.warehouse else settings.warehouse
    configuration = load_config(
        Path(args.config) if args.config else settings.config
    )  # a wrong file stops here
    from pipelines.execute import run_pipeline

    _say(f"Loading {files_dir} into {warehouse} ...")
    summary = run_pipeline(
        files_dir,
        warehouse,
        reports_dir=settings.reports_dir,
        progress=_say,
        configuration=configuration,
        allow_row_drop=args.allow_row_drop,
        full=args.full,
    )
    _say(
        f"Done in {summary.seconds:.1f}s: {summary.steps} steps, {summary.checks_passed} checks passed. "
        f"Warehouse: {warehouse.resolve()}"
    )
    _print_accounting(warehouse)
    _print_quarantine(warehouse)
    return 0


def _print_accounting(warehouse: Path) -> None:
    """Each input file's records, loaded and quarantined; a WARNING for anything that loaded nothing."""
    from platform_kpi.warehouse import read_connection

    with read_connection(warehouse) as con:
        if not con.execute(
            "select count(*) from information_schema.tables where table_schema = 'ops' and table_name = 'file_accounting'"
        ).fetchone()[0]:
            return
        rows = con.execute(
            "select entity, file, status, records, loaded, quarantined, blank_lines, repaired, ignored_columns, note "
            "from ops.file_accounting order by "
            "list_position(['services', 'deployments', 'changes', 'incidents', 'builds'], entity) nulls last, file"
        ).fetchall()
    if not rows:
        return
    _say("Input files (every record loaded or quarantined; see table ops.file_accounting):")
    for entity, file, status, records, loaded, quarantined, blank, repaired, ignored_columns, note in rows:
        if status == "missing":
            _say(f"  WARNING {entity}: {note}; nothing loaded for {entity}")
            continue
        if status == "ignored":
            _say(f"  WARNING {file}: {note}")
            continue
        line = f"  {file}: {records:,} records, {loaded:,} loaded, {quarantined:,} quarantined"
        if blank:
            line += f" ({blank:,} blank lines)"
        _say(line)
        if status == "empty" or records == 0:
            _say(f"  WARNING {file}: {note or 'no records'}; nothing loaded for {entity}")
        elif loaded == 0:
            _say(f"  WARNING {file}: every record was quarantined; see ops.quarantine")
        if repaired:
            _say(f"  note {file}: lines DuckDB could not read were set aside and quarantined")
        if ignored_columns:
            _say(f"  note {file}: ignored column(s) {', '.join(ignored_columns)} (not {entity} columns)")
        if note and status == "read" and records:
            _say(f"  note {file}: {note}")


def _print_quarantine(warehouse: Path) -> None:
    from platform_kpi.warehouse import read_connection

    with read_connection(warehouse) as con:
        rows = con.execute(
            # API records have no line: their key says which one it is
            "select entity, file, coalesce(cast(line as varchar), record_key), reason from ops.quarantine "
            "order by entity, file, line"
        ).fetchall()
    if rows:
        _say(f"{len(rows)} input row(s) quarantined (not counted; see table ops.quarantine):")
        for entity, file, line, reason in rows[:10]:
            _say(f"  {file}:{line} ({entity}): {reason}")
        if len(rows) > 10:
            _say(f"  ... and {len(rows) - 10} more")


def _cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.execute import run_pipeline, write_monthly_report
    from platform_kpi.demo.operations import generate_demo_operations
    from platform_kpi.demo.org import generate_demo_costs, generate_demo_org
    from platform_kpi.periods import last_full_month, today_utc

    home = Path(args.dir)
    files_dir, warehouse, reports = home / "files", home / "warehouse.duckdb", home / "reports"
    today = dt.date.fromisoformat(args.today) if args.today else (load_settings().today or today_utc())
    _say(
        f"Generating the demo organisation ({args.services} services, {args.months} months plus this one, "
        f"seed {args.seed}) in {files_dir} ..."
    )
    started = time.perf_counter()
    counts = generate_demo_org(
        files_dir, services=args.services, months=args.months, seed=args.seed, today=today, progress=_say
    )
    counts.update(generate_demo_costs(files_dir, seed=args.seed, today=today))  # FOCUS exports, OpenCost
    # the service desk (a SQLite replica read through the SQL source), survey, enablement, alerts, SLOs
    counts.update(generate_demo_operations(home, files_dir, months=args.months, seed=args.seed, today=today))
    _say(
        "  "
        + ", ".join(f"{k}: {v:,}" for k, v in counts.items())
        + f" ({time.perf_counter() - started:.1f}s)"
    )
    if args.via_api:  # the same organisation, read through the real API connectors
        from kpi_cli.sources import run_demo_via_api

        summary = run_demo_via_api(files_dir, warehouse, reports_dir=reports, progress=_say)
    else:
        # The demo regenerates its own files: a smaller organisation than last time is not a lost file.
        summary = run_pipeline(
            files_dir,
            warehouse,
            config=load_settings().config,
            reports_dir=reports,
            progress=_say,
            sources=home / "sources.yaml",
            allow_row_drop=True,
        )
    month = last_full_month(today)
    paths = write_monthly_report(warehouse, month, reports)
    _print_quarantine(warehouse)
    _say("")
    _say(f"Pipeline: {summary.steps} steps, {summary.checks_passed} checks passed, {summary.seconds:.1f}s.")
    _say(f"Warehouse: {warehouse.resolve()}")
    _say(f"Report ({month:%Y-%m}): {paths['report.html'].resolve()}")
    _say(f"Dashboard: KPI_WAREHOUSE={warehouse} kpi dashboard   (or: make dashboard)")
    _say(f'Ad-hoc SQL: kpi sql --warehouse {warehouse} "select * from marts.kpi_monthly limit 5"')
    return 0


def _cmd_sql(args: argparse.Namespace) -> int:
    """One read-only query, run like the dashboard's SQL page runs it (platform_kpi.readonly_query).

    Data goes to stdout; which warehouse was read, cut rows and errors go to stderr, so CSV and JSON
    output stay clean.
    """
    from dataclasses import replace

    from platform_kpi.readonly_query import QueryError, run_query
    from platform_kpi.settings import reader_warehouse
    from platform_kpi.warehouse import WarehouseNotFound

    def err(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    settings = load_settings()
    warehouse = reader_warehouse(args.warehouse, settings)
    query = args.query if args.query != "-" else sys.stdin.read()
    if args.max_rows < 1:
        err("kpi sql: --max-rows must be at least 1")
        return 2
    limits = replace(settings.sql, max_rows=args.max_rows, timeout_sec=args.timeout or None)
    demo = warehouse == DEMO_DIR / "warehouse.duckdb" and not args.warehouse
    err(
        f"kpi sql: reading {warehouse}"
        + (" (the demo's warehouse: nothing else is configured)" if demo else "")
    )
    try:
        result = run_query(warehouse, query, limits, allow_files=args.allow_files)
    except (QueryError, WarehouseNotFound) as exc:
        err(f"kpi sql: {exc}")
        return 1
    frame = result.frame
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif args.format == "json":
        sys.stdout.write(frame.to_json(orient="records", date_format="iso") + "\n")
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
            print(frame.to_string(index=False) if len(frame) else "(no rows)", flush=True)
    if result.renamed:
        err(
            "kpi sql: duplicate column names made unique: "
            + ", ".join(f"{n} ({o})" for n, o in result.renamed.items())
        )
    if result.truncated:
        err(f"kpi sql: stopped at {limits.max_rows:,} rows; more rows were cut (raise --max-rows).")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from pipelines.execute import write_monthly_report
    from platform_kpi.config import delivery_config_for
    from platform_kpi.periods import last_full_month
    from platform_kpi.reporting.data import parse_month
    from platform_kpi.reporting.delivery import deliver_report

    settings = load_settings()
    warehouse = Path(args.warehouse) if args.warehouse else settings.warehouse
    month = parse_month(args.month) if args.month else last_full_month(settings.today)
    out = Path(args.out) if args.out else settings.reports_dir
    delivery = None if args.no_deliver else delivery_config_for(settings.config, args.delivery)
    if out.exists() and not out.is_dir():
        _say(f"kpi report: {out} is a file, not a folder. Pass --out DIR with the folder the reports go in.")
        return 2
    try:
        paths = write_monthly_report(warehouse, month, out)
    except PermissionError:
        _say(
            f"kpi report: cannot write into {out.resolve()} (permission denied). Pass --out DIR with a folder "
            "you can write to (or set KPI_REPORTS_DIR), or make that folder writable."
        )
        return 1
    for name, path in paths.items():
        if not name.startswith("charts/"):
            _say(f"{name}: {path.resolve()}")
    failed = 0
    if delivery is not None and delivery.enabled:
        for result in deliver_report(paths["report.pdf"].parent, month, delivery):
            _say(
                f"delivered to {result.target}: {result.detail}"
                if result.ok
                else f"NOT delivered to {result.target}: {result.detail} (the report is kept on disk)"
            )
            failed += not result.ok
    return 3 if failed else 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _cmd_dashboard(args: argparse.Namespace) -> int:
    settings = load_settings()
    warehouse = Path(args.warehouse) if args.warehouse else settings.warehouse
    address = args.address or settings.dashboard_address
    env = {**os.environ, "KPI_WAREHOUSE": str(warehouse.resolve())}
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(resources.files("dashboards") / "app.py"),
        "--server.headless",
        "true",
        "--server.address",
        address,
        "--server.port",
        str(args.port),
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
        "--theme.primaryColor",
        "#4f46e5",
    ]
    everywhere = address in ("0.0.0.0", "::")
    host = "localhost" if address in LOOPBACK else ("<this host's name>" if everywhere else address)
    where = "on every interface" if everywhere else f"on {address}"
    _say(
        f"Dashboard on http://{host}:{args.port} (listening {where}; warehouse {warehouse}); Ctrl-C to stop."
    )
    auth = settings.dashboard_auth
    if auth.enabled:
        _say(
            f"Sign-in by proxy: the user comes from {auth.user_header}, groups from {auth.groups_header}; "
            f"SQL page for {'group ' + auth.sql_group if auth.sql_group else 'nobody (KPI_DASHBOARD_SQL_GROUP unset)'}. "
            f"Only the proxy may reach port {args.port}."
        )
    elif address not in LOOPBACK:
        _say(
            "Warning: anyone who can reach this port can open the dashboard without signing in. On a shared "
            "server put it behind an authenticating proxy (README 'Sharing the dashboard')."
        )
    # Streamlit replaces this process, so a service manager's SIGTERM (or Ctrl-C) reaches it directly and
    # nothing is left holding the port.
    os.execvpe(sys.executable, cmd, env)
    return 0  # not reached


def _cmd_docs(args: argparse.Namespace) -> int:
    from platform_kpi.docs import write

    warehouse = Path(args.warehouse) if args.warehouse else load_settings().warehouse
    _say(f"Wrote {write(warehouse, Path(args.out)).resolve()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpi", description="Platform KPI pipeline: DORA and platform KPIs in DuckDB."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate the demo organisation, run the pipeline, write the report")
    demo.add_argument(
        "--dir", default=str(DEMO_DIR), help="where files, warehouse and reports go (default data/demo)"
    )
    demo.add_argument("--services", type=int, default=40, help="number of services (default 40)")
    demo.add_argument(
        "--months", type=int, default=24, help="full months of history before the current one (default 24)"
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--today", help="pretend today is this date (YYYY-MM-DD); default: today (UTC)")
    demo.add_argument(
        "--via-api",
        action="store_true",
        help="serve the demo from the local GitHub/PagerDuty API simulator and read it through the connectors",
    )
    demo.set_defaults(func=_cmd_demo)

    run = sub.add_parser("run", help="load canonical files and rebuild the warehouse")
    run.add_argument("--files", help="folder of services/deployments/changes/incidents/builds .csv or .jsonl")
    run.add_argument(
        "--warehouse", help="DuckDB file to publish (default $KPI_WAREHOUSE or data/warehouse.duckdb)"
    )
    run.add_argument("--config", help="KPI rules and targets YAML (default config/kpi.yaml)")
    run.add_argument(
        "--allow-row-drop",
        action="store_true",
        help="publish even when an entity's files give far fewer rows than the published warehouse "
        "(row_drop_threshold in the config)",
    )
    run.add_argument(
        "--full",
        action="store_true",
        help="rebuild every table whole; by default the KPI values are rebuilt only for the periods "
        "whose data changed since the last run",
    )
    run.set_defaults(func=_cmd_run)

    from kpi_cli.sources import add_sync_parser

    add_sync_parser(sub)  # kpi sync

    sql = sub.add_parser(
        "sql",
        help="run one read-only query on the published warehouse",
        description="Run one read-only query (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN) on "
        "the published warehouse. It cannot write, attach databases, load extensions, change settings or "
        "read other files (unless --allow-files).",
    )
    sql.add_argument("query", help="the SQL (or - to read it from standard input)")
    sql.add_argument(
        "--warehouse",
        help="DuckDB file (default $KPI_WAREHOUSE, else data/warehouse.duckdb, else the demo's data/demo/warehouse.duckdb)",
    )
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument(
        "--max-rows", type=int, default=1000, help="rows printed at most, in every format (default 1000)"
    )
    sql.add_argument(
        "--timeout", type=float, default=0, help="stop the query after this many seconds (default: no limit)"
    )
    sql.add_argument(
        "--allow-files",
        action="store_true",
        help="let the query read other files (read_csv, read_parquet, ...) on your own machine; never writes",
    )
    sql.set_defaults(func=_cmd_sql)

    report = sub.add_parser(
        "report", help="write the monthly report (PDF, HTML, Markdown) for a month and deliver it"
    )
    report.add_argument("--month", help="YYYY-MM (default: the last full month)")
    report.add_argument("--warehouse", help="DuckDB file (default $KPI_WAREHOUSE or data/warehouse.duckdb)")
    report.add_argument("--out", help="reports folder (default $KPI_REPORTS_DIR or data/reports)")
    report.add_argument(
        "--delivery",
        help="delivery config YAML (default: delivery.yaml beside the KPI config, else config/delivery.yaml)",
    )
    report.add_argument(
        "--no-deliver", action="store_true", help="write the report only; do not post or copy it"
    )
    report.set_defaults(func=_cmd_report)

    dash = sub.add_parser("dashboard", help="start the leadership dashboard (Streamlit)")
    dash.add_argument("--warehouse", help="DuckDB file (default $KPI_WAREHOUSE or data/warehouse.duckdb)")
    dash.add_argument("--port", type=int, default=8501)
    dash.add_argument(
        "--address",
        help="interface to listen on (default $KPI_DASHBOARD_ADDRESS or 127.0.0.1, this machine only; "
        "0.0.0.0 for every interface, behind an authenticating proxy)",
    )
    dash.set_defaults(func=_cmd_dashboard)
    docs = sub.add_parser("docs", help="write docs/tables.md (every table and column) from a warehouse")
    docs.add_argument("--warehouse", help="DuckDB file (default $KPI_WAREHOUSE or data/warehouse.duckdb)")
    docs.add_argument("--out", default="docs/tables.md", help="output file (default docs/tables.md)")
    docs.set_defaults(func=_cmd_docs)
    return parser


# Errors a command reports in one line (module, class). Looked up only among the modules the command
# loaded: importing them all up front would make every command pay for Dagster (seconds), `kpi sql` too.
_USER_ERRORS = (
    ("connectors.files", "SourceFileError"),
    ("connectors.http", "SourceError"),
    ("pipelines.execute", "PipelineFailed"),
    ("platform_kpi.config", "ConfigError"),
    ("platform_kpi.warehouse", "WarehouseNotFound"),
    ("platform_kpi.warehouse", "WarehouseBusy"),
)


def _user_errors() -> tuple[type[BaseException], ...]:
    loaded = tuple(getattr(sys.modules[m], name) for m, name in _USER_ERRORS if m in sys.modules)
    return (*loaded, ValueError)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if isinstance(exc, _user_errors()):
            _say(f"kpi {args.command}: {exc}")
            return 1
        if isinstance(exc, OSError):  # a path the user gave is missing, not a folder, not writable, ...
            where = f"{exc.filename}: " if exc.filename else ""
            _say(
                f"kpi {args.command}: {where}{exc.strerror or exc}. Check the path (and its permissions), then run again."
            )
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
