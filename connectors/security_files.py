"""Security and compliance report files: scanner, policy, IaC and register outputs saved in a folder.

Everything lives under ``<files>/security/`` (one sub-folder per tool, see ``LAYOUT``). Each file is
read in the format its tool documents; a file (or a record inside it) that cannot be used becomes a
load error naming the file, the position inside it (a JSON path such as ``Results[0].Vulnerabilities[3]``
or a line number) and the reason, and every other file and record is still read.

Shapes, and where they come from:
- Trivy ``--format json`` (schema 2): ``{SchemaVersion, ArtifactName, CreatedAt, Results[]{Target,
  Vulnerabilities[]{VulnerabilityID, PkgName, InstalledVersion, FixedVersion, Severity, Status}}}``
  (aquasecurity/trivy ``pkg/types/report.go``, ``integration/testdata/*.json.golden``). Folder
  ``trivy/<service>/``: the folder is the scan series (lineage) of one service.
- GitHub ``GET /repos/{o}/{r}/dependabot/alerts`` and ``GET /repos/{o}/{r}/code-scanning/alerts``: a
  JSON array of alerts as the API returns them (github/rest-api-description), in ``dependabot/`` and
  ``code_scanning/``. The repository is read from each alert's ``url``.
- Conftest ``--output json``: an array of ``{filename, namespace, successes, warnings[], failures[],
  exceptions[], skipped[]}`` (open-policy-agent/conftest ``output/result.go``, docs/options.md). Folder
  ``conftest/<service>/<YYYY-MM-DD>_<subject>.json``: one evaluated change or pipeline run per file;
  Conftest writes no time, so the name carries the day.
- Kyverno ``PolicyReport`` / ``ClusterPolicyReport`` (``wgpolicyk8s.io/v1alpha2``: ``results[]{policy,
  rule, result, severity, timestamp{seconds}, resources[], properties}``, kyverno PolicyReportResult Go
  types), one or more YAML documents (or a ``kind: List``) per file in ``kyverno/``. Reports hold the
  current state only: save one per day and each day's results are that day's evaluations.
- ``terraform show -json`` of a (refresh-only) plan: ``resource_drift[]``, ``resource_changes[]``,
  ``prior_state.values.root_module{resources[], child_modules[]}`` and ``timestamp`` (Terraform 1.5+;
  hashicorp terraform docs internals/json-format). Folder ``terraform/<workspace>/``.
- HCP Terraform ``GET /api/v2/assessment-results/:id`` (JSON:API ``data.attributes{drifted, succeeded,
  created-at, resources-drifted, resources-undrifted}``), saved in ``hcp_assessments/<workspace>/``.
- GitHub ``GET /orgs/{org}/attestations/{subject_digest}``: ``{attestations[]{bundle{mediaType,
  dsseEnvelope{payload (base64 in-toto statement), payloadType, signatures[]}}, repository_id}}``, in
  ``attestations/``. An attestation counts when its statement is SLSA provenance for the digest.
- ``waivers.yaml`` (a list, or ``{waivers: [...]}``) or ``waivers.csv``: id, policy, service, reason,
  approver, created, expires, closed.
- ``deployment_artifacts.csv`` (deployment_id, artifact_digest) and ``provisioning.csv`` (request_id,
  service, requested_at, ready_at).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SOURCE = "security"
FOLDER = "security"
LAYOUT = {
    "trivy": "trivy/<service>/*.json",
    "dependabot": "dependabot/*.json",
    "code_scanning": "code_scanning/*.json",
    "conftest": "conftest/<service>/<YYYY-MM-DD>_<subject>.json",
    "kyverno": "kyverno/*.yaml",
    "terraform": "terraform/<workspace>/*.json",
    "hcp_assessments": "hcp_assessments/<workspace>/*.json",
    "attestations": "attestations/*.json",
    "waivers": "waivers.yaml | waivers.csv",
    "deployment_artifacts": "deployment_artifacts.csv",
    "provisioning": "provisioning.csv",
}
LOAD_ERROR_COLUMNS = ("source", "entity", "_file", "position", "reason", "record")
SLSA_PREFIX = "https://slsa.dev/provenance/"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass
class SecurityLoad:
    """What the folder gave: rows per raw table (without the ``security__`` prefix) and load errors."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    files: int = 0

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)

    def error(self, entity: str, file: str, position: str, reason: str, record: Any = None) -> None:
        text = record if isinstance(record, str) or record is None else json.dumps(record, default=str)
        self.errors.append(
            {
                "source": SOURCE,
                "entity": entity,
                "_file": file,
                "position": position,
                "reason": reason,
                "record": None if text is None else text[:2000],
            }
        )


class BadRecord(ValueError):
    """A record that cannot be used; the message is the reason."""


def timestamp(value: Any, what: str) -> str:
    """An RFC 3339 / ISO time (any offset, nanoseconds allowed) as naive UTC ISO text."""
    if value is None or value == "":
        raise BadRecord(f"{what} is missing")
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    else:
        text = str(value).strip()
        # Trivy writes nanoseconds; Python reads at most microseconds.
        text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00").replace("z", "+00:00")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise BadRecord(f"{what} is not a date-time: {str(value)[:60]!r}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed.isoformat(sep=" ")


def _optional_time(value: Any, what: str) -> str | None:
    return None if value in (None, "") else timestamp(value, what)


def _read_json(path: Path, rel: str, entity: str, load: SecurityLoad) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        load.error(entity, rel, f"byte {exc.start}", "not UTF-8 text")
    except json.JSONDecodeError as exc:
        load.error(entity, rel, f"line {exc.lineno} column {exc.colno}", f"not JSON: {exc.msg}")
    return None


def _files(root: Path, sub: str, pattern: str = "*.json") -> list[Path]:
    folder = root / sub
    return sorted(p for p in folder.rglob(pattern) if p.is_file()) if folder.is_dir() else []


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


# --- Trivy -------------------------------------------------------------------------------------------


def read_trivy(root: Path, load: SecurityLoad) -> None:
    for path in _files(root, "trivy"):
        rel = _rel(path, root)
        parts = path.relative_to(root / "trivy").parts
        doc = _read_json(path, rel, "trivy", load)
        load.files += 1
        if doc is None:
            continue
        if not isinstance(doc, dict) or "Results" not in doc and "SchemaVersion" not in doc:
            load.error(
                "trivy",
                rel,
                "$",
                "not a Trivy JSON report (schema 2: an object with SchemaVersion and Results)",
            )
            continue
        lineage = parts[0] if len(parts) > 1 else None
        artifact = doc.get("ArtifactName")
        if lineage is None:
            if not artifact:
                load.error(
                    "trivy", rel, "$", "no service: put the file in trivy/<service>/ (no ArtifactName either)"
                )
                continue
            # trivy/<file> without a folder: the image repository's last path segment names the service
            lineage = re.split(r"[:@]", str(artifact).rsplit("/", 1)[-1])[0]
        try:
            scanned_at = timestamp(doc.get("CreatedAt"), "CreatedAt")
        except BadRecord as exc:
            load.error("trivy", rel, "$.CreatedAt", f"{exc} (Trivy 0.48+ writes it; a scan series needs it)")
            continue
        found = 0
        for i, result in enumerate(doc.get("Results") or []):
            for j, vuln in enumerate((result or {}).get("Vulnerabilities") or []):
                position = f"Results[{i}].Vulnerabilities[{j}]"
                if not isinstance(vuln, dict) or not vuln.get("VulnerabilityID") or not vuln.get("PkgName"):
                    load.error(
                        "trivy", rel, position, "a vulnerability needs VulnerabilityID and PkgName", vuln
                    )
                    continue
                found += 1
                load.add(
                    "security__trivy_vulnerabilities",
                    {
                        "_file": rel,
                        "_position": position,
                        "lineage": lineage,
                        "scanned_at": scanned_at,
                        "target": result.get("Target"),
                        "vulnerability_id": vuln["VulnerabilityID"],
                        "pkg_name": vuln["PkgName"],
                        "installed_version": vuln.get("InstalledVersion"),
                        "fixed_version": vuln.get("FixedVersion") or None,
                        "severity": vuln.get("Severity"),
                        "status": vuln.get("Status"),
                        "_record": json.dumps(vuln),
                    },
                )
        load.add(
            "security__trivy_scans",
            {
                "_file": rel,
                "lineage": lineage,
                "artifact_name": artifact,
                "report_id": doc.get("ReportID"),
                "scanned_at": scanned_at,
                "vulnerabilities": found,
            },
        )


# --- GitHub Dependabot and code scanning ---------------------------------------------------------------

_REPO_IN_URL = re.compile(r"/repos/([^/]+/[^/]+)/(?:dependabot|code-scanning)/alerts/\d+")


def alert_row(alert: dict[str, Any], tool: str, file: str, position: str) -> dict[str, Any]:
    """One Dependabot or code-scanning alert as a raw row (times normalized; BadRecord if unusable)."""
    if not isinstance(alert, dict) or alert.get("number") is None:
        raise BadRecord("an alert needs a number")
    match = _REPO_IN_URL.search(str(alert.get("url") or ""))
    if not match:
        raise BadRecord("url does not name the repository (…/repos/{owner}/{repo}/…/alerts/{number})")
    if tool == "dependabot":
        severity = (alert.get("security_vulnerability") or {}).get("severity") or (
            alert.get("security_advisory") or {}
        ).get("severity")
        rule = (alert.get("security_advisory") or {}).get("cve_id") or (
            alert.get("security_advisory") or {}
        ).get("ghsa_id")
    else:
        rule_doc = alert.get("rule") or {}
        severity = rule_doc.get("security_severity_level")
        rule = rule_doc.get("id")
    return {
        "_file": file,
        "_position": position,
        "tool": tool,
        "repo": match.group(1),
        "number": int(alert["number"]),
        "rule": rule,
        "state": alert.get("state"),
        "severity": severity,
        "created_at": timestamp(alert.get("created_at"), "created_at"),
        "fixed_at": _optional_time(alert.get("fixed_at"), "fixed_at"),
        "dismissed_at": _optional_time(
            alert.get("dismissed_at") or alert.get("auto_dismissed_at"), "dismissed_at"
        ),
        "dismissed_reason": alert.get("dismissed_reason"),
        "html_url": alert.get("html_url"),
        "updated_at": _optional_time(alert.get("updated_at"), "updated_at"),
        "_record": json.dumps(alert),
    }


def read_alerts(root: Path, load: SecurityLoad) -> None:
    for tool, sub in (("dependabot", "dependabot"), ("code_scanning", "code_scanning")):
        for path in _files(root, sub):
            rel = _rel(path, root)
            doc = _read_json(path, rel, tool, load)
            load.files += 1
            if doc is None:
                continue
            if not isinstance(doc, list):
                load.error(tool, rel, "$", "expected the API's JSON array of alerts")
                continue
            for i, alert in enumerate(doc):
                try:
                    load.add("security__github_alerts", alert_row(alert, tool, rel, f"[{i}]"))
                except BadRecord as exc:
                    load.error(tool, rel, f"[{i}]", str(exc), alert)


# --- Conftest ----------------------------------------------------------------------------------------

_CONFTEST_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})_(.+)$")


def read_conftest(root: Path, load: SecurityLoad) -> None:
    for path in _files(root, "conftest"):
        rel = _rel(path, root)
        parts = path.relative_to(root / "conftest").parts
        load.files += 1
        name = _CONFTEST_NAME.match(path.stem)
        if len(parts) != 2 or not name:
            load.error(
                "conftest", rel, "file name", "expected conftest/<service>/<YYYY-MM-DD>_<subject>.json"
            )
            continue
        try:
            evaluated_at = timestamp(name.group(1), "the day in the file name")
        except BadRecord as exc:
            load.error("conftest", rel, "file name", str(exc))
            continue
        doc = _read_json(path, rel, "conftest", load)
        if doc is None:
            continue
        if not isinstance(doc, list):
            load.error(
                "conftest", rel, "$", "expected Conftest's JSON array of results (conftest test -o json)"
            )
            continue
        for i, result in enumerate(doc):
            if not isinstance(result, dict) or "successes" not in result:
                load.error(
                    "conftest", rel, f"[{i}]", "a result needs filename, namespace and successes", result
                )
                continue
            lists = {k: result.get(k) or [] for k in ("warnings", "failures", "exceptions", "skipped")}
            bad = [k for k, v in lists.items() if not isinstance(v, list)]
            if bad or not isinstance(result.get("successes"), int):
                load.error(
                    "conftest",
                    rel,
                    f"[{i}]",
                    f"successes must be a number and {', '.join(lists)} lists",
                    result,
                )
                continue
            load.add(
                "security__conftest_results",
                {
                    "_file": rel,
                    "_position": f"[{i}]",
                    "service": parts[0],
                    "subject_key": name.group(2),
                    "evaluated_at": evaluated_at,
                    "filename": result.get("filename"),
                    "namespace": result.get("namespace"),
                    "successes": result["successes"],
                    "failures": len(lists["failures"]),
                    "warnings": len(lists["warnings"]),
                    "exceptions": len(lists["exceptions"]),
                    "skipped": len(lists["skipped"]),
                    "_record": json.dumps(result),
                },
            )


# --- Kyverno PolicyReport / ClusterPolicyReport ---------------------------------------------------------

_REPORT_KINDS = {"PolicyReport", "ClusterPolicyReport"}


def kyverno_rows(doc: Any, file: str, where: str) -> tuple[list[dict[str, Any]], list[tuple[str, str, Any]]]:
    """Rows of one ``wgpolicyk8s.io/v1alpha2`` report (one per result and resource), and the results that
    cannot be used as (position, reason, record). A result's time is its ``timestamp.seconds``."""
    if not isinstance(doc, dict) or doc.get("kind") not in _REPORT_KINDS:
        raise BadRecord("not a PolicyReport or ClusterPolicyReport (wgpolicyk8s.io/v1alpha2)")
    meta = doc.get("metadata") or {}
    rows, bad = [], []
    for i, result in enumerate(doc.get("results") or []):
        position = f"{where}.results[{i}]"
        try:
            if not isinstance(result, dict) or result.get("result") not in (
                "pass",
                "fail",
                "warn",
                "error",
                "skip",
            ):
                raise BadRecord("result must be one of pass, fail, warn, error, skip")
            seconds = (result.get("timestamp") or {}).get("seconds")
            if not isinstance(seconds, int):
                raise BadRecord("timestamp.seconds is missing")
            when = dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
            resources = result.get("resources") or ([doc["scope"]] if doc.get("scope") else [])
            if not resources:
                raise BadRecord("names no resource (resources[] or the report's scope)")
        except BadRecord as exc:
            bad.append((position, str(exc), result))
            continue
        props = result.get("properties") or {}
        for res in resources:
            rows.append(
                {
                    "_file": file,
                    "_position": position,
                    "report_kind": doc["kind"],
                    "namespace": res.get("namespace") or meta.get("namespace"),
                    "resource_kind": res.get("kind"),
                    "resource_name": res.get("name"),
                    "policy": result.get("policy"),
                    "rule": result.get("rule"),
                    "result": result["result"],
                    # a result skipped because a PolicyException matched is an exception, not a pass
                    "is_exception": result["result"] == "skip"
                    and any("exception" in str(k).lower() for k in props)
                    or "exception" in str(result.get("message", "")).lower(),
                    "severity": result.get("severity"),
                    "evaluated_at": when,
                    "_record": json.dumps(result),
                }
            )
    return rows, bad


def read_kyverno(root: Path, load: SecurityLoad) -> None:
    for path in sorted([*_files(root, "kyverno", "*.yaml"), *_files(root, "kyverno", "*.yml")]):
        rel = _rel(path, root)
        load.files += 1
        try:
            docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1} column {mark.column + 1}" if mark else "$"
            load.error("kyverno", rel, where, f"not YAML: {getattr(exc, 'problem', None) or exc}")
            continue
        reports: list[tuple[str, Any]] = []
        for d, doc in enumerate(docs):
            if isinstance(doc, dict) and doc.get("kind") == "List":  # kubectl get policyreports -o yaml
                reports.extend(
                    (f"doc[{d}].items[{i}]", item) for i, item in enumerate(doc.get("items") or [])
                )
            elif doc is not None:
                reports.append((f"doc[{d}]", doc))
        for where, doc in reports:
            try:
                rows, bad = kyverno_rows(doc, rel, where)
            except BadRecord as exc:
                load.error("kyverno", rel, where, str(exc))
                continue
            for row in rows:
                load.add("security__kyverno_results", row)
            for position, reason, record in bad:
                load.error("kyverno", rel, position, reason, record)


# --- Terraform ---------------------------------------------------------------------------------------


def _managed_addresses(module: dict[str, Any]) -> Iterable[str]:
    """Managed resource addresses of a state module and all its child modules, however deep."""
    for res in module.get("resources") or []:
        if res.get("mode", "managed") == "managed":
            yield res["address"]
    for child in module.get("child_modules") or []:
        yield from _managed_addresses(child)


def plan_row(doc: Any, workspace: str, file: str, fallback_day: str | None) -> dict[str, Any]:
    if not isinstance(doc, dict) or "format_version" not in doc:
        raise BadRecord("not `terraform show -json` plan output (no format_version)")
    when = doc.get("timestamp") or fallback_day
    assessed_at = timestamp(when, "timestamp (or a YYYY-MM-DD file name)")
    prior = ((doc.get("prior_state") or {}).get("values") or {}).get("root_module") or {}
    managed = set(_managed_addresses(prior))
    drift = doc.get("resource_drift") or []
    drifted = sorted(
        {
            d["address"]
            for d in drift
            if d.get("mode", "managed") == "managed"
            and set((d.get("change") or {}).get("actions") or []) & {"update", "delete"}
        }
    )
    # A resource deleted outside Terraform may be gone from prior_state: it was managed all the same.
    managed |= set(drifted)
    return {
        "_file": file,
        "source": "plan_json",
        "workspace": workspace,
        "assessed_at": assessed_at,
        "succeeded": True,
        "managed_resources": len(managed),
        "drifted_resources": len(drifted),
        "drifted_addresses": drifted,
        "_record": json.dumps({"terraform_version": doc.get("terraform_version"), "resource_drift": drift}),
    }


def hcp_row(doc: Any, workspace: str, file: str) -> dict[str, Any]:
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict) or data.get("type") != "assessment-results":
        raise BadRecord("not an HCP Terraform assessment result (data.type assessment-results)")
    attrs = data.get("attributes") or {}
    drifted, undrifted = attrs.get("resources-drifted"), attrs.get("resources-undrifted")
    if not isinstance(drifted, int) or not isinstance(undrifted, int):
        raise BadRecord("attributes resources-drifted and resources-undrifted must be numbers")
    return {
        "_file": file,
        "source": "hcp_terraform",
        "workspace": workspace,
        "assessed_at": timestamp(attrs.get("created-at"), "attributes.created-at"),
        "succeeded": bool(attrs.get("succeeded")),
        "managed_resources": drifted + undrifted,
        "drifted_resources": drifted,
        "drifted_addresses": [],
        "_record": json.dumps(data),
    }


def read_terraform(root: Path, load: SecurityLoad) -> None:
    for sub, entity in (("terraform", "terraform"), ("hcp_assessments", "hcp_assessments")):
        for path in _files(root, sub):
            rel = _rel(path, root)
            parts = path.relative_to(root / sub).parts
            load.files += 1
            if len(parts) != 2:
                load.error(entity, rel, "file name", f"expected {LAYOUT[entity]}")
                continue
            doc = _read_json(path, rel, entity, load)
            if doc is None:
                continue
            day = path.stem[:10] if re.match(r"\d{4}-\d{2}-\d{2}", path.stem) else None
            try:
                row = plan_row(doc, parts[0], rel, day) if sub == "terraform" else hcp_row(doc, parts[0], rel)
            except BadRecord as exc:
                load.error(entity, rel, "$", str(exc))
                continue
            load.add("security__terraform_assessments", row)


# --- attestations ------------------------------------------------------------------------------------


def provenance_digests(doc: Any) -> tuple[set[str], int]:
    """The sha256 digests a GitHub attestations response proves SLSA build provenance for, and how many
    attestations it held. The statement is read from each bundle's DSSE envelope."""
    attestations = doc.get("attestations") if isinstance(doc, dict) else None
    if not isinstance(attestations, list):
        raise BadRecord("expected the API's {attestations: [...]} response")
    digests: set[str] = set()
    for item in attestations:
        envelope = ((item or {}).get("bundle") or {}).get("dsseEnvelope") or {}
        if not envelope.get("signatures"):
            continue  # unsigned: not provenance anyone can verify
        try:
            statement = json.loads(base64.b64decode(envelope.get("payload") or ""))
        except (ValueError, TypeError):
            continue
        if not str(statement.get("predicateType", "")).startswith(SLSA_PREFIX):
            continue
        for subject in statement.get("subject") or []:
            sha = ((subject or {}).get("digest") or {}).get("sha256")
            if sha:
                digests.add(f"sha256:{sha.lower()}")
    return digests, len(attestations)


def read_attestations(root: Path, load: SecurityLoad) -> None:
    for path in _files(root, "attestations"):
        rel = _rel(path, root)
        load.files += 1
        doc = _read_json(path, rel, "attestations", load)
        if doc is None:
            continue
        try:
            digests, n = provenance_digests(doc)
        except BadRecord as exc:
            load.error("attestations", rel, "$", str(exc))
            continue
        for digest in sorted(digests):
            load.add("security__attestations", {"_file": rel, "subject_digest": digest, "attestations": n})


# --- registers and CSV files -------------------------------------------------------------------------

WAIVER_FIELDS = ("id", "policy", "service", "reason", "approver", "created", "expires", "closed")


def _csv_rows(
    path: Path, rel: str, entity: str, load: SecurityLoad, required: tuple[str, ...]
) -> Iterable[tuple[int, dict]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        load.error(entity, rel, f"byte {exc.start}", "not UTF-8 text")
        return
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        load.error(entity, rel, "line 1", f"missing column(s) {', '.join(missing)}")
        return
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            load.error(entity, rel, f"line {line}", "wrong number of fields", row)
            continue
        yield line, {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()}


def _waiver_row(rec: Any, file: str, position: str) -> dict[str, Any]:
    if not isinstance(rec, dict):
        raise BadRecord("a waiver is a mapping of id, policy, service, reason, approver, created, expires")
    for key in ("id", "policy", "service", "created"):
        if rec.get(key) in (None, ""):
            raise BadRecord(f"{key} is missing")
    created = timestamp(rec["created"], "created")
    expires = _optional_time(rec.get("expires"), "expires")
    closed = _optional_time(rec.get("closed"), "closed")
    if expires is not None and expires < created:
        raise BadRecord("expires is before created")
    return {
        "_file": file,
        "_position": position,
        "waiver_id": str(rec["id"]),
        "policy": str(rec["policy"]),
        "service": str(rec["service"]),
        "reason": rec.get("reason"),
        "approver": rec.get("approver"),
        "created_at": created,
        "expires_at": expires,
        "closed_at": closed,
        "_record": json.dumps(rec, default=str),
    }


def read_waivers(root: Path, load: SecurityLoad) -> None:
    for path in sorted(root.glob("waivers.y*ml")):
        rel = _rel(path, root)
        load.files += 1
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1} column {mark.column + 1}" if mark else "$"
            load.error("waivers", rel, where, f"not YAML: {getattr(exc, 'problem', None) or exc}")
            continue
        items = doc.get("waivers") if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            load.error("waivers", rel, "$", "expected a list of waivers (or waivers: [...])")
            continue
        for i, rec in enumerate(items):
            try:
                load.add("security__waivers", _waiver_row(rec, rel, f"waivers[{i}]"))
            except BadRecord as exc:
                load.error("waivers", rel, f"waivers[{i}]", str(exc), rec)
    for path in sorted(root.glob("waivers.csv")):
        rel = _rel(path, root)
        load.files += 1
        for line, rec in _csv_rows(path, rel, "waivers", load, ("id", "policy", "service", "created")):
            try:
                load.add("security__waivers", _waiver_row(rec, rel, f"line {line}"))
            except BadRecord as exc:
                load.error("waivers", rel, f"line {line}", str(exc), rec)


def read_artifacts(root: Path, load: SecurityLoad) -> None:
    path = root / "deployment_artifacts.csv"
    if not path.is_file():
        return
    rel = _rel(path, root)
    load.files += 1
    for line, rec in _csv_rows(path, rel, "deployment_artifacts", load, ("deployment_id", "artifact_digest")):
        digest = (rec["artifact_digest"] or "").lower() or None
        if not rec["deployment_id"]:
            load.error("deployment_artifacts", rel, f"line {line}", "deployment_id is missing", rec)
            continue
        if digest is not None and not _DIGEST.match(digest):
            load.error(
                "deployment_artifacts", rel, f"line {line}", "artifact_digest is not sha256:<64 hex>", rec
            )
            continue
        load.add(
            "security__deployment_artifacts",
            {"_file": rel, "_line": line, "deployment_key": rec["deployment_id"], "artifact_digest": digest},
        )


def read_provisioning(root: Path, load: SecurityLoad) -> None:
    path = root / "provisioning.csv"
    if not path.is_file():
        return
    rel = _rel(path, root)
    load.files += 1
    for line, rec in _csv_rows(
        path, rel, "provisioning", load, ("request_id", "service", "requested_at", "ready_at")
    ):
        try:
            requested = timestamp(rec["requested_at"], "requested_at")
            ready = _optional_time(rec["ready_at"], "ready_at")
            if ready is not None and ready < requested:
                raise BadRecord("ready_at is before requested_at")
        except BadRecord as exc:
            load.error("provisioning", rel, f"line {line}", str(exc), rec)
            continue
        load.add(
            "security__provisioning_requests",
            {
                "_file": rel,
                "_line": line,
                "request_id": rec["request_id"],
                "service": rec["service"],
                "requested_at": requested,
                "ready_at": ready,
            },
        )


READERS = (
    read_trivy,
    read_alerts,
    read_conftest,
    read_kyverno,
    read_terraform,
    read_attestations,
    read_waivers,
    read_artifacts,
    read_provisioning,
)


def read_security_folder(files_dir: Path | None) -> SecurityLoad:
    """Every security report under ``<files_dir>/security`` (nothing when the folder is absent)."""
    load = SecurityLoad()
    root = files_dir / FOLDER if files_dir is not None else None
    if root is None or not root.is_dir():
        return load
    for reader in READERS:
        reader(root, load)
    return load
