"""Golden tests: SLOs from OpenSLO v1 and Sloth spec files, evaluated against a Prometheus server on
127.0.0.1 (query_range, step 1h) through the whole pipeline. Every expected number is worked out by
hand in the comments.

Shapes: the OpenSLO documents follow the OpenSLO/OpenSLO README (v1: kind SLO with an inline
indicator or indicatorRef to a kind SLI, ratioMetric good|bad/total with metricSource{type, spec
{query}}, objectives[].target|targetPercent, timeWindow[]); the Sloth file follows slok/sloth's
getting-started example (version prometheus/v1, service, labels, slos[]{name, objective, sli.events
{error_query, total_query}} with {{.window}}); the answers follow the Prometheus HTTP API docs
(``{"status":"success","data":{"resultType":"matrix","result":[{"metric":{...},"values":[[<unix>,
"<value>"], ...]}]}}``; errors ``{"status":"error","errorType":...,"error":...}``).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import duckdb
import pytest

from pipelines.execute import run_pipeline
from platform_kpi.config import SloPrometheus, SloSettings
from platform_kpi.settings import DEFAULT_CONFIG
from platform_kpi.slos import load_slos
from tests.conftest import _KPI_TABLES, kpi, query
from tests.security.helpers import LocalApi

UTC = dt.UTC
SERVICES = "service,team\nci,platform\nartifacts,platform\nclusters,platform\nweb,payments\n"

CI_SPEC = """\
apiVersion: openslo/v1
kind: SLI
metadata:
  name: ci-build-success
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: Prometheus
        spec:
          query: ci_builds_total{result="ok"}
    total:
      metricSource:
        type: Prometheus
        spec:
          query: ci_builds_total
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: ci-availability
  displayName: CI builds succeed
spec:
  service: ci
  indicatorRef: ci-build-success
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: CI availability
      targetPercent: 99
"""

CLUSTER_SPECS = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: clusters-api
  labels:
    tier: platform
spec:
  service: clusters
  indicator:
    metadata:
      name: clusters-api-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: sum(apiserver_request_total{code=~"5.."})
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(apiserver_request_total)
  timeWindow:
    - duration: 1M
      calendar:
        startTime: 2026-01-01 00:00:00
        timeZone: UTC
  budgetingMethod: Occurrences
  objectives:
    - target: 0.995
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: web-availability
  labels:
    tier: product
spec:
  service: web
  indicator:
    metadata:
      name: web-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{job="web",code=~"5.."}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{job="web"}
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
"""

# slos[1] is malformed (objective is not a percentage): quarantined, slos[0] kept.
ARTIFACTS_SLOTH = """\
version: "prometheus/v1"
service: "artifacts"
labels:
  owner: "platform"
slos:
  - name: "availability"
    objective: 99.9
    description: "Artifact downloads succeed."
    sli:
      events:
        error_query: sum(rate(artifact_requests_total{code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(artifact_requests_total[{{.window}}]))
    alerting:
      name: ArtifactsHighErrorRate
      page_alert:
        disable: true
  - name: "latency"
    objective: high
    sli:
      events:
        error_query: sum(rate(artifact_slow_total[{{.window}}]))
        total_query: sum(rate(artifact_requests_total[{{.window}}]))
"""

BROKEN = "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: [unclosed\n"


def hour(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


# Events per hour (the hour starting at ``start``), per SLO series. None: Prometheus has no sample.
ARTIFACT_GAP = (hour("2026-02-10 00:00"), hour("2026-02-13 00:00"))  # 72 hours without any sample


def events(series: str, start: dt.datetime) -> float | None:
    if series == "ci:good":
        # The last hour of January (31 Jan 23:00-24:00): every build failed.
        return 0.0 if start == hour("2026-01-31 23:00") else 100.0
    if series == "ci:total":
        return 100.0
    if series in ("artifacts:total", "artifacts:bad"):
        gap = ARTIFACT_GAP[0] <= start < ARTIFACT_GAP[1] or (
            start.date() == dt.date(2026, 2, 20) and 6 <= start.hour < 12
        )
        if gap:
            return None
        if series == "artifacts:total":
            return 1000.0
        # the error series exists only when there are errors (as Prometheus drops an empty rate)
        return 500.0 if start == hour("2026-02-05 10:00") else None
    if series == "clusters:total":
        return 50.0
    if series == "clusters:bad":
        return 0.0
    if series == "web:total":
        return 10.0
    if series == "web:bad":
        return 10.0 if start.date() == dt.date(2026, 2, 14) else 0.0
    raise AssertionError(series)


def series_of(promql: str) -> str:
    """Which SLO series a generated query asks for (the product builds the PromQL from the specs)."""
    table = [
        ('sum(increase(ci_builds_total{result="ok"}[1h]))', "ci:good"),
        ("sum(increase(ci_builds_total[1h]))", "ci:total"),
        ('(sum(rate(artifact_requests_total{code=~"(5..|429)"}[1h]))) * 3600', "artifacts:bad"),
        ("(sum(rate(artifact_requests_total[1h]))) * 3600", "artifacts:total"),
        ('sum(increase((sum(apiserver_request_total{code=~"5.."}))[1h:1m]))', "clusters:bad"),
        ("sum(increase((sum(apiserver_request_total))[1h:1m]))", "clusters:total"),
        ('sum(increase(http_requests_total{job="web",code=~"5.."}[1h]))', "web:bad"),
        ('sum(increase(http_requests_total{job="web"}[1h]))', "web:total"),
    ]
    for query_text, series in table:
        if promql == query_text:
            return series
    raise AssertionError(f"unexpected query {promql}")


class FakePrometheus(LocalApi):
    """GET /api/v1/query_range: one series per query, a value at every step where ``events`` has one.
    ``faults``: (series, kind) used once each: 429 (Retry-After: 1), 503, or error (400 bad_data)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[str, int, int]] = []

    def answer(self, raw_path: str, headers) -> tuple[int, dict, bytes]:
        url = urlparse(raw_path)
        assert url.path == "/api/v1/query_range", url.path
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        series = series_of(q["query"])
        for fault in list(self.faults):
            if fault[0] == series:
                self.faults.remove(fault)
                kind = fault[1]
                if kind == "429":
                    return 429, {"Retry-After": "1"}, b"rate limited"
                if kind == "5xx":
                    return 503, {"Content-Type": "text/plain"}, b"unavailable"
                body = {"status": "error", "errorType": "bad_data", "error": "1:6: parse error: unexpected }"}
                return 400, {"Content-Type": "application/json"}, json.dumps(body).encode()
        start, end, step = int(q["start"]), int(q["end"]), int(q["step"])
        self.asked.append((series, start, end))
        values = []
        for ts in range(start, end + 1, step):
            value = events(series, dt.datetime.fromtimestamp(ts - 3600, UTC))
            if value is not None:
                values.append([ts, f"{value:g}"])
        result = [{"metric": {"job": series.split(":")[0]}, "values": values}] if values else []
        body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


def _config(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "kpi.yaml"
    text = DEFAULT_CONFIG.read_text()
    text = text.replace(
        "slos:\n  paths: []\n  platform: ['tier=platform']",
        "slos:\n  paths: []\n  platform: [ci, 'tier=platform', artifacts-availability]",
    )
    text = text.replace("    url: null\n    history_days: 90", f"    url: {url}\n    history_days: 30")
    config.write_text(text)
    return config


def _files(tmp_path: Path) -> Path:
    files = tmp_path / "files"
    (files / "slos").mkdir(parents=True, exist_ok=True)
    (files / "services.csv").write_text(SERVICES)
    (files / "slos" / "ci.yaml").write_text(CI_SPEC)
    (files / "slos" / "clusters.yml").write_text(CLUSTER_SPECS)
    (files / "slos" / "artifacts-sloth.yaml").write_text(ARTIFACTS_SLOTH)
    (files / "slos" / "broken.yaml").write_text(BROKEN)
    return files


def build(tmp_path: Path, files: Path, config: Path, as_of: dt.datetime) -> Path:
    warehouse = tmp_path / "w.duckdb"
    for table in ("kpi_monthly", "kpi_weekly"):
        _KPI_TABLES.pop((warehouse, table), None)
    run_pipeline(files, warehouse, config=config, checks=False, as_of=as_of)
    return warehouse


@pytest.fixture()
def prom():
    with FakePrometheus() as server:
        yield server


def test_slo_attainment_by_month_with_a_last_hour_breach_and_a_gap(prom, tmp_path):
    files, config = _files(tmp_path), _config(tmp_path, prom.url)
    # Run on 2 March 2026: history_days 30 evaluates the complete days 31 Jan .. 1 Mar.
    wh = build(tmp_path, files, config, dt.datetime(2026, 3, 2, 6, 0))

    slos = {r["slo_id"]: r for r in query(wh, "select * from core.slos")}
    assert set(slos) == {
        "openslo:slo:ci-availability",
        "openslo:slo:clusters-api",
        "openslo:slo:web-availability",
        "sloth:slo:artifacts-availability",
    }
    assert slos["openslo:slo:ci-availability"]["objective"] == pytest.approx(0.99)  # targetPercent 99
    assert slos["sloth:slo:artifacts-availability"]["objective"] == pytest.approx(0.999)  # Sloth 99.9
    assert slos["openslo:slo:clusters-api"]["objective"] == pytest.approx(0.995)  # target
    platform = {k for k, r in slos.items() if r["is_platform"]}
    assert platform == {  # by service ci, by label tier=platform, by name
        "openslo:slo:ci-availability",
        "openslo:slo:clusters-api",
        "sloth:slo:artifacts-availability",
    }
    assert slos["openslo:slo:ci-availability"]["team"] == "platform"

    monthly = {
        (r["slo_id"].split(":")[-1], str(r["month"])[:7]): r
        for r in query(wh, "select * from marts.slo_monthly")
    }
    # CI in January: only 31 Jan is evaluated: 24 hours x 100 builds = 2,400, of which the last hour's
    # 100 failed (its sample is stamped 1 Feb 00:00 but is the hour 23:00-24:00 of 31 Jan).
    jan = monthly[("ci-availability", "2026-01")]
    assert (jan["total_events"], jan["good_events"], jan["hours_with_data"]) == (2400, 2300, 24)
    assert jan["slo_attainment"] == pytest.approx(2300 / 2400)  # 0.9583 < 0.99
    assert jan["status"] == "breached"
    # error budget: 1 - (100 / 2400) / (1 - 0.99) = 1 - 4.1667 = -3.1667 (overspent)
    assert jan["slo_error_budget_remaining"] == pytest.approx(1 - (100 / 2400) / 0.01)
    feb = monthly[("ci-availability", "2026-02")]
    assert (feb["total_events"], feb["good_events"]) == (28 * 24 * 100, 28 * 24 * 100)  # February clean
    assert feb["status"] == "met" and feb["slo_error_budget_remaining"] == pytest.approx(1.0)

    # Artifacts in February: 672 hours; 72 (10-12 Feb) + 6 (20 Feb 06-12) without samples -> 594 hours
    # with data, coverage 594 / 672 = 0.884 < min_coverage 0.9. Attainment over the hours with data:
    # (594,000 - 500) / 594,000 = 0.99916 >= 0.999, yet the month is not met: a gap is not good time.
    art = monthly[("artifacts-availability", "2026-02")]
    assert (art["hours_with_data"], art["hours_in_period"]) == (594, 672)
    assert art["coverage"] == pytest.approx(594 / 672)
    assert (art["total_events"], art["bad_events"]) == (594_000, 500)
    assert art["slo_attainment"] == pytest.approx(593_500 / 594_000)
    assert (art["status"], art["is_met"]) == ("insufficient_data", False)
    gap_days = {
        str(r["day"]): r["hours_with_data"]
        for r in query(
            wh,
            "select day, hours_with_data from core.slo_daily where slo_id = 'sloth:slo:artifacts-availability' "
            "and hours_with_data < 24 order by day",
        )
    }
    assert gap_days == {"2026-02-10": 0, "2026-02-11": 0, "2026-02-12": 0, "2026-02-20": 18}

    # Web (not a platform SLO): 14 Feb all 240 requests failed: (6,720 - 240) / 6,720 = 0.9643 < 0.99.
    web = monthly[("web-availability", "2026-02")]
    assert web["status"] == "breached" and web["slo_attainment"] == pytest.approx(6480 / 6720)

    # platform_slo_attainment: January ci breached, artifacts met, clusters met -> 2/3; February ci
    # met, artifacts insufficient data (not met), clusters met -> 2/3; March (1 Mar) all three met -> 1.
    assert kpi(wh, "platform_slo_attainment", "2026-01")["value"] == pytest.approx(2 / 3)
    feb_kpi = kpi(wh, "platform_slo_attainment", "2026-02")
    assert (feb_kpi["value"], feb_kpi["sample_size"]) == (pytest.approx(2 / 3), 3)
    assert kpi(wh, "platform_slo_attainment", "2026-03")["value"] == 1.0
    assert kpi(wh, "platform_slo_attainment", "2026-02", "service", "artifacts")["value"] == 0.0
    assert kpi(wh, "platform_slo_attainment", "2026-01", "service", "ci")["value"] == 0.0
    assert kpi(wh, "platform_slo_attainment", "2026-02", "team", "platform")["value"] == pytest.approx(2 / 3)
    assert kpi(wh, "platform_slo_attainment", "2026-02", "team", "payments")["value"] is None  # web only
    # slo_attainment for the organisation in February: the mean over the four SLOs
    expected = (1.0 + 593_500 / 594_000 + 1.0 + 6480 / 6720) / 4
    assert kpi(wh, "slo_attainment", "2026-02")["value"] == pytest.approx(expected)
    assert kpi(wh, "slo_attainment", "2026-01", "service", "ci")["value"] == pytest.approx(2300 / 2400)
    assert kpi(wh, "slo_error_budget_remaining", "2026-02", "service", "web")["value"] == pytest.approx(
        1 - (240 / 6720) / 0.01
    )

    # The malformed file and the malformed Sloth SLO are quarantined with file, position and reason.
    bad = query(
        wh,
        "select file, record_key, reason from ops.quarantine where source = 'slos' order by file",
    )
    assert bad == [
        {
            "file": "artifacts-sloth.yaml",
            "record_key": "latency",
            "reason": "document 1, slos[1], line 17: objective 'high' is not a percentage in (0, 100)",
        },
        {
            "file": "broken.yaml",
            "record_key": None,
            "reason": "line 5, column 1: is not valid YAML: expected ',' or ']', but got '<stream end>'",
        },
    ]


def test_a_rerun_reevaluates_only_the_lookback_and_counts_nothing_twice(prom, tmp_path):
    files, config = _files(tmp_path), _config(tmp_path, prom.url)
    wh = build(tmp_path, files, config, dt.datetime(2026, 3, 2, 6, 0))
    before = query(wh, "select slo_id, day, good_events, total_events from core.slo_daily order by all")
    prom.asked.clear()
    # Two days later: from the last evaluated day (1 Mar) + 1 - lookback_days (2) = 28 Feb to 3 Mar.
    wh = build(tmp_path, files, config, dt.datetime(2026, 3, 4, 6, 0))
    first_sample = int(dt.datetime(2026, 2, 28, 1, 0, tzinfo=UTC).timestamp())
    last_sample = int(dt.datetime(2026, 3, 4, 0, 0, tzinfo=UTC).timestamp())
    assert {(start, end) for _, start, end in prom.asked} == {(first_sample, last_sample)}
    after = query(wh, "select slo_id, day, good_events, total_events from core.slo_daily order by all")
    assert [r for r in after if str(r["day"]) < "2026-03-02"] == before  # the re-evaluated days unchanged
    rows = query(wh, "select count(*) as n, count(distinct (slo_id, day)) as keys from core.slo_daily")
    assert rows == [{"n": 4 * 32, "keys": 4 * 32}]  # 31 Jan .. 3 Mar, once each


def _load(con, url: str, today: dt.date, files: Path):
    settings = SloSettings(prometheus=SloPrometheus(url=url, history_days=3, lookback_days=1))
    return load_slos(con, settings, kpi_path=None, files_dir=files, today=today)


def test_prometheus_429_and_5xx_are_retried_and_an_error_answer_keeps_that_slos_rows(prom, tmp_path):
    files = _files(tmp_path)
    con = duckdb.connect(str(tmp_path / "faults.duckdb"))
    prom.faults += [("ci:total", "429"), ("web:bad", "5xx")]
    result = _load(con, prom.url, dt.date(2026, 2, 4), files)
    assert result["errors"] == []
    assert any(s == "ci:total" for s, _, _ in prom.asked)  # answered after the 429 and Retry-After
    counts = dict(
        con.execute("select slo_id, count(*) from raw.prometheus__slo_evaluations group by all").fetchall()
    )
    assert counts == dict.fromkeys(
        [
            "openslo:slo:ci-availability",
            "openslo:slo:clusters-api",
            "openslo:slo:web-availability",
            "sloth:slo:artifacts-availability",
        ],
        3,
    )
    ci_samples = con.execute(
        "select count(*) from raw.prometheus__slo_samples where slo_id = 'openslo:slo:ci-availability'"
    ).fetchone()[0]
    assert ci_samples == 2 * 3 * 24  # good and total, 3 days of 24 hours

    # Next day Prometheus refuses the CI query (400 bad_data): CI keeps its rows, the others move on.
    prom.faults.append(("ci:good", "error"))
    result = _load(con, prom.url, dt.date(2026, 2, 5), files)
    assert len(result["errors"]) == 1
    assert result["errors"][0].startswith("openslo:slo:ci-availability: ")
    assert "bad_data" in result["errors"][0] and "parse error" in result["errors"][0]
    last = dict(
        con.execute("select slo_id, max(day) from raw.prometheus__slo_evaluations group by all").fetchall()
    )
    assert last["openslo:slo:ci-availability"] == dt.date(2026, 2, 3)
    assert last["openslo:slo:web-availability"] == dt.date(2026, 2, 4)
    assert (
        con.execute(
            "select count(*) from raw.prometheus__slo_samples where slo_id = 'openslo:slo:ci-availability'"
        ).fetchone()[0]
        == ci_samples
    )
    con.close()


def test_a_daily_results_file_is_imported_and_its_bad_rows_quarantined(tmp_path):
    files = tmp_path / "files"
    (files / "slos").mkdir(parents=True)
    (files / "services.csv").write_text(SERVICES)
    (files / "slos" / "ci.yaml").write_text(CI_SPEC)
    (files / "slos" / "results.csv").write_text(
        "slo_id,day,good_events,bad_events,total_events,hours_with_data\n"
        "ci-availability,2026-04-01,990,,1000,24\n"  # by name
        "openslo:slo:ci-availability,2026-04-02,,5,1000,24\n"  # by id, bad events given: 995 good
        "ci-availability,2026-04-03,1000,,1000,12\n"  # half a day with data
        "unknown-slo,2026-04-01,1,,1,24\n"
        "ci-availability,2026-04-04,1001,,1000,24\n"
        "ci-availability,2026-04-05,10,,10,30\n"
    )
    wh = build(tmp_path, files, DEFAULT_CONFIG, dt.datetime(2026, 5, 1))
    (april,) = query(wh, "select * from marts.slo_monthly where month = '2026-04-01'")
    # 1-3 April: 72 hours, 60 with data -> coverage 0.833 < 0.9; (990 + 995 + 1000) / 3000 = 0.995 >= 0.99
    assert (april["good_events"], april["total_events"], april["hours_in_period"]) == (2985, 3000, 72)
    assert april["coverage"] == pytest.approx(60 / 72)
    assert april["slo_attainment"] == pytest.approx(0.995)
    assert april["slo_error_budget_remaining"] == pytest.approx(1 - (15 / 3000) / 0.01)  # 0.5
    assert april["status"] == "insufficient_data"
    bad = query(
        wh,
        "select line, record_key, reason from ops.quarantine where entity = 'slo_results' order by line",
    )
    assert bad == [
        {"line": 5, "record_key": "unknown-slo", "reason": "no SLO spec defines unknown-slo"},
        {
            "line": 6,
            "record_key": "ci-availability",
            "reason": "good events are not between 0 and total_events",
        },
        {
            "line": 7,
            "record_key": "ci-availability",
            "reason": "hours_with_data is not a number from 0 to 24",
        },
    ]
