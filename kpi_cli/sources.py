"""`kpi sync` and `kpi demo --via-api`: sync the API sources named in sources.yaml, then rebuild and publish.

The sync writes the run's work warehouse (raw tables + ops.sync_state) with a line of progress per
stream, then the usual pipeline run rebuilds staging, domain and KPI tables from what is stored
(without fetching again) and publishes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from platform_kpi.settings import load_settings, work_path_for

if TYPE_CHECKING:
    from platform_kpi.config import Configuration
    from platform_kpi.sources_config import SourcesConfig

Say = Callable[[str], None]


def sync_sources(
    sources: Path | SourcesConfig,
    warehouse: Path,
    *,
    only: set[str] | None = None,
    env: Mapping[str, str] | None = None,
    progress: Say = print,
) -> dict:
    """Sync every configured source (or ``only`` these) into ``warehouse``'s work file; ``sources`` is
    the validated sources.yaml, or its path."""
    from platform_kpi.sources_config import SourcesConfig, load_sources_config
    from platform_kpi.sync import sync_source, write_source_config
    from platform_kpi.warehouse import run_lock, write_connection

    config = sources if isinstance(sources, SourcesConfig) else load_sources_config(sources)
    unknown = (only or set()) - set(config.sources)
    if unknown:
        raise ValueError(
            f"{config.path}: {', '.join(sorted(unknown))} not configured (configured: {', '.join(config.sources)})"
        )
    results = {}
    with run_lock(warehouse, progress=progress), write_connection(work_path_for(warehouse)) as con:
        write_source_config(con, config)
        for name in config.sources:
            if only and name not in only:
                continue
            results[name] = sync_source(con, config, name, env=env, progress=progress)
        # GitHub's Dependabot/code-scanning alerts and attestations, when github.security_alerts is true
        if "github" in results:
            from platform_kpi.security import sync_github_security

            for error in sync_github_security(con, config, env=env, progress=progress).get("errors", []):
                progress(f"github security: FAILED, previous data kept: {error}")
    return results


def _summary(results: dict, say: Say) -> bool:
    """Requests, records written and wall seconds per source and per stream (also kept per stream in
    ops.sync_state: requests, rows_written, seconds)."""
    ok = True
    say("")
    say(f"{'source / stream':<44} {'requests':>9} {'written':>8} {'seconds':>8}  status")
    for name, r in results.items():
        say(
            f"{name:<44} {r.requests:>9} {r.written:>8} {r.seconds:>8.1f}  {'FAILED: ' + r.error if r.error else 'ok'}"
        )
        for s in r.streams:
            label = f"  {s.stream}"
            say(
                f"{label:<44} {s.requests:>9} {s.written:>8} {s.seconds:>8.1f}  {'FAILED' if s.error else 'ok'}"
            )
        ok = ok and not r.error
    return ok


def cmd_sync(args: argparse.Namespace, say: Say = print) -> int:
    from platform_kpi.config import load_config
    from platform_kpi.warehouse import run_lock

    settings = load_settings()
    sources = Path(args.sources) if args.sources else settings.sources
    if sources is None:
        say(
            "kpi sync: no sources file. Pass --sources sources.yaml (or set KPI_SOURCES); see config/sources.example.yaml."
        )
        return 2
    warehouse = Path(args.warehouse) if args.warehouse else settings.warehouse
    only = {s.strip() for s in args.only.split(",")} if args.only else None
    # every file is validated before anything is fetched, and the run below uses the same objects
    configuration = load_config(Path(args.config) if args.config else settings.config, sources=sources)
    say(f"Syncing the sources in {sources} into {warehouse} ...")
    with run_lock(warehouse, progress=say):  # no other run between the sync and the rebuild
        return _sync_and_run(args, settings, configuration, sources, warehouse, only, say)


def _sync_and_run(
    args,
    settings,
    configuration: Configuration,
    sources: Path,
    warehouse: Path,
    only: set[str] | None,
    say: Say,
) -> int:
    from pipelines.execute import run_pipeline

    results = sync_sources(configuration.sources, warehouse, only=only, progress=say)
    ok = _summary(results, say)
    if not args.no_run:
        files_dir = Path(args.files) if args.files else settings.files_dir
        summary = run_pipeline(
            files_dir,
            warehouse,
            reports_dir=settings.reports_dir,
            progress=say,
            sources=sources,
            fetch_sources=False,
            configuration=configuration,
        )
        say(f"Rebuilt and published {warehouse} in {summary.seconds:.1f}s ({summary.steps} steps).")
    if not ok:
        say(
            "Some sources failed: their previous data was kept (see ops.sync_state.last_error); re-run to retry."
        )
    return 0 if ok else 1


def add_sync_parser(sub) -> None:
    p = sub.add_parser(
        "sync", help="fetch what changed in the API sources of sources.yaml, then rebuild and publish"
    )
    p.add_argument("--sources", help="the sources file (default $KPI_SOURCES)")
    p.add_argument(
        "--warehouse", help="DuckDB file to publish (default $KPI_WAREHOUSE or data/warehouse.duckdb)"
    )
    p.add_argument("--files", help="a folder of canonical files to load as well (default $KPI_FILES_DIR)")
    p.add_argument("--config", help="KPI rules and targets YAML (default config/kpi.yaml)")
    p.add_argument("--only", help="comma-separated sources to sync (default: all configured)")
    p.add_argument(
        "--no-run", action="store_true", help="only fetch into the raw tables; do not rebuild or publish"
    )
    p.set_defaults(func=lambda args: cmd_sync(args))


def run_demo_via_api(files_dir: Path, warehouse: Path, *, reports_dir: Path, progress: Say = print):
    """Serve the demo organisation from the local API simulator and read it through the real connectors."""
    from pipelines.execute import run_pipeline
    from platform_kpi.config import load_config
    from platform_kpi.simulator.demo import TOKEN_ENVS, build_sim_data, write_demo_sources_yaml
    from platform_kpi.simulator.server import Simulator
    from platform_kpi.warehouse import run_lock

    progress("Serving the demo organisation from the local API simulator (GitHub, PagerDuty) ...")
    data = build_sim_data(files_dir)
    with run_lock(warehouse, progress=progress):  # no other run between the sync and the rebuild
        with Simulator(data) as sim:
            sources = write_demo_sources_yaml(
                warehouse.parent / "sources.yaml", files_dir, {v: sim.url(v) for v in ("github", "pagerduty")}
            )
            env = {TOKEN_ENVS[v]: sim.tokens[v] for v in TOKEN_ENVS}
            configuration = load_config(load_settings().config, sources=sources)
            results = sync_sources(configuration.sources, warehouse, env=env, progress=progress)
        _summary(results, progress)
        return run_pipeline(
            None,
            warehouse,
            reports_dir=reports_dir,
            progress=progress,
            sources=sources,
            fetch_sources=False,
            configuration=configuration,
        )
