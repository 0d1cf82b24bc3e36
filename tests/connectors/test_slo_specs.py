"""SLO spec files: OpenSLO v1 and Sloth prometheus/v1 documents shaped as their projects document them
(OpenSLO/OpenSLO README: the inline-SLI SLO example and the ratioMetric / thresholdMetric examples;
slok/sloth examples/getting-started.yml), normalized or quarantined with file, position and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.slo_specs import hourly_query, read_specs

# The OpenSLO README's SLO example with an inlined SLI (its metric source is Datadog: not evaluated).
README_INLINE_DATADOG = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: foo-slo
  displayName: Foo SLO
spec:
  service: foo
  indicator:
    metadata:
      name: foo-error
      displayName: Foo Error
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            metricSourceRef: datadog-datasource
            type: Datadog
            spec:
              query: sum:trace.http.request.hits.by_http_status{http.status_code:200}.as_count()
        total:
          metricSource:
            metricSourceRef: datadog-datasource
            type: Datadog
            spec:
              query: sum:trace.http.request.hits.by_http_status{*}.as_count()
  objectives:
    - displayName: Foo Total Errors
      target: 0.98
"""

# The README's ratioMetric example (Prometheus) as a kind SLI, referenced by an SLO in another file.
README_RATIO_SLI = """\
apiVersion: openslo/v1
kind: SLI
metadata:
  name: localhost-requests
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: Prometheus
        metricSourceRef: prometheus-datasource
        spec:
          query: sum(localhost_server_requests{code=~"2xx|3xx",host="*",instance="127.0.0.1:9090"})
    total:
      metricSource:
        type: Prometheus
        metricSourceRef: prometheus-datasource
        spec:
          query: localhost_server_requests{code="total",host="*",instance="127.0.0.1:9090"}
---
apiVersion: openslo/v1
kind: Service
metadata:
  name: localhost
spec:
  description: A service that is not an SLO (skipped).
"""

SLOS_BY_REF = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: localhost-availability
  labels:
    team: [green, orange]
spec:
  service: localhost
  indicatorRef: localhost-requests
  timeWindow:
    - duration: 1M
      calendar:
        startTime: 2020-01-21 12:30:00
        timeZone: America/New_York
      isRolling: false
  budgetingMethod: Occurrences
  objectives:
    - displayName: Bar Total Errors
      targetPercent: 99.99
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: missing-ref
spec:
  service: localhost
  indicatorRef: nowhere
  objectives:
    - target: 0.9
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: threshold
spec:
  service: localhost
  indicator:
    metadata:
      name: latency
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec:
            query: histogram_quantile(0.99, sum(rate(x_bucket[5m])) by (le))
  objectives:
    - op: lte
      value: 0.3
      target: 0.99
---
apiVersion: openslo/v1alpha
kind: SLO
metadata:
  name: old-shape
spec:
  service: localhost
"""

# slok/sloth examples/getting-started.yml (plus a raw SLI, which is not evaluated)
SLOTH_GETTING_STARTED = """\
version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
  repo: "myorg/myservice"
  tier: "2"
slos:
  # We allow failing (5xx and 429) 1 request every 1000 requests (99.9%).
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    labels:
      category: availability
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      name: "MyServiceHighErrorRate"
      labels:
        category: "availability"
      annotations:
        summary: "High error rate on 'myservice' requests responses"
      page_alert:
        labels:
          severity: "pageteam"
          routing_key: "myteam"
      ticket_alert:
        labels:
          severity: "slack"
          slack_channel: "#alerts-myteam"
  - name: "ratio"
    objective: 99
    sli:
      raw:
        error_ratio_query: sum(rate(x_errors[{{.window}}])) / sum(rate(x_total[{{.window}}]))
"""


def _write(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "slos"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_documented_openslo_and_sloth_shapes_are_normalized_and_the_rest_quarantined(tmp_path):
    folder = _write(
        tmp_path,
        {
            "a-readme.yaml": README_INLINE_DATADOG,
            "b-sli.yaml": README_RATIO_SLI,
            "c-slos.yaml": SLOS_BY_REF,
            "d-sloth.yml": SLOTH_GETTING_STARTED,
            "notes.txt": "not a spec",
        },
    )
    specs, errors = read_specs([folder])
    by_id = {s.slo_id: s for s in specs}
    assert set(by_id) == {"openslo:slo:localhost-availability", "sloth:slo:myservice-requests-availability"}

    ref = by_id["openslo:slo:localhost-availability"]
    assert (ref.service, ref.objective, ref.time_window, ref.query_mode) == (
        "localhost",
        0.9999,
        "1M",
        "increase",
    )
    assert ref.good_query.startswith("sum(localhost_server_requests") and ref.bad_query is None
    assert ref.labels == {"team": "green,orange"}
    assert (ref.file, ref.position) == ("c-slos.yaml", "document 1, line 1")

    sloth = by_id["sloth:slo:myservice-requests-availability"]
    assert (sloth.service, sloth.objective, sloth.query_mode) == ("myservice", 0.999, "rate")
    assert sloth.good_query is None and 'code=~"(5..|429)"' in sloth.bad_query
    assert sloth.labels == {
        "owner": "myteam",
        "repo": "myorg/myservice",
        "tier": "2",
        "category": "availability",
    }

    assert sorted((e.file, e.position, e.record_key, e.reason) for e in errors) == [
        (
            "a-readme.yaml",
            "document 1, line 1",
            "foo-slo",
            "ratioMetric.good.metricSource.type 'Datadog' is not Prometheus (only Prometheus queries are evaluated)",
        ),
        (
            "c-slos.yaml",
            "document 2, line 21",
            "missing-ref",
            "indicatorRef 'nowhere' names no kind: SLI document in the files read",
        ),
        (
            "c-slos.yaml",
            "document 3, line 31",
            "threshold",
            "indicator has thresholdMetric: only ratioMetric good/total or bad/total SLIs are evaluated",
        ),
        (
            "c-slos.yaml",
            "document 4, line 51",
            "old-shape",
            "apiVersion 'openslo/v1alpha' is not read (only openslo/v1)",
        ),
        ("d-sloth.yml", "document 1, slos[1], line 32", "ratio", "sli.raw is not evaluated: use sli.events"),
    ]


def test_a_name_defined_twice_keeps_the_first_and_a_yaml_error_keeps_the_documents_before_it(tmp_path):
    folder = _write(
        tmp_path,
        {
            "a.yaml": README_RATIO_SLI + "---\n" + SLOS_BY_REF.split("---")[0],
            "b.yaml": SLOS_BY_REF.split("---")[0] + "---\nkind: SLO\nmetadata: {name: [oops\n",
        },
    )
    specs, errors = read_specs([folder])
    assert [(s.slo_id, s.file) for s in specs] == [("openslo:slo:localhost-availability", "a.yaml")]
    assert [(e.file, e.position, e.reason) for e in errors] == [
        ("b.yaml", "line 23, column 1", "is not valid YAML: expected ',' or ']', but got '<stream end>'"),
        (
            "b.yaml",
            "document 1, line 1",
            "SLO 'localhost-availability' is defined twice (first in a.yaml document 3, line 28)",
        ),
    ]


@pytest.mark.parametrize(
    ("query", "mode", "expected"),
    [
        ('ci_runs_total{result="ok"}', "increase", 'sum(increase(ci_runs_total{result="ok"}[1h]))'),
        ("sum(x_total)", "increase", "sum(increase((sum(x_total))[1h:1m]))"),
        ("sum(rate(x_total[{{.window}}]))", "rate", "(sum(rate(x_total[1h]))) * 3600"),
        ("sum(increase(x_total[{{.window}}]))", "events", "sum(increase(x_total[1h]))"),
    ],
)
def test_each_query_gives_the_events_of_the_hour_ending_at_the_sample(query, mode, expected):
    assert hourly_query(query, mode) == expected
