"""The Dagster resource every asset writes through: the run's private DuckDB work file."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.settings import DEFAULT_CONFIG, work_path_for
from pipelines.warehouse import write_connection


class WarehouseResource(dg.ConfigurableResource):
    """Where a run reads its inputs and writes its tables.

    ``warehouse`` is the published file readers use; the run writes ``<name>.work.duckdb`` beside it
    and the publish asset swaps a finished copy over ``warehouse``.
    """

    warehouse: str
    files_dir: str | None = None
    config: str = str(DEFAULT_CONFIG)
    reports_dir: str = "data/reports"
    #: publish even when an entity's file rows fell by more than row_drop_threshold (kpi run --allow-row-drop)
    allow_row_drop: bool = False

    @property
    def published_path(self) -> Path:
        return Path(self.warehouse)

    @property
    def work_path(self) -> Path:
        return work_path_for(Path(self.warehouse))

    @property
    def config_path(self) -> Path:
        return Path(self.config)

    @property
    def files_path(self) -> Path | None:
        return Path(self.files_dir) if self.files_dir else None

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with write_connection(self.work_path) as con:
            yield con
