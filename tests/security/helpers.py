"""Helpers of the security tests: a warehouse built the way the refresh job builds it (canonical
files, config tables, cost and security sources, every SQL model), and payloads shaped like the
tools' documented outputs."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from connectors.files import ENTITIES
from platform_kpi.config import load_config
from platform_kpi.costs import load_cost_sources
from platform_kpi.loading import load_file_entity, write_config_tables, write_load_errors
from platform_kpi.models import discover_models, execute_model, needed_for
from platform_kpi.security import load_security_files
from platform_kpi.settings import DEFAULT_CONFIG
from platform_kpi.warehouse import read_connection, write_connection

SERVICES = "service,team,repo\napi,payments,acme/api\nweb,payments,acme/web\nindexer,search,acme/indexer\n"
TARGETS = {("marts", "kpi_monthly"), ("ops", "quarantine")}
_MODELS = needed_for(discover_models(), set(TARGETS))


def build_security_warehouse(
    tmp_path: Path,
    files: dict[str, str | bytes],
    *,
    as_of: dt.datetime,
    kpi_yaml_extra: str = "",
    name: str = "wh",
) -> Path:
    files_dir = tmp_path / f"{name}-files"
    shutil.rmtree(files_dir, ignore_errors=True)
    files_dir.mkdir(parents=True)
    for rel, content in {"services.csv": SERVICES, **files}.items():
        path = files_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    config_dir = tmp_path / f"{name}-config"
    config_dir.mkdir(exist_ok=True)
    config_path = config_dir / "kpi.yaml"
    config_path.write_text(with_security_keys(DEFAULT_CONFIG.read_text(), kpi_yaml_extra))
    config = load_config(config_path)
    warehouse = tmp_path / f"{name}.duckdb"
    warehouse.unlink(missing_ok=True)
    with write_connection(warehouse) as con:
        errors = [load_file_entity(con, files_dir, entity)["load_errors"] for entity in ENTITIES]
        write_load_errors(con, errors)
        write_config_tables(con, config, as_of=as_of)
        load_cost_sources(con, config.costs, files_dir)
        load_security_files(con, files_dir, config.rules.security)
        from platform_kpi.raw import ensure_tables

        ensure_tables(con)
        for model in _MODELS:
            execute_model(con, model)
    return warehouse


def with_security_keys(config_text: str, keys: str) -> str:
    """The config text with ``keys`` (lines indented as keys of ``security:``) at the end of the
    security section, wherever that section stands in the file (later keys win)."""
    if not keys.strip():
        return config_text
    start = config_text.index("\nsecurity:\n")
    end = config_text.find("\n\n", start + 1)
    end = len(config_text) if end < 0 else end
    return config_text[:end] + "\n" + keys.strip("\n") + config_text[end:]


def query(warehouse: Path, sql: str, params: list | dict | None = None) -> list[dict[str, Any]]:
    with read_connection(warehouse) as con:
        cur = con.execute(sql, params) if params is not None else con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def kpi(
    warehouse: Path, kpi_id: str, month: str, scope_type: str = "org", scope: str = "all"
) -> dict[str, Any]:
    rows = query(
        warehouse,
        "select * from marts.kpi_monthly where kpi_id = $k and month = cast($m || '-01' as date) "
        "and scope_type = $t and scope = $s",
        {"k": kpi_id, "m": month, "t": scope_type, "s": scope},
    )
    assert len(rows) == 1, f"expected one row for {kpi_id} {month} {scope_type}/{scope}, got {rows}"
    return rows[0]


# --- documented shapes -----------------------------------------------------------------------------


def trivy_report(
    created_at: str, vulns: list[tuple[str, str, str]], artifact: str = "ghcr.io/acme/api:1"
) -> str:
    """A Trivy ``--format json`` report (schema 2) as aquasecurity/trivy writes it
    (integration/testdata/*.json.golden): vulns are (VulnerabilityID, PkgName, Severity)."""
    return json.dumps(
        {
            "SchemaVersion": 2,
            "CreatedAt": created_at,
            "ArtifactName": artifact,
            "ArtifactType": "container_image",
            "Metadata": {
                "OS": {"Family": "alpine", "Name": "3.19.1"},
                "ImageID": "sha256:ab12",
                "RepoTags": [artifact],
            },
            "Results": [
                {
                    "Target": f"{artifact} (alpine 3.19.1)",
                    "Class": "os-pkgs",
                    "Type": "alpine",
                    "Vulnerabilities": [
                        {
                            "VulnerabilityID": vid,
                            "PkgID": f"{pkg}@1.0.0-r0",
                            "PkgName": pkg,
                            "InstalledVersion": "1.0.0-r0",
                            "FixedVersion": "1.0.1-r0",
                            "Status": "fixed",
                            "Layer": {"DiffID": "sha256:dd"},
                            "SeveritySource": "nvd",
                            "PrimaryURL": f"https://avd.aquasec.com/nvd/{vid.lower()}",
                            "Title": "title",
                            "Severity": sev,
                        }
                        for vid, pkg, sev in vulns
                    ],
                }
            ],
        }
    )


def dependabot_alert(
    repo: str,
    number: int,
    severity: str,
    created_at: str,
    *,
    state: str = "open",
    fixed_at: str | None = None,
    dismissed_at: str | None = None,
    dismissed_reason: str | None = None,
    updated_at: str | None = None,
) -> dict[str, Any]:
    """A Dependabot alert as ``GET /repos/{o}/{r}/dependabot/alerts`` returns it (github/rest-api-description,
    components/schemas/dependabot-alert)."""
    return {
        "number": number,
        "state": state,
        "dependency": {
            "package": {"ecosystem": "npm", "name": "lodash"},
            "manifest_path": "package-lock.json",
            "scope": "runtime",
        },
        "security_advisory": {
            "ghsa_id": f"GHSA-{number:04d}-aaaa-bbbb",
            "cve_id": f"CVE-2026-{1000 + number}",
            "summary": "Prototype pollution",
            "severity": severity,
        },
        "security_vulnerability": {
            "package": {"ecosystem": "npm", "name": "lodash"},
            "severity": severity,
            "vulnerable_version_range": "< 4.17.21",
            "first_patched_version": {"identifier": "4.17.21"},
        },
        "url": f"https://api.github.com/repos/{repo}/dependabot/alerts/{number}",
        "html_url": f"https://github.com/{repo}/security/dependabot/{number}",
        "created_at": created_at,
        "updated_at": updated_at or fixed_at or dismissed_at or created_at,
        "dismissed_at": dismissed_at,
        "dismissed_by": None,
        "dismissed_reason": dismissed_reason,
        "dismissed_comment": None,
        "fixed_at": fixed_at,
        "auto_dismissed_at": None,
    }


def conftest_output(results: list[dict[str, Any]]) -> str:
    """``conftest test --output json``: an array of {filename, namespace, successes, warnings, failures,
    exceptions} (open-policy-agent/conftest docs/options.md, output/result.go)."""
    return json.dumps(results)


def attestation_response(digest_hex: str, predicate: str = "https://slsa.dev/provenance/v1") -> str:
    """``GET /orgs/{org}/attestations/sha256:{hex}`` (github/rest-api-description): attestations whose
    bundle holds a DSSE envelope with a base64 in-toto statement."""
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "ghcr.io/acme/api", "digest": {"sha256": digest_hex}}],
        "predicateType": predicate,
        "predicate": {"buildDefinition": {"buildType": "https://actions.github.io/buildtypes/workflow/v1"}},
    }
    return json.dumps(
        {
            "attestations": [
                {
                    "bundle": {
                        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                        "verificationMaterial": {"tlogEntries": []},
                        "dsseEnvelope": {
                            "payload": base64.b64encode(json.dumps(statement).encode()).decode(),
                            "payloadType": "application/vnd.in-toto+json",
                            "signatures": [{"sig": "MEUCIQ..."}],
                        },
                    },
                    "repository_id": 1,
                    "bundle_url": "https://example.invalid/bundle",
                }
            ]
        }
    )


class LocalApi:
    """A vendor API on 127.0.0.1 for connector tests: every GET is recorded in ``requests`` and answered
    by the subclass's ``answer(path, headers) -> (status, headers, body)``; ``faults`` are the subclass's
    to use. ``prefix`` is the path the API lives under. A context manager: serving while inside."""

    prefix = ""

    def __init__(self) -> None:
        self.faults: list[tuple[str, str]] = []  # (path fragment, kind): 429, 5xx or truncate, used once
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append(self.path)
                status, headers, body = outer.answer(self.path, self.headers)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.prefix}"

    def answer(self, raw_path: str, headers) -> tuple[int, dict, bytes]:
        raise NotImplementedError

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
