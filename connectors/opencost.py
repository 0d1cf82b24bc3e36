"""OpenCost allocations: CPU and memory requests, usage and cost per cluster/namespace and day.

``GET {url}/allocation?window=30d&step=1d&aggregate=cluster,namespace&accumulate=false`` answers
``{"code": 200, "data": [ {key: allocation, ...}, ... ]}``: one map per step, each allocation with
``name, properties{cluster, namespace}, window{start, end}, start, end, minutes,
cpuCoreRequestAverage, cpuCoreUsageAverage, ramByteRequestAverage, ramByteUsageAverage, totalCost``
(and the efficiencies OpenCost derives from them). ``allocation_records`` turns one such response —
from the API or saved as a JSON file — into flat records of text for ``raw.opencost__allocations``.
Requests go through the shared :class:`connectors.http.ApiClient`. No Dagster imports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.http import ApiClient, HttpPolicy, SourceError

SOURCE = "opencost"
# Patient enough for a busy OpenCost, short enough that an outage does not hold up the run.
POLICY = HttpPolicy(timeout=60.0, backoff_base=0.5, backoff_cap=30.0, max_attempts=4, give_up_after=300.0)
# Answers OpenCost means (not found, bad window, no access): reported with their body, never retried.
CLIENT_ERRORS = frozenset(range(400, 500)) - {408, 429}
FIELDS = (
    "cpuCoreRequestAverage",
    "cpuCoreUsageAverage",
    "ramByteRequestAverage",
    "ramByteUsageAverage",
    "totalCost",
)


class OpenCostError(RuntimeError):
    """OpenCost answered with an error or a body that is not an allocation response."""


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def allocation_records(doc: Any, origin: str) -> Iterator[dict[str, str | int | None]]:
    """Flat records (text values) of one /allocation response, in response order."""
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise OpenCostError(
            f"{SOURCE}: {origin}: expected an object with a data list (an /allocation response)"
        )
    if doc.get("code", 200) != 200:
        raise OpenCostError(f"{SOURCE}: {origin}: response code {doc.get('code')}: {doc.get('message', '')}")
    line = 0
    for step in doc["data"]:
        for key, alloc in (step or {}).items():
            line += 1
            if not isinstance(alloc, dict):
                raise OpenCostError(f"{SOURCE}: {origin}: allocation {key!r} is not an object")
            props = alloc.get("properties") or {}
            window = alloc.get("window") or {}
            yield {
                "window_start": _text(window.get("start") or alloc.get("start")),
                "window_end": _text(window.get("end") or alloc.get("end")),
                "name": _text(alloc.get("name") or key),
                "cluster": _text(props.get("cluster")),
                "namespace": _text(props.get("namespace")),
                "minutes": _text(alloc.get("minutes")),
                "cpu_core_request_average": _text(alloc.get("cpuCoreRequestAverage")),
                "cpu_core_usage_average": _text(alloc.get("cpuCoreUsageAverage")),
                "ram_byte_request_average": _text(alloc.get("ramByteRequestAverage")),
                "ram_byte_usage_average": _text(alloc.get("ramByteUsageAverage")),
                "total_cost": _text(alloc.get("totalCost")),
                "_origin": origin,
                "_line": line,
            }


def fetch_allocation(
    url: str,
    *,
    window: str = "30d",
    step: str = "1d",
    aggregate: str = "cluster,namespace",
    client: ApiClient | None = None,
) -> dict[str, Any]:
    """One /allocation response (429, 5xx, timeouts and truncated bodies retried by the client)."""
    params = {"window": window, "step": step, "aggregate": aggregate, "accumulate": "false"}
    own = client is None
    client = client or ApiClient(SOURCE, url, headers={"Accept": "application/json"}, policy=POLICY)
    try:
        try:
            resp = client.get("allocation", params, accept=CLIENT_ERRORS)
        except SourceError as exc:  # retries spent, or a wait beyond the limit
            raise OpenCostError(str(exc)) from None
        if resp.status_code != 200:
            raise OpenCostError(f"{SOURCE}: GET /allocation answered {resp.status_code}: {resp.text[:300]}")
        return resp.json()
    finally:
        if own:
            client.close()


def read_saved(folder: Path) -> Iterator[dict[str, str | int | None]]:
    """Records of every saved /allocation response (``*.json``) in ``folder``, file by file."""
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except ValueError as exc:
            raise OpenCostError(f"{SOURCE}: {path.name} is not JSON: {exc}") from exc
        yield from allocation_records(doc, path.name)
