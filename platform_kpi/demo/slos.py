"""The demo organisation's SLOs: spec files for three platform services and their daily results.

The demo has no Prometheus, so it writes what an evaluation would have produced as
``<files>/slos/results.csv`` (slo_id, day, good_events, total_events, hours_with_data), beside the spec
files the product reads for real: ``platform-openslo.yaml`` (OpenSLO v1: CI build success by
indicatorRef, cluster API availability with an inline bad/total SLI) and ``artifacts-sloth.yaml``
(Sloth prometheus/v1: artifact repository availability). All three carry the label
``tier: platform`` that config/kpi.yaml ``slos.platform`` selects.

What the data shows: the platform's reliability improves over the two years. Early on the bad-event
rate hovers around each SLO's error budget, so several months are breached; later it falls to about a
third of the budget, with an occasional incident day. A few days have hours without data (a
Prometheus restart), visible as coverage below 1. The SLOs belong to the first three services of the
platform team (else of the first team) in ``services.csv``. Deterministic for a seed and cheap.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

# (name, kind, objective, events per day)
_SLOS = (
    ("ci-build-success", "CI", 0.99, 2_400),
    ("cluster-api-availability", "clusters", 0.995, 180_000),
    ("availability", "artifact repository", 0.999, 60_000),
)


def _platform_services(files_dir: Path) -> list[tuple[str, str]]:
    with (files_dir / "services.csv").open(newline="", encoding="utf-8") as f:
        rows = [(r["service"], r["team"]) for r in csv.DictReader(f) if r.get("service") and r.get("team")]
    team = "platform" if any(t == "platform" for _, t in rows) else rows[0][1]
    own = sorted(s for s, t in rows if t == team)
    return [(own[i % len(own)], team) for i in range(3)]


def _openslo(ci_service: str, cluster_service: str) -> str:
    return f"""\
# OpenSLO v1 (github.com/OpenSLO/OpenSLO): the CI and cluster SLOs of the platform team.
apiVersion: openslo/v1
kind: SLI
metadata:
  name: ci-build-success-ratio
spec:
  description: Pipeline runs on the shared runners that did not fail for an infrastructure reason.
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: Prometheus
        spec:
          query: ci_pipeline_runs_total{{outcome!="infra_failure"}}
    total:
      metricSource:
        type: Prometheus
        spec:
          query: ci_pipeline_runs_total
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: ci-build-success
  displayName: CI builds are not failed by the platform
  labels:
    tier: platform
    component: ci
spec:
  service: {ci_service}
  indicatorRef: ci-build-success-ratio
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: CI availability
      targetPercent: 99
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: cluster-api-availability
  displayName: Kubernetes API answers without server errors
  labels:
    tier: platform
    component: clusters
spec:
  service: {cluster_service}
  indicator:
    metadata:
      name: cluster-api-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: sum(apiserver_request_total{{code=~"5.."}})
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(apiserver_request_total)
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.995
"""


def _sloth(service: str) -> str:
    return f"""\
# Sloth (github.com/slok/sloth) prometheus/v1: the artifact repository's availability.
version: "prometheus/v1"
service: "{service}"
labels:
  tier: "platform"
  component: "artifact-repository"
slos:
  - name: "availability"
    objective: 99.9
    description: "Artifact downloads and uploads answer without a server error."
    sli:
      events:
        error_query: sum(rate(artifact_http_requests_total{{code=~"(5..|429)"}}[{{{{.window}}}}]))
        total_query: sum(rate(artifact_http_requests_total[{{{{.window}}}}]))
    alerting:
      name: ArtifactRepositoryHighErrorRate
      page_alert:
        disable: true
      ticket_alert:
        disable: true
"""


def generate_slos(files_dir: Path, *, months: int = 24, seed: int = 7, today: dt.date) -> dict[str, int]:
    """Write ``files_dir/slos`` (three spec files' worth of SLOs and results.csv); returns counts."""
    rng = np.random.default_rng(seed + 1516)
    (ci, _), (clusters, _), (artifacts, _) = _platform_services(files_dir)
    folder = files_dir / "slos"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "platform-openslo.yaml").write_text(_openslo(ci, clusters), encoding="utf-8")
    (folder / "artifacts-sloth.yaml").write_text(_sloth(artifacts), encoding="utf-8")
    ids = (
        "openslo:slo:ci-build-success",
        "openslo:slo:cluster-api-availability",
        f"sloth:slo:{artifacts}-availability",
    )

    start = dt.date(today.year, today.month, 1)
    for _ in range(months):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    days = [start + dt.timedelta(days=i) for i in range((today - start).days)]
    progress = np.linspace(0.0, 1.0, len(days))
    rows = []
    for slo_id, (_, _, objective, per_day) in zip(ids, _SLOS, strict=True):
        budget = 1.0 - objective
        # bad share per day: about the budget at first, about a third of it at the end, noisy
        bad_share = budget * (1.05 - 0.7 * progress) * rng.lognormal(-0.08, 0.4, len(days))
        incidents = rng.random(len(days)) < 0.02  # an incident day burns several days of budget
        bad_share = np.where(incidents, bad_share * rng.uniform(3, 8, len(days)), bad_share)
        hours = np.where(rng.random(len(days)) < 0.01, rng.integers(14, 23, len(days)), 24)
        totals = np.round(per_day * rng.uniform(0.85, 1.15, len(days)) * hours / 24)
        bad = np.minimum(np.round(totals * bad_share), totals)
        for i, day in enumerate(days):
            rows.append((slo_id, day.isoformat(), int(totals[i] - bad[i]), int(totals[i]), int(hours[i])))
    with (folder / "results.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["slo_id", "day", "good_events", "total_events", "hours_with_data"])
        writer.writerows(rows)
    return {"slos": len(ids), "slo_results": len(rows)}
