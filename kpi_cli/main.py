"""The `kpi` command line: demo, run, sql, report, dashboard."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

from platform_kpi.settings import load_settings


def _say(msg: str) -> None:
    print(msg, flush=True)


def _cmd_run(args: argparse.Namespace) -> int:
    from platform_kpi.config import load_config

    settings = load_settings()
    files_dir = Path(args.files) if args.files else settings.files_dir
    if files_dir is None:
        _say("kpi run: no input folder. Pass --files DIR (or set KPI_FILES_DIR); see README 'Your own data'.")
        return 2
    warehouse = Path(args.warehouse) if args.warehouse else settings.warehouse
    configuration = load_config(Path(args.config) if args.config else settings.config)  # a wrong file stops here
    from pipelines.execute import run_pipeline

    _say(f"Loading {files_dir} into {warehouse} ...")
    summary = run_pipeline(
        files_dir, warehouse, reports_dir=settings.reports_dir, progress=_say, configuration=configuration
    )
    _say(
        f"Done in {summary.seconds:.1f}s: {summary.steps} steps, {summary.checks_passed} checks passed. "
        f"Warehouse: {warehouse.resolve()}"
    )
    _print_quarantine(warehouse)
    return 0


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
    from platform_kpi.demo.org import generate_demo_costs, generate_demo_org
    from platform_kpi.reporting.report import last_full_month

    home = Path(args.dir)
    files_dir, warehouse, reports = home / "files", home / "warehouse.duckdb", home / "reports"
    today = dt.date.fromisoformat(args.today) if args.today else dt.datetime.now(dt.UTC).date()
    _say(f"Generating the demo organisation ({args.services} services, seed {args.seed}) in {files_dir} ...")
    started = time.perf_counter()
    counts = generate_demo_org(files_dir, services=args.services, seed=args.seed, today=today, progress=_say)
    counts.update(generate_demo_costs(files_dir, seed=args.seed, today=today))  # FOCUS exports, OpenCost
    _say(
        "  "
        + ", ".join(f"{k}: {v:,}" for k, v in counts.items())
        + f" ({time.perf_counter() - started:.1f}s)"
    )
    if args.via_api:  # the same organisation, read through the real API connectors
        from kpi_cli.sources import run_demo_via_api

        summary = run_demo_via_api(files_dir, warehouse, reports_dir=reports, progress=_say)
    else:
        summary = run_pipeline(
            files_dir, warehouse, config=load_settings().config, reports_dir=reports, progress=_say
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
    import duckdb

    from platform_kpi.warehouse import read_connection

    warehouse = Path(args.warehouse) if args.warehouse else load_settings().warehouse
    query = args.query if args.query != "-" else sys.stdin.read()
    with read_connection(warehouse) as con:
        try:
            frame = con.execute(query).df()
        except duckdb.Error as exc:
            _say(f"kpi sql: {exc}".splitlines()[0])
            if "read-only" in str(exc).lower():
                _say("The warehouse is opened read-only; change data through the pipeline (kpi run).")
            return 1
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif args.format == "json":
        sys.stdout.write(frame.to_json(orient="records", date_format="iso") + "\n")
    else:
        import pandas as pd

        with pd.option_context(
            "display.max_rows", args.max_rows, "display.max_columns", None, "display.width", 200
        ):
            _say(frame.to_string(index=False) if len(frame) else "(no rows)")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from pipelines.execute import write_monthly_report
    from platform_kpi.config import delivery_config_for
    from platform_kpi.reporting.report import deliver_report, last_full_month, parse_month

    settings = load_settings()
    warehouse = Path(args.warehouse) if args.warehouse else settings.warehouse
    month = parse_month(args.month) if args.month else last_full_month()
    out = Path(args.out) if args.out else settings.reports_dir
    delivery = None if args.no_deliver else delivery_config_for(settings.config, args.delivery)
    paths = write_monthly_report(warehouse, month, out)
    for name, path in paths.items():
        if not name.startswith("charts/"):
            _say(f"{name}: {path.resolve()}")
    failed = 0
    if delivery is not None and delivery.enabled:
        for result in deliver_report(paths["report.pdf"].parent, month, delivery):
            _say(f"delivered to {result.target}: {result.detail}" if result.ok
                 else f"NOT delivered to {result.target}: {result.detail} (the report is kept on disk)")
            failed += not result.ok
    return 3 if failed else 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    warehouse = Path(args.warehouse) if args.warehouse else load_settings().warehouse
    env = {**os.environ, "KPI_WAREHOUSE": str(warehouse.resolve())}
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(resources.files("dashboards") / "app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(args.port),
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
        "--theme.primaryColor",
        "#4f46e5",
    ]
    _say(f"Dashboard on http://localhost:{args.port} (warehouse {warehouse}); Ctrl-C to stop.")
    return subprocess.call(cmd, env=env)


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
        "--dir", default="data/demo", help="where files, warehouse and reports go (default data/demo)"
    )
    demo.add_argument("--services", type=int, default=40, help="number of services (default 40)")
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
    run.set_defaults(func=_cmd_run)

    from kpi_cli.sources import add_sync_parser

    add_sync_parser(sub)  # kpi sync

    sql = sub.add_parser("sql", help="run a read-only SQL query on the published warehouse")
    sql.add_argument("query", help="the SQL (or - to read it from standard input)")
    sql.add_argument("--warehouse", help="DuckDB file (default $KPI_WAREHOUSE or data/warehouse.duckdb)")
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument("--max-rows", type=int, default=200)
    sql.set_defaults(func=_cmd_sql)

    report = sub.add_parser("report", help="write the monthly report (PDF, HTML, Markdown) for a month and deliver it")
    report.add_argument("--month", help="YYYY-MM (default: the last full month)")
    report.add_argument("--warehouse", help="DuckDB file (default $KPI_WAREHOUSE or data/warehouse.duckdb)")
    report.add_argument("--out", help="reports folder (default $KPI_REPORTS_DIR or data/reports)")
    report.add_argument(
        "--delivery", help="delivery config YAML (default: delivery.yaml beside the KPI config, else config/delivery.yaml)"
    )
    report.add_argument("--no-deliver", action="store_true", help="write the report only; do not post or copy it")
    report.set_defaults(func=_cmd_report)

    dash = sub.add_parser("dashboard", help="start the leadership dashboard (Streamlit)")
    dash.add_argument("--warehouse", help="DuckDB file (default $KPI_WAREHOUSE or data/warehouse.duckdb)")
    dash.add_argument("--port", type=int, default=8501)
    dash.set_defaults(func=_cmd_dashboard)
    docs = sub.add_parser("docs", help="write docs/tables.md (every table and column) from a warehouse")
    docs.add_argument("--warehouse", help="DuckDB file (default $KPI_WAREHOUSE or data/warehouse.duckdb)")
    docs.add_argument("--out", default="docs/tables.md", help="output file (default docs/tables.md)")
    docs.set_defaults(func=_cmd_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from connectors.files import SourceFileError
    from connectors.http import SourceError
    from pipelines.execute import PipelineFailed
    from platform_kpi.config import ConfigError
    from platform_kpi.warehouse import WarehouseBusy, WarehouseNotFound

    try:
        return args.func(args)
    except (
        PipelineFailed, SourceFileError, SourceError, ConfigError, WarehouseNotFound, WarehouseBusy, ValueError
    ) as exc:
        _say(f"kpi {args.command}: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
