"""SLOs into raw tables: the spec files, daily result files, and the hourly events Prometheus gives.

- Spec files (OpenSLO v1, Sloth prometheus/v1; connectors.slo_specs) under config ``slos.paths``
  (relative to kpi.yaml) and ``<files>/slos`` -> ``raw.slo__definitions``; a file, document or SLO that
  cannot be used -> ``raw.slo__load_errors`` (file, position, reason; shown in ops.quarantine), the
  others are kept.
- ``<files>/slos/results.csv`` (slo_id, day, good_events or bad_events, total_events, hours_with_data)
  -> ``raw.slo__results``: daily results evaluated elsewhere (the demo writes one).
- With ``slos.prometheus.url``: each SLO's good (or bad) and total queries at step 1h, incrementally:
  from ``lookback_days`` before the SLO's last evaluated day (the first time ``history_days`` back) to
  the end of yesterday (UTC). The samples of the days re-evaluated are replaced, so a re-run never
  double counts; the days asked for go to ``raw.prometheus__slo_evaluations`` whether or not Prometheus
  had samples, so a gap shows as hours without data. An SLO Prometheus refuses keeps its previous rows
  and the error is reported; the other SLOs are still evaluated.
- ``ops.slo_settings`` (min_coverage) and ``ops.slo_platform`` (which SLOs are platform SLOs, and the
  config entry that made them so).

Pure Python (no Dagster).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pandas as pd

from connectors import prometheus, slo_specs
from connectors.http import ApiClient
from platform_kpi.config import SloPrometheus, SloSettings
from platform_kpi.raw_tables import ensure_raw_tables, raw_table, replace_raw

SLO_RAW_TABLES = (
    "slo__definitions",
    "slo__load_errors",
    "slo__results",
    "prometheus__slo_samples",
    "prometheus__slo_evaluations",
)
SLO_CONFIG_TABLES = ("slo_settings", "slo_platform")
RESULTS_FILE = "results.csv"
RESULT_COLUMNS = ("slo_id", "day", "good_events", "bad_events", "total_events", "hours_with_data")


def _frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = list(raw_table(table).column_names)
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype(object).where(frame.notna(), None) if len(frame) else frame


def spec_paths(settings: SloSettings, kpi_path: Path | None, files_dir: Path | None) -> list[Path]:
    base = Path(kpi_path).parent if kpi_path else Path.cwd()
    paths = [(base / p).resolve() for p in settings.paths]
    if files_dir is not None and (files_dir / "slos").is_dir():
        paths.append(files_dir / "slos")
    return paths


def platform_matches(specs: list[slo_specs.SloSpec], selectors: tuple[str, ...]) -> list[dict[str, str]]:
    """(slo_id, matched_by) for each SLO a ``slos.platform`` entry selects: its name or id, its
    service, or a label selector ``key=value`` (the first matching entry is recorded)."""
    rows = []
    for spec in specs:
        for entry in selectors:
            if "=" in entry:
                key, _, value = entry.partition("=")
                hit = spec.labels.get(key.strip()) == value.strip()
            else:
                hit = entry in (spec.name, spec.slo_id, spec.service)
            if hit:
                rows.append({"slo_id": spec.slo_id, "matched_by": entry})
                break
    return rows


def _read_results(path: Path) -> tuple[list[dict[str, Any]], list[slo_specs.SpecError]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in ("slo_id", "day", "total_events", "hours_with_data") if c not in header]
        if not {"good_events", "bad_events"} & set(header):
            missing.append("good_events or bad_events")
        if missing:
            return [], [
                slo_specs.SpecError(path.name, "line 1", None, f"missing column(s): {', '.join(missing)}")
            ]
        rows = []
        for line, row in enumerate(reader, start=2):
            row = {k.strip(): v for k, v in row.items() if k is not None}
            rows.append(
                {**{c: row.get(c) or None for c in RESULT_COLUMNS}, "_file": path.name, "_line": line}
            )
    return rows, []


def write_slo_config(
    con: duckdb.DuckDBPyConnection, settings: SloSettings, platform: list[dict[str, str]]
) -> None:
    con.execute("create schema if not exists ops")
    con.execute(
        "create or replace table ops.slo_settings as select ?::double as min_coverage",
        [settings.min_coverage],
    )
    frame = pd.DataFrame(platform, columns=["slo_id", "matched_by"])
    con.register("slo_platform_frame", frame)
    con.execute(
        "create or replace table ops.slo_platform as "
        "select slo_id::varchar as slo_id, matched_by::varchar as matched_by from slo_platform_frame"
    )
    con.unregister("slo_platform_frame")


def load_slos(
    con: duckdb.DuckDBPyConnection,
    settings: SloSettings,
    *,
    kpi_path: Path | None,
    files_dir: Path | None,
    today: dt.date | None = None,
    client: ApiClient | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Load the specs and result files, then evaluate against Prometheus when configured; returns
    counts and the evaluation errors (an SLO Prometheus refused keeps its previous rows)."""
    ensure_raw_tables(con, SLO_RAW_TABLES)
    specs, errors = slo_specs.read_specs(spec_paths(settings, kpi_path, files_dir))
    results: list[dict[str, Any]] = []
    results_path = files_dir / "slos" / RESULTS_FILE if files_dir is not None else None
    if results_path is not None and results_path.is_file():
        results, result_errors = _read_results(results_path)
        errors += result_errors
    replace_raw(con, "slo__definitions", _frame("slo__definitions", [s.record() for s in specs]))
    replace_raw(con, "slo__load_errors", _frame("slo__load_errors", [e.record() for e in errors]))
    replace_raw(con, "slo__results", _frame("slo__results", results))
    write_slo_config(con, settings, platform_matches(specs, settings.platform))
    out: dict[str, Any] = {"slos": len(specs), "load_errors": len(errors), "result_rows": len(results)}
    if settings.prometheus.url:
        out.update(
            evaluate(
                con, specs, settings.prometheus, today or dt.datetime.now(dt.UTC).date(), client, progress
            )
        )
    return out


def _queries(spec: slo_specs.SloSpec) -> dict[str, str]:
    numerator = ("good", spec.good_query) if spec.good_query else ("bad", spec.bad_query or "")
    return {
        numerator[0]: slo_specs.hourly_query(numerator[1], spec.query_mode),
        "total": slo_specs.hourly_query(spec.total_query, spec.query_mode),
    }


def evaluate(
    con: duckdb.DuckDBPyConnection,
    specs: list[slo_specs.SloSpec],
    prom: SloPrometheus,
    today: dt.date,
    client: ApiClient | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Evaluate each SLO for the days from its incremental start to yesterday (UTC)."""
    own = client is None
    client = client or prometheus.client_for(prom.url or "")
    errors: list[str] = []
    samples = days = 0
    try:
        for spec in specs:
            last = con.execute(
                "select max(day) from raw.prometheus__slo_evaluations where slo_id = ?", [spec.slo_id]
            ).fetchone()[0]
            earliest = today - dt.timedelta(days=prom.history_days)
            start = (
                earliest if last is None else max(earliest, last + dt.timedelta(days=1 - prom.lookback_days))
            )
            if start >= today:
                continue
            try:
                records = list(
                    prometheus.fetch_slo_events(
                        prom.url or "", spec.slo_id, _queries(spec), start=start, end=today, client=client
                    )
                )
            except (prometheus.PrometheusError, httpx.HTTPError) as exc:
                errors.append(f"{spec.slo_id}: {exc} (kept its previous results)")
                continue
            evaluated = [start + dt.timedelta(days=i) for i in range((today - start).days)]
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
            first_ts = int(dt.datetime.combine(start, dt.time(), dt.UTC).timestamp()) + prometheus.HOUR
            last_ts = int(dt.datetime.combine(today, dt.time(), dt.UTC).timestamp())
            con.execute("begin transaction")
            try:
                replace_raw_rows(
                    con,
                    "prometheus__slo_samples",
                    records,
                    "slo_id = ? and try_cast(ts as double) between ? and ?",
                    [spec.slo_id, first_ts, last_ts],
                )
                replace_raw_rows(
                    con,
                    "prometheus__slo_evaluations",
                    [{"slo_id": spec.slo_id, "day": d, "evaluated_at": now} for d in evaluated],
                    "slo_id = ? and day >= ? and day < ?",
                    [spec.slo_id, start, today],
                )
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
            samples += len(records)
            days += len(evaluated)
            if progress:
                progress(
                    f"slos: {spec.slo_id}: {start} to {today - dt.timedelta(days=1)}, {len(records)} samples"
                )
    finally:
        if own:
            client.close()
    return {"evaluated_days": days, "samples": samples, "errors": errors}


def replace_raw_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]], where: str, params: list
) -> None:
    """Delete the rows ``where`` selects and insert ``rows``, in the caller's transaction."""
    frame = _frame(table, rows)
    spec = raw_table(table)
    con.execute(f"delete from {spec.table} where {where}", params)
    if len(frame):
        con.register("slo_rows_frame", frame)
        cols = ", ".join(f"cast({c.name} as {c.data_type}) as {c.name}" for c in spec.columns)
        con.execute(f"insert into {spec.table} select {cols} from slo_rows_frame")
        con.unregister("slo_rows_frame")


def ensure_slo_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The SLO raw and ops tables (empty) when missing, so every build can run the SLO models."""
    ensure_raw_tables(con, SLO_RAW_TABLES)
    con.execute("create schema if not exists ops")
    con.execute("create table if not exists ops.slo_settings as select 0.9::double as min_coverage")
    con.execute("create table if not exists ops.slo_platform (slo_id varchar, matched_by varchar)")
