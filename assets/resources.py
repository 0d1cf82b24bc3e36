"""The Dagster resources: the run's private DuckDB work file every asset writes through, and the run's
configuration, read and validated once."""

import datetime as dt
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from platform_kpi.config import Configuration, load_config
from platform_kpi.settings import DEFAULT_CONFIG, work_path_for
from platform_kpi.validation import prepare_in_background
from platform_kpi.warehouse import run_lock, write_connection

CONFIGURATION_DESCRIPTION = (
    "Every configuration file of the run (KPI rules and targets, catalog, benchmarks, costs, delivery, "
    "sources), validated once when the run starts; assets take it as `configuration`."
)


def configuration_resource(
    kpi_config: str | Path, sources: str | Path | None = None, *, loaded: Configuration | None = None
) -> dg.ResourceDefinition:
    """The run's Configuration: ``loaded`` as it is (the CLI validated it before the run), else read from
    ``kpi_config`` (and the files beside it) and ``sources`` once per run."""
    if loaded is not None:
        return dg.ResourceDefinition.hardcoded_resource(loaded, CONFIGURATION_DESCRIPTION)
    return dg.ResourceDefinition(
        resource_fn=lambda _context: load_config(kpi_config, sources=sources),
        description=CONFIGURATION_DESCRIPTION,
    )


class WarehouseResource(dg.ConfigurableResource):
    """Where a run reads its inputs and writes its tables.

    ``warehouse`` is the published file readers use; the run writes ``<name>.work.duckdb`` beside it
    and the publish asset swaps a finished copy over ``warehouse``. A run holds the warehouse's run
    lock from its start to its end, so a second run (another job, `kpi run`) waits for it.
    """

    warehouse: str
    files_dir: str | None = None
    config: str = str(DEFAULT_CONFIG)
    reports_dir: str = "data/reports"
    #: the run time recorded in ops.kpi_settings (ISO); None: now. Fixed by tests for reproducible builds.
    as_of: str | None = None
    #: publish even when an entity's file rows fell by more than row_drop_threshold (kpi run --allow-row-drop)
    allow_row_drop: bool = False
    #: rebuild incremental tables whole instead of only what changed since the last run (kpi run --full)
    full: bool = False

    @property
    def published_path(self) -> Path:
        return Path(self.warehouse)

    @property
    def work_path(self) -> Path:
        return work_path_for(Path(self.warehouse))

    @property
    def as_of_time(self) -> dt.datetime | None:
        return dt.datetime.fromisoformat(self.as_of) if self.as_of else None

    @property
    def config_path(self) -> Path:
        return Path(self.config)

    @property
    def files_path(self) -> Path | None:
        return Path(self.files_dir) if self.files_dir else None

    @contextmanager
    def yield_for_execution(
        self, context: dg.InitResourceContext
    ) -> Generator["WarehouseResource", None, None]:
        run = context.dagster_run
        owner = f"Dagster run {run.run_id} of {run.job_name}" if run else "Dagster"
        on_wait = context.log.info if context.log else None
        with run_lock(self.published_path, owner=owner, progress=on_wait):
            # Held open for the run: DuckDB keeps one database instance per file and process while any
            # connection to it is open, so every step's connect() reuses it (its catalog and cached
            # blocks) instead of loading the file again (0.2-0.3 s a step at 1,000 services).
            self.work_path.parent.mkdir(parents=True, exist_ok=True)
            keeper = duckdb.connect(str(self.work_path))
            try:
                yield self
            finally:
                keeper.close()

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with write_connection(self.work_path) as con:
            yield con


class GreatExpectationsResource(dg.ConfigurableResource):
    """Great Expectations for the domain checks. A run that has such a check starts getting it ready
    (import, context) when the run starts, in the background, so the first check does not wait seconds
    for it."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        prepare_in_background()
