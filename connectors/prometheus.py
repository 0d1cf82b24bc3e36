"""Prometheus range queries for cluster CPU and memory usage against requests.

``GET {url}/api/v1/query_range?query&start&end&step`` answers
``{"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {...}, "values":
[[unix_ts, "value"], ...]}]}}``; errors are ``{"status": "error", "errorType", "error"}`` (400 for a
bad query, and for more than 11,000 points per series, so long ranges are asked for in chunks).
``sample_records`` flattens one response into text records for ``raw.prometheus__samples``. Each
query's range runs from the first day's midnight to one step before the last day's end, so every
sample stands for exactly one step of one day. Requests go through the shared
:class:`connectors.http.ApiClient` (retries, rate limits, bounded waiting). No Dagster imports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from connectors.http import ApiClient, HttpPolicy, SourceError

SOURCE = "prometheus"
SERIES = ("cpu_usage", "cpu_request", "memory_usage", "memory_request")
MAX_POINTS = 10_000  # Prometheus refuses more than 11,000 points per series
# Patient enough for a busy Prometheus, short enough that an outage does not hold up the run.
POLICY = HttpPolicy(timeout=60.0, backoff_base=0.5, backoff_cap=30.0, max_attempts=4, give_up_after=300.0)
# Answers that are Prometheus's own error documents ({"status": "error", ...}): read, never retried.
CLIENT_ERRORS = frozenset(range(400, 500)) - {408, 429}


class PrometheusError(RuntimeError):
    """Prometheus answered with an error or a body that is not a query_range matrix."""


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def step_seconds(step: str | int | float) -> int:
    """``"1h"`` -> 3600; a bare number is seconds."""
    if isinstance(step, int | float):
        return int(step)
    text = str(step).strip()
    if text[-1:] in _UNITS and text[:-1].isdigit():
        return int(text[:-1]) * _UNITS[text[-1]]
    if text.isdigit():
        return int(text)
    raise ValueError(f"{SOURCE}: step {step!r} is not a duration like 60s, 5m or 1h")


def _matrix(doc: Any, origin: str) -> dict:
    """The ``data`` of a successful query_range answer (resultType matrix), else a PrometheusError."""
    if not isinstance(doc, dict) or doc.get("status") != "success":
        detail = doc.get("error") if isinstance(doc, dict) else None
        raise PrometheusError(f"{SOURCE}: {origin}: query failed: {detail or 'not a query_range response'}")
    data = doc.get("data") or {}
    if data.get("resultType") != "matrix":
        raise PrometheusError(
            f"{SOURCE}: {origin}: expected resultType matrix, got {data.get('resultType')!r}"
        )
    return data


def sample_records(
    doc: Any, series: str, origin: str, step_sec: int, *, cluster: str = "default"
) -> Iterator[dict[str, str | int | None]]:
    """Flat records (text values) of one query_range response for ``series``."""
    data = _matrix(doc, origin)
    line = 0
    for item in data.get("result") or []:
        metric = item.get("metric") or {}
        for ts, value in item.get("values") or []:
            line += 1
            yield {
                "series": series,
                "cluster": metric.get("cluster") or cluster,
                "namespace": metric.get("namespace"),
                "ts": str(ts),
                "value": str(value),
                "step_sec": str(step_sec),
                "_origin": origin,
                "_line": line,
            }


def client_for(url: str) -> ApiClient:
    return ApiClient(SOURCE, url, headers={"Accept": "application/json"}, policy=POLICY)


def _get(client: ApiClient, params: dict[str, str]) -> dict[str, Any]:
    try:
        resp = client.get("api/v1/query_range", params, accept=CLIENT_ERRORS)
    except SourceError as exc:  # retries spent, or a wait beyond the limit
        raise PrometheusError(str(exc)) from None
    try:
        doc = resp.json()
    except ValueError as exc:
        raise PrometheusError(
            f"{SOURCE}: query_range answered {resp.status_code} with a body that is not JSON"
        ) from exc
    if resp.status_code != 200 or not isinstance(doc, dict) or doc.get("status") != "success":
        doc = doc if isinstance(doc, dict) else {}
        raise PrometheusError(
            f"{SOURCE}: query_range answered {resp.status_code}: {doc.get('errorType', '')} {doc.get('error', '')}".strip()
        )
    return doc


def fetch_utilization(
    url: str,
    queries: dict[str, str],
    *,
    start: dt.date,
    end: dt.date,
    step: str = "1h",
    cluster: str = "default",
    client: ApiClient | None = None,
) -> Iterator[dict[str, str | int | None]]:
    """Samples of each configured series for the days [start, end), chunked below the point limit."""
    unknown = sorted(set(queries) - set(SERIES))
    if unknown:
        raise PrometheusError(f"{SOURCE}: unknown series {', '.join(unknown)} (known: {', '.join(SERIES)})")
    step_sec = step_seconds(step)
    first = int(dt.datetime.combine(start, dt.time(), dt.UTC).timestamp())
    last = int(dt.datetime.combine(end, dt.time(), dt.UTC).timestamp()) - step_sec
    own = client is None
    client = client or client_for(url)
    try:
        for series, query in queries.items():
            chunk_start = first
            while chunk_start <= last:
                chunk_end = min(last, chunk_start + (MAX_POINTS - 1) * step_sec)
                params = {
                    "query": query,
                    "start": str(chunk_start),
                    "end": str(chunk_end),
                    "step": str(step_sec),
                }
                doc = _get(client, params)
                origin = f"query_range {series} {chunk_start}-{chunk_end}"
                yield from sample_records(doc, series, origin, step_sec, cluster=cluster)
                chunk_start = chunk_end + step_sec
    finally:
        if own:
            client.close()


# --- SLO events (platform_kpi.slos) ----------------------------------------------------------------

HOUR = 3600


def slo_event_records(
    doc: Any, slo_id: str, series: str, origin: str
) -> Iterator[dict[str, str | int | None]]:
    """One record per hour of a query_range answer (step 1h) for one SLO's good, bad or total query.

    A sample at ``ts`` holds the events of the hour ending at ``ts`` (``increase(x[1h])``): the hour
    starting ``ts - 3600``. Several series at one time are summed (a query without ``sum`` by series)."""
    data = _matrix(doc, origin)
    line = 0
    for item in data.get("result") or []:
        for pair in item.get("values") or []:
            line += 1
            ts, value = (pair + [None, None])[:2] if isinstance(pair, list) else (None, None)
            yield {
                "slo_id": slo_id,
                "series": series,
                "ts": None if ts is None else str(ts),
                "value": None if value is None else str(value),
                "_origin": origin,
                "_line": line,
            }


def fetch_slo_events(
    url: str,
    slo_id: str,
    queries: dict[str, str],
    *,
    start: dt.date,
    end: dt.date,
    client: ApiClient | None = None,
) -> Iterator[dict[str, str | int | None]]:
    """Hourly events of one SLO's queries (series -> PromQL already giving an hour's events) for the
    UTC days [start, end): samples at every hour end from start 01:00 to end 00:00, so the last hour of
    a day (a month) is asked for and lands in that day."""
    first = int(dt.datetime.combine(start, dt.time(), dt.UTC).timestamp()) + HOUR
    last = int(dt.datetime.combine(end, dt.time(), dt.UTC).timestamp())
    own = client is None
    client = client or client_for(url)
    try:
        for series, query in queries.items():
            chunk_start = first
            while chunk_start <= last:
                chunk_end = min(last, chunk_start + (MAX_POINTS - 1) * HOUR)
                params = {"query": query, "start": str(chunk_start), "end": str(chunk_end), "step": str(HOUR)}
                doc = _get(client, params)
                origin = f"query_range {slo_id} {series} {chunk_start}-{chunk_end}"
                yield from slo_event_records(doc, slo_id, series, origin)
                chunk_start = chunk_end + HOUR
    finally:
        if own:
            client.close()
