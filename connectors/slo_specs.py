"""SLO definitions as files: OpenSLO v1 and Sloth ``prometheus/v1`` YAML, into one normalized shape.

OpenSLO v1 (``OpenSLO/OpenSLO`` README): documents ``apiVersion: openslo/v1``; ``kind: SLO`` with
``metadata{name, labels}``, ``spec{service, indicator{metadata, spec} | indicatorRef, timeWindow[1]
{duration, isRolling | calendar}, budgetingMethod, objectives[]{target | targetPercent}}``; the SLI
(inline, or a ``kind: SLI`` document anywhere in the files read) is a ``ratioMetric{counter, good | bad
{metricSource{type, spec{query}}}, total{...}}``. Other kinds (Service, DataSource, AlertPolicy) are
skipped. A thresholdMetric or raw ratio SLI is not evaluated (quarantined with that reason).

Sloth (``slok/sloth`` examples, ``version: "prometheus/v1"``): ``service, labels, slos[]{name,
objective (percent), labels, sli.events{error_query, total_query}}``; queries are per-second rates over
``{{.window}}``. ``sli.raw`` and ``sli.plugin`` are quarantined.

Each SLO becomes one :class:`SloSpec` (id ``<source>:slo:<name>``; a Sloth SLO's name is Sloth's own
id, ``<service>-<name>``). How its queries are turned into events per hour is :func:`hourly_query`.
A file or document that cannot be used becomes a :class:`SpecError` (file, position, reason) and the
other SLOs are kept. Pure Python, no Dagster.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

WINDOW = "{{.window}}"
# A bare instant-vector selector (metric name and optional label matchers): increase() can take it.
_SELECTOR = re.compile(r"^\s*[A-Za-z_:][\w:]*\s*(\{[^{}]*\})?\s*$")
SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class SloSpec:
    """One SLO: what is measured (numerator good or bad, and total) and the objective as a ratio."""

    slo_id: str
    source: str  #: openslo | sloth
    name: str
    service: str
    objective: float  #: target share of good events, e.g. 0.999
    time_window: str | None  #: the spec's own window (e.g. 28d); the KPIs use calendar months
    budgeting_method: str | None
    good_query: str | None
    bad_query: str | None
    total_query: str
    #: how a query gives events per hour: increase (a counter selector), rate (per second over
    #: ``{{.window}}``, Sloth), events (the query already counts an hour's events)
    query_mode: str
    labels: dict[str, str] = field(default_factory=dict)
    file: str = ""
    position: str = ""

    def record(self) -> dict[str, Any]:
        return {
            "slo_id": self.slo_id,
            "source": self.source,
            "name": self.name,
            "service": self.service,
            "objective": repr(self.objective),
            "time_window": self.time_window,
            "budgeting_method": self.budgeting_method,
            "good_query": self.good_query,
            "bad_query": self.bad_query,
            "total_query": self.total_query,
            "query_mode": self.query_mode,
            "labels": json.dumps(self.labels, sort_keys=True),
            "_file": self.file,
            "_position": self.position,
        }


@dataclass(frozen=True)
class SpecError:
    file: str
    position: str
    record_key: str | None
    reason: str

    def record(self) -> dict[str, Any]:
        return {
            "_file": self.file,
            "_position": self.position,
            "record_key": self.record_key,
            "error": self.reason,
        }


class _Invalid(ValueError):
    """A document that is not a usable SLO; the message is the reason."""


def hourly_query(query: str, mode: str) -> str:
    """The PromQL whose value at an hour's end is the events of that hour (step 1h).

    increase: ``sum(increase(<selector>[1h]))``; a counter expression that is not a bare selector is
    read through a 1-minute subquery (exact for sums of counters without resets). rate: Sloth's
    per-second rate over ``{{.window}}`` = 1h, times 3600. events: the query as written (``{{.window}}``
    = 1h)."""
    text = query.strip().replace(WINDOW, "1h")
    if mode == "rate":
        return f"({text}) * 3600"
    if mode == "increase":
        if _SELECTOR.match(text):
            return f"sum(increase({text}[1h]))"
        return f"sum(increase(({text})[1h:1m]))"
    return text


def spec_files(paths: Iterable[Path]) -> list[Path]:
    """Every .yaml/.yml file under ``paths`` (files or folders), sorted, without duplicates."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(p for p in path.rglob("*") if p.suffix.lower() in SPEC_SUFFIXES and p.is_file())
        elif path.is_file():
            found.add(path)
    return sorted(found)


def _documents(path: Path) -> tuple[list[tuple[Any, yaml.Node]], SpecError | None]:
    """The file's YAML documents with their nodes (for line numbers); a syntax error stops the file
    there (the documents before it are kept) and is returned with its line and column."""
    docs: list[tuple[Any, yaml.Node]] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return docs, SpecError(path.name, "file", None, f"cannot be read: {exc}")
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            docs.append((loader.construct_document(node), node))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        reason = f"is not valid YAML: {getattr(exc, 'problem', None) or exc}"
        return docs, SpecError(path.name, where, None, reason)
    finally:
        loader.dispose()
    return docs, None


def _line(node: yaml.Node | None, *keys: str | int) -> int | None:
    """The 1-based line of the value at ``keys`` inside ``node`` (the node's own line if not found)."""
    for key in keys:
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            node = next((v for k, v in node.value if getattr(k, "value", None) == key), node)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
    return node.start_mark.line + 1 if node is not None else None


def _text(value: Any, what: str) -> str:
    if value is None or isinstance(value, dict | list) or not str(value).strip():
        raise _Invalid(f"{what} is missing")
    return str(value).strip()


def _labels(*maps: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for labels in maps:
        if isinstance(labels, dict):
            for key, value in labels.items():
                # OpenSLO labels may be lists (team: [green, orange]); keep them joined
                out[str(key)] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return out


def _ratio_target(objective: dict[str, Any]) -> float:
    if "target" in objective and objective["target"] is not None:
        value, scale, what = objective["target"], 1.0, "objectives[0].target"
    elif "targetPercent" in objective and objective["targetPercent"] is not None:
        value, scale, what = objective["targetPercent"], 100.0, "objectives[0].targetPercent"
    else:
        raise _Invalid("objectives[0] has neither target nor targetPercent")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"{what} {value!r} is not a number")
    if not 0 < value < scale:
        raise _Invalid(f"{what} {value!r} is outside (0, {scale:g})")
    return round(float(value) / scale, 12)  # 99.99 / 100 is 0.9998999999999999 in binary


def _metric_query(side: Any, what: str) -> str:
    source = (side or {}).get("metricSource") if isinstance(side, dict) else None
    if not isinstance(source, dict):
        raise _Invalid(f"{what}.metricSource is missing")
    kind = source.get("type")
    if kind is not None and str(kind).lower() != "prometheus":
        raise _Invalid(
            f"{what}.metricSource.type {kind!r} is not Prometheus (only Prometheus queries are evaluated)"
        )
    spec = source.get("spec") or {}
    query = spec.get("query") or spec.get("promql") if isinstance(spec, dict) else None
    return _text(query, f"{what}.metricSource.spec.query")


def _openslo_sli(sli: Any) -> tuple[str | None, str | None, str, str]:
    """(good, bad, total, mode) of an SLI document's spec."""
    spec = sli.get("spec") if isinstance(sli, dict) else None
    if not isinstance(spec, dict):
        raise _Invalid("indicator.spec is missing")
    ratio = spec.get("ratioMetric")
    if not isinstance(ratio, dict):
        kind = "thresholdMetric" if "thresholdMetric" in spec else "no ratioMetric"
        raise _Invalid(f"indicator has {kind}: only ratioMetric good/total or bad/total SLIs are evaluated")
    if "raw" in ratio:
        raise _Invalid(
            "indicator.ratioMetric.raw (a precomputed ratio) is not evaluated: use good/total or bad/total"
        )
    has_good, has_bad = ratio.get("good") is not None, ratio.get("bad") is not None
    if has_good == has_bad:
        raise _Invalid("indicator.ratioMetric needs exactly one of good and bad")
    good = _metric_query(ratio["good"], "ratioMetric.good") if has_good else None
    bad = _metric_query(ratio["bad"], "ratioMetric.bad") if has_bad else None
    total = _metric_query(ratio.get("total"), "ratioMetric.total")
    # counter: true (the README's examples) -> increase per hour; false -> the query counts an hour
    mode = "events" if ratio.get("counter") is False else "increase"
    return good, bad, total, mode


def _openslo_slo(doc: dict[str, Any], slis: dict[str, dict[str, Any]], file: str, position: str) -> SloSpec:
    meta = doc.get("metadata") or {}
    name = _text(meta.get("name") if isinstance(meta, dict) else None, "metadata.name")
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        raise _Invalid("spec is missing")
    service = _text(spec.get("service"), "spec.service")
    if spec.get("indicator") is not None:
        sli = spec["indicator"]
    elif spec.get("indicatorRef") is not None:
        ref = str(spec["indicatorRef"])
        if ref not in slis:
            raise _Invalid(f"indicatorRef {ref!r} names no kind: SLI document in the files read")
        sli = slis[ref]
    else:
        raise _Invalid("spec has neither indicator nor indicatorRef")
    good, bad, total, mode = _openslo_sli(sli)
    objectives = spec.get("objectives")
    if not isinstance(objectives, list) or not objectives or not isinstance(objectives[0], dict):
        raise _Invalid("spec.objectives is missing")
    windows = spec.get("timeWindow")
    window = (
        windows[0].get("duration")
        if isinstance(windows, list) and windows and isinstance(windows[0], dict)
        else None
    )
    return SloSpec(
        slo_id=f"openslo:slo:{name}",
        source="openslo",
        name=name,
        service=service,
        objective=_ratio_target(objectives[0]),
        time_window=str(window) if window else None,
        budgeting_method=spec.get("budgetingMethod"),
        good_query=good,
        bad_query=bad,
        total_query=total,
        query_mode=mode,
        labels=_labels(meta.get("labels")),
        file=file,
        position=position,
    )


def _sloth_slo(doc: dict[str, Any], slo: Any, file: str, position: str) -> SloSpec:
    service = _text(doc.get("service"), "service")
    if not isinstance(slo, dict):
        raise _Invalid("an slos[] entry is not a mapping")
    name = _text(slo.get("name"), "name")
    objective = slo.get("objective")
    if isinstance(objective, bool) or not isinstance(objective, int | float) or not 0 < objective < 100:
        raise _Invalid(f"objective {objective!r} is not a percentage in (0, 100)")
    sli = slo.get("sli") or {}
    events = sli.get("events") if isinstance(sli, dict) else None
    if not isinstance(events, dict):
        kind = next((k for k in ("raw", "plugin") if isinstance(sli, dict) and k in sli), None)
        raise _Invalid(f"sli.{kind} is not evaluated: use sli.events" if kind else "sli.events is missing")
    return SloSpec(
        slo_id=f"sloth:slo:{service}-{name}",
        source="sloth",
        name=f"{service}-{name}",
        service=service,
        objective=round(float(objective) / 100.0, 12),
        time_window="30d",  # Sloth's default SLO period
        budgeting_method="Occurrences",
        good_query=None,
        bad_query=_text(events.get("error_query"), "sli.events.error_query"),
        total_query=_text(events.get("total_query"), "sli.events.total_query"),
        query_mode="rate",
        labels=_labels(doc.get("labels"), slo.get("labels")),
        file=file,
        position=position,
    )


def read_specs(paths: Iterable[Path]) -> tuple[list[SloSpec], list[SpecError]]:
    """Every SLO of the spec files under ``paths`` and every problem found (file, position, reason).

    An SLO name met twice keeps the first (file order) and quarantines the others."""
    files = spec_files(paths)
    parsed: list[tuple[Path, list[tuple[Any, yaml.Node]]]] = []
    errors: list[SpecError] = []
    slis: dict[str, dict[str, Any]] = {}
    for path in files:
        docs, error = _documents(path)
        if error:
            errors.append(error)
        parsed.append((path, docs))
        for doc, _node in docs:
            if (
                isinstance(doc, dict)
                and doc.get("kind") == "SLI"
                and str(doc.get("apiVersion")) == "openslo/v1"
            ):
                name = (doc.get("metadata") or {}).get("name")
                if name:
                    slis.setdefault(str(name), doc)
    specs: list[SloSpec] = []
    seen: dict[str, str] = {}

    def keep(make, file: str, position: str, key: str | None) -> None:
        try:
            spec = make()
        except _Invalid as exc:
            errors.append(SpecError(file, position, key, str(exc)))
            return
        if spec.slo_id in seen:
            errors.append(
                SpecError(
                    file,
                    position,
                    spec.name,
                    f"SLO {spec.name!r} is defined twice (first in {seen[spec.slo_id]})",
                )
            )
            return
        seen[spec.slo_id] = f"{file} {position}"
        specs.append(spec)

    for path, docs in parsed:
        file = path.name
        for index, (doc, node) in enumerate(docs, start=1):
            if doc is None:
                continue
            position = f"document {index}, line {_line(node)}"
            if not isinstance(doc, dict):
                errors.append(
                    SpecError(file, position, None, "is not a mapping (an OpenSLO or Sloth document)")
                )
                continue
            if doc.get("version") is not None:
                if str(doc["version"]) != "prometheus/v1":
                    errors.append(
                        SpecError(
                            file, position, None, f"Sloth version {doc['version']!r} is not prometheus/v1"
                        )
                    )
                    continue
                slos = doc.get("slos")
                if not isinstance(slos, list) or not slos:
                    errors.append(SpecError(file, position, doc.get("service"), "slos is missing or empty"))
                    continue
                for i, slo in enumerate(slos):
                    where = f"document {index}, slos[{i}], line {_line(node, 'slos', i)}"
                    key = slo.get("name") if isinstance(slo, dict) else None
                    keep(
                        lambda doc=doc, slo=slo, where=where, file=file: _sloth_slo(doc, slo, file, where),
                        file,
                        where,
                        key,
                    )
                continue
            api = str(doc.get("apiVersion") or "")
            if not api.startswith("openslo/"):
                errors.append(
                    SpecError(
                        file,
                        position,
                        None,
                        "is neither OpenSLO (apiVersion openslo/v1) nor Sloth (version prometheus/v1)",
                    )
                )
                continue
            if doc.get("kind") != "SLO":
                continue  # SLI documents are read above; Service, DataSource, AlertPolicy are not needed
            name = (doc.get("metadata") or {}).get("name") if isinstance(doc.get("metadata"), dict) else None
            if api != "openslo/v1":
                errors.append(
                    SpecError(file, position, name, f"apiVersion {api!r} is not read (only openslo/v1)")
                )
                continue
            keep(
                lambda doc=doc, position=position, file=file: _openslo_slo(doc, slis, file, position),
                file,
                position,
                name,
            )
    return specs, errors
