"""Raw cost and utilization data: FOCUS exports, AWS Cost Explorer, OpenCost and Prometheus.

``load_cost_sources`` (plain Python, used by the asset, the tests and the benchmark) writes the cost
config tables and replaces each raw cost table with what its source holds now, so a re-run never
duplicates: FOCUS files under the configured paths and ``<files>/focus``; Cost Explorer when enabled;
OpenCost and Prometheus when their URL is set, else saved responses under ``<files>/opencost`` and
``<files>/prometheus`` (``<series>*.json``) when present. A source that is not configured leaves its
table empty. A FOCUS file that cannot be used stops the load (the user's input to fix); an API source
that fails keeps its last good rows and reports the error, so an outage does not stop the other KPIs.
"""

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pandas as pd

from connectors import aws_cost_explorer, focus, opencost, prometheus
from platform_kpi.cost_config import (
    COST_RAW_TABLES,
    CostConfig,
    cost_config_path_for,
    default_window,
    load_cost_config,
    write_cost_config_tables,
)
from platform_kpi.raw_tables import ensure_raw_tables, raw_table, replace_raw

API_ERRORS = (
    aws_cost_explorer.CostExplorerError,
    opencost.OpenCostError,
    prometheus.PrometheusError,
    httpx.HTTPError,
)
COST_CONFIG_TABLES = ("cost_settings", "cost_rules", "cost_tag_keys", "fx_rates", "namespace_services")


def _insert_records(con: duckdb.DuckDBPyConnection, table: str, records: Iterable[dict[str, Any]]) -> int:
    columns = raw_table(table).column_names
    frame = pd.DataFrame(list(records), columns=list(columns))
    if len(frame):
        for col in columns:
            if col not in ("_line", "_page"):
                frame[col] = frame[col].astype("string")
    return replace_raw(con, table, frame)


def load_focus(con: duckdb.DuckDBPyConnection, cfg: CostConfig, files_dir: Path | None) -> dict[str, Any]:
    load = focus.read_focus(con, cfg.focus_paths(files_dir))
    replace_raw(con, "focus__costs", load.rows)
    n = _insert_records(
        con,
        "focus__load_errors",
        [dict(zip(focus.LOAD_ERROR_COLUMNS, e, strict=True)) for e in load.load_errors],
    )
    rows = con.execute("select count(*) from raw.focus__costs").fetchone()[0]
    return {"rows": int(rows), "files": len(load.files), "load_errors": n, "versions": load.versions}


def load_aws_cost_explorer(
    con: duckdb.DuckDBPyConnection, cfg: CostConfig, today: dt.date | None
) -> dict[str, Any]:
    spec = cfg.sources.aws_cost_explorer
    if not spec.enabled:
        return {"rows": _insert_records(con, "aws_ce__costs", []), "enabled": False}
    start, end = default_window(today)
    start, end = spec.start or start, spec.end or end
    records = aws_cost_explorer.fetch_costs(
        start=start,
        end=end,
        tag_key=spec.group_by_tag,
        metric=spec.metric,
        region=spec.region,
        endpoint_url=spec.endpoint_url or None,
    )
    return {
        "rows": _insert_records(con, "aws_ce__costs", records),
        "enabled": True,
        "start": str(start),
        "end": str(end),
    }


def load_opencost(con: duckdb.DuckDBPyConnection, cfg: CostConfig, files_dir: Path | None) -> dict[str, Any]:
    spec = cfg.sources.opencost
    if spec.url:
        doc = opencost.fetch_allocation(
            spec.url, window=spec.window, step=spec.step, aggregate=spec.aggregate
        )
        records: Iterable[dict[str, Any]] = opencost.allocation_records(doc, "GET /allocation")
    elif files_dir is not None and (files_dir / "opencost").is_dir():
        records = opencost.read_saved(files_dir / "opencost")
    else:
        records = []
    return {"rows": _insert_records(con, "opencost__allocations", records)}


def _saved_prometheus(folder: Path, cluster: str, step_sec: int) -> Iterable[dict[str, Any]]:
    for path in sorted(folder.glob("*.json")):
        series = next((s for s in prometheus.SERIES if path.name.startswith(s)), None)
        if series is None:
            raise prometheus.PrometheusError(
                f"{prometheus.SOURCE}: {path.name}: name a saved response after its series "
                f"({', '.join(prometheus.SERIES)})"
            )
        yield from prometheus.sample_records(
            json.loads(path.read_text()), series, path.name, step_sec, cluster=cluster
        )


def load_prometheus(
    con: duckdb.DuckDBPyConnection, cfg: CostConfig, files_dir: Path | None, today: dt.date | None
) -> dict[str, Any]:
    spec = cfg.sources.prometheus
    cluster = spec.cluster
    step_sec = prometheus.step_seconds(spec.step)
    if spec.url:
        end = today or dt.datetime.now(dt.UTC).date()
        records: Iterable[dict[str, Any]] = prometheus.fetch_utilization(
            spec.url,
            dict(spec.queries),
            start=end - dt.timedelta(days=spec.days),
            end=end,
            step=spec.step,
            cluster=cluster,
        )
    elif files_dir is not None and (files_dir / "prometheus").is_dir():
        records = _saved_prometheus(files_dir / "prometheus", cluster, step_sec)
    else:
        records = []
    return {"rows": _insert_records(con, "prometheus__samples", records)}


def load_cost_sources(
    con: duckdb.DuckDBPyConnection,
    cfg: CostConfig | Path | None,
    files_dir: Path | None,
    *,
    today: dt.date | None = None,
) -> dict[str, dict[str, Any]]:
    """Write the cost config tables and replace every raw cost table from its source.

    ``cfg`` is the run's cost configuration, or the KPI config path whose costs.yaml to read."""
    if not isinstance(cfg, CostConfig):
        cfg = load_cost_config(cost_config_path_for(cfg))
    for schema in ("raw", "ops"):
        con.execute(f"create schema if not exists {schema}")
    write_cost_config_tables(con, cfg)
    ensure_raw_tables(con, COST_RAW_TABLES)
    results = {"focus__costs": load_focus(con, cfg, files_dir)}  # bad files are the user's to fix: raise
    api_loads = {
        "aws_ce__costs": lambda: load_aws_cost_explorer(con, cfg, today),
        "opencost__allocations": lambda: load_opencost(con, cfg, files_dir),
        "prometheus__samples": lambda: load_prometheus(con, cfg, files_dir, today),
    }
    for table, load in api_loads.items():
        try:
            results[table] = load()
        except API_ERRORS as exc:
            # An API that is down must not stop the DORA KPIs: keep the last good rows and say so.
            kept = con.execute(f"select count(*) from raw.{table}").fetchall()[0][0]
            results[table] = {
                "rows": int(kept),
                "error": f"{exc} (kept the {kept:,} rows of the last good load)",
            }
    return results
