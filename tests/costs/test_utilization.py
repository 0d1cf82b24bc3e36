"""Cluster utilization from OpenCost and Prometheus (real HTTP servers on 127.0.0.1 speaking the
documented shapes) into core.cluster_utilization and the efficiency KPIs, computed by hand."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest

from connectors import prometheus
from tests.costs.helpers import COSTS_YAML, LocalServer, build_cost_warehouse, json_response, kpi, query

JAN10 = int(dt.datetime(2026, 1, 10, tzinfo=dt.UTC).timestamp())
JAN11 = JAN10 + 86_400
GB = 1_000_000_000


def _alloc(cluster, namespace, day, cpu_req, cpu_use, ram_req, ram_use, name=None):
    start = dt.datetime(2026, 1, day, tzinfo=dt.UTC)
    return {
        "name": name or f"{cluster}/{namespace}",
        "properties": {"cluster": cluster, "namespace": namespace},
        "window": {
            "start": start.isoformat().replace("+00:00", "Z"),
            "end": (start + dt.timedelta(days=1)).isoformat().replace("+00:00", "Z"),
        },
        "start": start.isoformat().replace("+00:00", "Z"),
        "end": (start + dt.timedelta(days=1)).isoformat().replace("+00:00", "Z"),
        "minutes": 1440.0,
        "cpuCores": max(cpu_req, cpu_use),
        "cpuCoreRequestAverage": cpu_req,
        "cpuCoreUsageAverage": cpu_use,
        "cpuEfficiency": cpu_use / cpu_req if cpu_req else 0,
        "ramByteRequestAverage": ram_req,
        "ramByteUsageAverage": ram_use,
        "ramEfficiency": ram_use / ram_req if ram_req else 0,
        "cpuCost": 1.0,
        "ramCost": 0.5,
        "totalCost": 1.5,
        "totalEfficiency": 0.5,
    }


def _opencost(request, _body):
    url = urlparse(request.path)
    if url.path != "/allocation":
        return json_response({"code": 404, "message": "not found"}, 404)
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert params == {"window": "2d", "step": "1d", "aggregate": "cluster,namespace", "accumulate": "false"}
    day10 = {
        "c1/api": _alloc("c1", "api", 10, 2.0, 1.0, 4 * GB, 3 * GB),
        "c1/web": _alloc("c1", "web", 10, 1.0, 0.9, 1 * GB, 1 * GB),
        "__idle__": _alloc("c1", "", 10, 0.0, 5.0, 0, 9 * GB, name="__idle__"),
    }
    day11 = {"c1/api": _alloc("c1", "api", 11, 2.0, 1.5, 4 * GB, 2 * GB)}
    return json_response({"code": 200, "status": "success", "data": [day10, day11]})


_PROM_VALUES = {
    # series -> (cluster, namespace, value on Jan 10, value on Jan 11)
    "cpu_usage": [("c2", "indexer", "0.5", None), ("c1", "api", "9", "9")],
    "cpu_request": [("c2", "indexer", "1", None), ("c1", "api", "9", "9")],
    "memory_usage": [("c2", "indexer", str(1 * GB), None)],
    "memory_request": [("c2", "indexer", str(2 * GB), None)],
}


def _prometheus(request, _body):
    url = urlparse(request.path)
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    if url.path != "/api/v1/query_range":
        return json_response({"status": "error", "errorType": "not_found", "error": "no such path"}, 404)
    if params["query"] == "bad(":
        return json_response(
            {"status": "error", "errorType": "bad_data", "error": "parse error at char 5"}, 400
        )
    start, end, step = int(params["start"]), int(params["end"]), int(params["step"])
    if (end - start) // step + 1 > 11_000:
        return json_response(
            {"status": "error", "errorType": "bad_data", "error": "exceeded maximum resolution"}, 400
        )
    result = []
    for cluster, namespace, v10, v11 in _PROM_VALUES.get(params["query"], []):
        values = []
        for ts in range(start, end + 1, step):
            value = v10 if ts < JAN11 else v11
            if value is not None:
                values.append([ts, value])
        result.append({"metric": {"cluster": cluster, "namespace": namespace}, "values": values})
    return json_response({"status": "success", "data": {"resultType": "matrix", "result": result}})


@pytest.fixture(scope="module")
def warehouse(module_tmp):
    tmp = module_tmp
    with LocalServer(_opencost) as oc, LocalServer(_prometheus) as prom:
        yaml = (
            COSTS_YAML
            + f"""
sources:
  opencost: {{url: "{oc.url}", window: 2d, step: 1d, aggregate: "cluster,namespace"}}
  prometheus:
    url: "{prom.url}"
    days: 2
    step: 1h
    queries: {{cpu_usage: cpu_usage, cpu_request: cpu_request, memory_usage: memory_usage,
              memory_request: memory_request}}
"""
        )
        wh = build_cost_warehouse(tmp, {}, costs_yaml=yaml, today=dt.date(2026, 1, 12))
        prom_requests = list(prom.requests)
    return wh, prom_requests


def test_daily_utilization_per_namespace_opencost_first(warehouse):
    wh, _ = warehouse
    rows = query(
        wh,
        "select source, cluster, namespace, service, team, day::varchar as day, cpu_core_hours_used, "
        "cpu_core_hours_requested, ram_byte_hours_used, ram_byte_hours_requested "
        "from core.cluster_utilization order by cluster, namespace, day",
    )
    assert [(r["source"], r["cluster"], r["namespace"], r["day"], r["service"], r["team"]) for r in rows] == [
        ("opencost", "c1", "api", "2026-01-10", "api", "payments"),
        ("opencost", "c1", "api", "2026-01-11", "api", "payments"),
        ("opencost", "c1", "web", "2026-01-10", "web", "payments"),
        ("prometheus", "c2", "indexer", "2026-01-10", "indexer", "search"),
    ]
    # OpenCost: average x 1440 minutes / 60; Prometheus: 24 hourly samples x 1 h.
    assert [(r["cpu_core_hours_used"], r["cpu_core_hours_requested"]) for r in rows] == [
        (pytest.approx(24.0), pytest.approx(48.0)),
        (pytest.approx(36.0), pytest.approx(48.0)),
        (pytest.approx(21.6), pytest.approx(24.0)),
        (pytest.approx(12.0), pytest.approx(24.0)),
    ]
    assert rows[3]["ram_byte_hours_used"] == pytest.approx(24 * GB)
    assert rows[3]["ram_byte_hours_requested"] == pytest.approx(48 * GB)


def test_efficiency_kpis_are_time_weighted(warehouse):
    wh, _ = warehouse
    # CPU: (24 + 36 + 21.6 + 12) / (48 + 48 + 24 + 24) = 93.6 / 144.
    org = kpi(wh, "cluster_cpu_efficiency", "2026-01")
    assert org["value"] == pytest.approx(93.6 / 144)
    assert org["sample_size"] == 4
    assert org["unit"] == "fraction"
    assert kpi(wh, "cluster_cpu_efficiency", "2026-01", "team", "payments")["value"] == pytest.approx(
        81.6 / 120
    )
    assert kpi(wh, "cluster_cpu_efficiency", "2026-01", "service", "api")["value"] == pytest.approx(60 / 96)
    # Memory (GB-hours): (72 + 48 + 24 + 24) / (96 + 96 + 24 + 48) = 168 / 264.
    assert kpi(wh, "cluster_memory_efficiency", "2026-01")["value"] == pytest.approx(168 / 264)


def test_prometheus_range_runs_midnight_to_one_step_before_the_end(warehouse):
    _, requests = warehouse
    params = [{k: v[0] for k, v in parse_qs(urlparse(path).query).items()} for _m, path, _h, _b in requests]
    assert sorted(p["query"] for p in params) == [
        "cpu_request",
        "cpu_usage",
        "memory_request",
        "memory_usage",
    ]
    assert {(p["start"], p["end"], p["step"]) for p in params} == {
        (str(JAN10), str(JAN10 + 2 * 86_400 - 3600), "3600")
    }


def test_long_ranges_are_chunked_below_the_point_limit():
    with LocalServer(_prometheus) as prom:
        records = list(
            prometheus.fetch_utilization(
                prom.url,
                {"cpu_usage": "cpu_usage"},
                start=dt.date(2026, 1, 10),
                end=dt.date(2026, 1, 18),
                step="60s",
            )
        )
        chunks = len(prom.requests)
    # 8 days of minutes = 11,520 points: two requests of at most 10,000.
    assert chunks == 2
    assert len({r["ts"] for r in records if r["cluster"] == "c2"}) == 1440  # Jan 10 only has c2 values


def test_prometheus_error_body_is_reported():
    with (
        LocalServer(_prometheus) as prom,
        pytest.raises(prometheus.PrometheusError, match="400: bad_data parse error"),
    ):
        list(
            prometheus.fetch_utilization(
                prom.url, {"cpu_usage": "bad("}, start=dt.date(2026, 1, 10), end=dt.date(2026, 1, 11)
            )
        )


def test_saved_opencost_responses_are_read_from_the_files_folder(tmp_path):
    import json

    doc = json.loads(
        _opencost(
            type(
                "R",
                (),
                {"path": "/allocation?window=2d&step=1d&aggregate=cluster,namespace&accumulate=false"},
            ),
            b"",
        )[2]
    )
    wh = build_cost_warehouse(tmp_path, {"opencost/2026-01.json": json.dumps(doc)})
    assert kpi(wh, "cluster_cpu_efficiency", "2026-01")["value"] == pytest.approx(81.6 / 120)


def test_an_api_outage_keeps_the_last_good_rows(tmp_path):
    from platform_kpi.costs import load_cost_sources
    from platform_kpi.warehouse import write_connection

    def yaml(url: str) -> str:
        return COSTS_YAML + f'sources:\n  opencost: {{url: "{url}", window: 2d, step: 1d}}\n'

    with LocalServer(_opencost) as oc:
        wh = build_cost_warehouse(tmp_path, {}, costs_yaml=yaml(oc.url))
    with LocalServer(lambda _r, _b: json_response({"code": 404, "message": "no such route"}, 404)) as down:
        (tmp_path / "warehouse-config" / "costs.yaml").write_text(yaml(down.url))
        with write_connection(wh) as con:
            result = load_cost_sources(
                con, tmp_path / "warehouse-config" / "kpi.yaml", tmp_path / "warehouse-files"
            )
            rows = con.execute("select count(*) from raw.opencost__allocations").fetchall()[0][0]
    assert rows == 4  # three allocations on the 10th (one idle), one on the 11th
    assert "GET /allocation answered 404" in result["opencost__allocations"]["error"]
    assert "kept the 4 rows of the last good load" in result["opencost__allocations"]["error"]


def _truncated_once(handler):
    """``handler``, except that each distinct request's first answer is cut off mid-body (a dropped
    connection behind a proxy), as the shared HTTP client must expect."""
    seen: set[str] = set()

    def serve(request, body):
        status, headers, payload = handler(request, body)
        if request.path not in seen:
            seen.add(request.path)
            return status, headers, payload[: len(payload) // 2]
        return status, headers, payload

    return serve


def test_truncated_answers_are_retried_by_the_shared_client():
    from connectors import opencost

    with LocalServer(_truncated_once(_prometheus)) as prom:
        records = list(
            prometheus.fetch_utilization(
                prom.url, {"cpu_usage": "cpu_usage"}, start=dt.date(2026, 1, 10), end=dt.date(2026, 1, 11)
            )
        )
        assert len(prom.requests) == 2  # the cut answer, then the whole one
    assert len(records) == 2 * 24  # c2/indexer and c1/api, hourly on Jan 10
    with LocalServer(_truncated_once(_opencost)) as oc:
        doc = opencost.fetch_allocation(oc.url, window="2d", step="1d")
        assert len(oc.requests) == 2
    assert len(list(opencost.allocation_records(doc, "GET /allocation"))) == 4
