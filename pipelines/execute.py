"""Running the pipeline in-process (the CLI, the demo, the tests): every asset of the refresh job,
with a line of progress per step, then optionally the monthly report."""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from assets.resources import WarehouseResource, configuration_resource
from assets.sources import SourcesResource
from pipelines.definitions import build_definitions
from platform_kpi.config import Configuration, load_config
from platform_kpi.settings import DEFAULT_CONFIG, load_settings
from platform_kpi.warehouse import run_lock

if TYPE_CHECKING:
    from dagster._utils.error import SerializableErrorInfo

Progress = Callable[[str], None]
_OWN_ERROR = re.compile(r"^(?:connectors|pipelines|assets|platform_kpi|kpi_cli)\.[\w.]+: ")


class PipelineFailed(RuntimeError):
    """A run failed; the message says which step and why, and what to do next."""


@dataclass
class RunSummary:
    warehouse: Path
    seconds: float
    steps: int
    checks_passed: int
    checks_failed: int
    failures: list[str] = field(default_factory=list)


def failure_text(error: SerializableErrorInfo) -> str:
    """What a step failure says to a user: every useful message of the exception chain, outermost
    first, joined on one line. The outer error usually names the file ("deployments.csv could not be
    read"), its cause says why; Dagster's own wrapper, class names and repeats are left out."""
    parts: list[str] = []
    seen: set[int] = set()
    current: SerializableErrorInfo | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = _own_message(current)
        if text and not any(text in kept for kept in parts):
            parts = [kept for kept in parts if kept not in text] + [text]
        current = current.cause or current.context
    return "; because: ".join(parts) or (error.message.strip().splitlines() or ["unknown error"])[0]


def _own_message(error: SerializableErrorInfo) -> str:
    """The error's message without its class name, on one line ('' for Dagster's step wrapper)."""
    if error.cls_name and error.cls_name.startswith("Dagster") and "while executing" in error.message:
        return ""
    lines = [line.strip() for line in error.message.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    first = (
        re.sub(rf"^[\w.]*{re.escape(error.cls_name or '')}: ", "", lines[0]) if error.cls_name else lines[0]
    )
    return first.strip()


class _StepHandler(logging.Handler):
    """Turns Dagster step events into one short progress line each."""

    def __init__(self, callback: Progress, total: int) -> None:
        super().__init__(logging.DEBUG)
        self.callback, self.total, self.done, self.started = callback, total, 0, {}
        self.checks_passed = self.checks_failed = 0
        self.failures: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            return
        kind, step = event.event_type_value, event.step_key or ""
        if kind == "STEP_START":
            self.started[step] = time.perf_counter()
        elif kind == "STEP_SUCCESS":
            self.done += 1
            took = time.perf_counter() - self.started.get(step, time.perf_counter())
            self.callback(f"[{self.done:>2}/{self.total}] {step} ({took:.2f}s)")
        elif kind in ("STEP_FAILURE", "RESOURCE_INIT_FAILURE"):
            # A resource that cannot start (the warehouse file cannot be opened or written) fails
            # before any step: without its own line the user was told only "see the Dagster logs".
            step = step or "run set-up"
            error = event.event_specific_data.error
            message = _OWN_ERROR.sub("", failure_text(error)) if error else "unknown error"
            # Our own errors are written for the user: their module path adds nothing.
            self.failures.append(f"{step}: {message}")
            self.callback(f"FAILED {step}: {message}")
        elif kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if data.passed:
                self.checks_passed += 1
            else:
                self.checks_failed += 1
                failures = data.metadata.get("failures")
                detail = failures.value if failures is not None else ""
                self.failures.append(f"check {data.check_name} on {'/'.join(data.asset_key.path)}: {detail}")
                self.callback(f"CHECK FAILED {data.check_name}: {detail}")


def run_pipeline(
    files_dir: Path | None,
    warehouse: Path,
    *,
    config: Path = DEFAULT_CONFIG,
    reports_dir: Path | None = None,
    progress: Progress | None = None,
    sources: Path | None = None,
    fetch_sources: bool = True,
    selection: dg.AssetSelection | None = None,
    checks: bool = True,
    as_of: dt.datetime | None = None,
    configuration: Configuration | None = None,
    allow_row_drop: bool = False,
    full: bool = False,
) -> RunSummary:
    """Load ``files_dir``, rebuild every table, run every check and publish ``warehouse``.

    This is the one way the product runs its asset graph in-process: the CLI, the demo, the tests
    and the benchmark all come through here, so the order of a run is the graph's and nobody else's.
    ``selection`` runs part of the refresh job (e.g. only the raw layer, or only the checks) with the
    checks of what it selects; ``checks=False`` leaves every check out (golden tests that pin numbers, not data quality), ``as_of`` fixes the run time
    recorded in the warehouse (reproducible builds). ``configuration`` is the run's configuration when
    the caller has loaded it already; else it is read from ``config`` (and the files beside it) and
    ``sources``, before anything runs: a wrong file raises ConfigError and nothing runs.

    Raises PipelineFailed (naming the step and the cause) when anything fails; the previously
    published warehouse is then left untouched. ``allow_row_drop`` publishes even when an entity's
    file rows fell by more than the config's row_drop_threshold since the last publish. ``full``
    rebuilds every table whole, incremental ones included (see platform_kpi/incremental.py).
    """
    progress = progress or (lambda _msg: None)
    if configuration is None:
        configuration = load_config(config, sources=sources)
    resource = WarehouseResource(
        warehouse=str(warehouse),
        files_dir=str(files_dir) if files_dir else None,
        config=str(configuration.kpi_path),
        reports_dir=str(reports_dir or warehouse.parent / "reports"),
        as_of=as_of.isoformat() if as_of else None,
        allow_row_drop=allow_row_drop,
        full=full,
    )

    defs = build_definitions(
        resource,
        SourcesResource(config=str(sources) if sources else None, fetch=fetch_sources),
        configuration_resource(configuration.kpi_path, sources, loaded=configuration),
    )
    job = defs.resolve_job_def("refresh_job")
    if selection is not None or not checks:
        graph = defs.resolve_asset_graph()
        wanted = selection or dg.AssetSelection.all()
        # A multi-asset that cannot be subset (e.g. raw_costs writes raw and ops tables) runs whole. The
        # checks come from the selection itself: required_multi_asset_neighbors() keeps assets only, and
        # an empty subset would be read by Dagster as the whole job.
        keys = wanted.required_multi_asset_neighbors().resolve(graph) & set(
            job.asset_layer.executable_asset_keys
        )
        check_keys = wanted.resolve_checks(graph) if checks else set()
        if not keys and not check_keys:
            raise ValueError("The selection matches no asset or check of the refresh job; nothing to run.")
        job = job.get_subset(asset_selection=keys, asset_check_selection=check_keys)
    total = len(job.graph.node_dict)
    handler = _StepHandler(progress, total)

    @dg.logger
    def progress_logger(_init_context):
        logger = logging.Logger("kpi.progress", logging.DEBUG)
        logger.addHandler(handler)
        return logger

    started = time.perf_counter()
    job = job.with_logger_defs({"progress": progress_logger})
    # Held here too (the job's resource re-enters it), so waiting for another run is reported before
    # the job starts.
    # The instance is disposed on the way out: its in-memory SQLite storage holds connections that,
    # left to the garbage collector, are closed from whatever thread collects them, which fails and logs
    # a traceback there (inside a Streamlit script thread this broke compiling the next page).
    with run_lock(warehouse, progress=progress), dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"progress": {}}},
        )
    summary = RunSummary(
        warehouse=warehouse,
        seconds=round(time.perf_counter() - started, 2),
        steps=handler.done,
        checks_passed=handler.checks_passed,
        checks_failed=handler.checks_failed,
        failures=handler.failures,
    )
    if not result.success:
        detail = "\n  ".join(handler.failures) or "see the Dagster logs"
        advice = "Fix the input or config named above and run again (re-running is safe)."
        if "Out of Memory Error" in detail:
            # Not the input's fault: the data outgrew the cap every writing connection runs under.
            cap = load_settings().duckdb_memory_limit or "DuckDB's default, 80% of RAM"
            advice = (
                f"DuckDB ran out of the memory this run may use (KPI_DUCKDB_MEMORY_LIMIT: {cap}). "
                "Set KPI_DUCKDB_MEMORY_LIMIT higher, e.g. 2GB, and run again (re-running is safe)."
            )
        elif "No space left on device" in detail:
            # Not the input's fault either: the work file, its write-ahead log, DuckDB's spill files
            # and the published copy all live beside the warehouse (run_lock made its folder).
            free = shutil.disk_usage(warehouse.parent).free
            advice = (
                f"A disk ran out of space while the run wrote the file named above ({free / 1e6:,.0f} MB "
                f"are free now where {warehouse.name} lives). A run needs room for at least twice the "
                "warehouse's size. Free space there, or put the warehouse on a disk with room "
                "(--warehouse or KPI_WAREHOUSE), and run again (re-running is safe)."
            )
        raise PipelineFailed(f"The pipeline run failed; {warehouse} was not updated.\n  {detail}\n{advice}")
    return summary


def write_monthly_report(warehouse: Path, month: dt.date, reports_dir: Path) -> dict[str, Path]:
    from platform_kpi.reporting.report import write_report

    return write_report(warehouse, month, reports_dir)
