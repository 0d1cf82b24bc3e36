"""HCP Terraform health assessments from a local server on 127.0.0.1 speaking its JSON:API: workspaces
paged by links.next with their current assessment result included, the plan JSON (json-output) read
once per result, a refused plan falling back to the result's counts, a re-sync that reads only new
results, and a 429, a 5xx and a truncated page survived."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
import yaml

from platform_kpi.settings import DEFAULT_CONFIG
from platform_kpi.sources_config import load_sources_config
from platform_kpi.sync import sync_source
from platform_kpi.warehouse import write_connection
from tests.connectors.api_helpers import build, rows
from tests.security.helpers import SERVICES, LocalApi, with_security_keys
from tests.security.test_security_kpis import _plan

TOKEN = "tfe-test-token.atlasv1.secret"


def _result(rid: str, created: str, *, drifted: int | None = None, undrifted: int | None = None) -> dict:
    """An assessment-results resource (assessment-results.mdx); the counts only when given."""
    attributes = {"drifted": True, "succeeded": True, "error-msg": None, "created-at": created}
    if drifted is not None:
        attributes |= {"resources-drifted": drifted, "resources-undrifted": undrifted}
    return {
        "id": rid,
        "type": "assessment-results",
        "attributes": attributes,
        "links": {
            "self": f"/api/v2/assessment-results/{rid}/",
            "json-output": f"/api/v2/assessment-results/{rid}/json-output",
            "json-schema": f"/api/v2/assessment-results/{rid}/json-schema",
            "log-output": f"/api/v2/assessment-results/{rid}/log-output",
        },
    }


class FakeTfc(LocalApi):
    prefix = "/api/v2"

    def __init__(self) -> None:
        # workspace name -> its current assessment result
        self.current = {
            "net-prod": _result("asmtres-net1", "2026-01-28T03:00:00.000Z"),
            "api": _result("asmtres-api1", "2026-01-15T10:00:00.000Z", drifted=1, undrifted=9),
            "sandbox": _result("asmtres-sbx1", "2026-01-10T10:00:00.000Z", drifted=5, undrifted=5),
        }
        self.plans = {
            "asmtres-net1": _plan("2026-01-28T03:00:00Z", ["module.network.module.sg.aws_security_group.web"])
        }
        super().__init__()

    def answer(self, raw: str, headers) -> tuple[int, dict, bytes]:
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {}, b'{"errors": [{"status": "401", "title": "unauthorized"}]}'
        jsonapi = {"Content-Type": "application/vnd.api+json"}
        for i, (fragment, kind) in enumerate(self.faults):
            if fragment in raw:
                del self.faults[i]
                if kind == "429":
                    return (
                        429,
                        {"Retry-After": "0", "X-RateLimit-Remaining": "0"},
                        b'{"errors": [{"status": "429"}]}',
                    )
                if kind == "503":
                    return 503, {}, b"unavailable"
                return 200, jsonapi, b'{"data": [{"id": "ws-1", "type": "works'
        parsed = urllib.parse.urlparse(raw)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        if parsed.path == "/api/v2/organizations/acme/workspaces":
            assert query.get("include") == "current-assessment-result"
            names = sorted(self.current)
            number, size = int(query.get("page[number]", 1)), int(query.get("page[size]", 20))
            chunk = names[(number - 1) * size : number * size]
            pages = (len(names) + size - 1) // size
            base = f"{self.url}/organizations/acme/workspaces?include=current-assessment-result&page%5Bsize%5D={size}"
            doc = {
                "data": [
                    {
                        "id": f"ws-{n}",
                        "type": "workspaces",
                        "attributes": {"name": n, "assessments-enabled": True},
                        "relationships": {
                            "current-assessment-result": {
                                "data": {"id": self.current[n]["id"], "type": "assessment-results"}
                            }
                        },
                    }
                    for n in chunk
                ],
                "included": [self.current[n] for n in chunk],
                "links": {
                    "self": f"{base}&page%5Bnumber%5D={number}",
                    "next": f"{base}&page%5Bnumber%5D={number + 1}" if number < pages else None,
                },
                "meta": {
                    "pagination": {"current-page": number, "total-pages": pages, "total-count": len(names)}
                },
            }
            return 200, jsonapi, json.dumps(doc).encode()
        if parsed.path.endswith("/json-output"):
            rid = parsed.path.split("/")[-2]
            if rid in self.plans:
                return 200, {"Content-Type": "application/json"}, self.plans[rid].encode()
            return 403, jsonapi, b'{"errors": [{"status": "403", "title": "forbidden"}]}'
        return 404, jsonapi, b'{"errors": [{"status": "404"}]}'


@pytest.fixture
def tfc():
    with FakeTfc() as server:
        yield server


def _sources(tmp_path: Path, tfc: FakeTfc) -> Path:
    doc = {
        "lookback_hours": 0,
        "http": {"timeout": 2, "backoff_base": 0.01, "backoff_cap": 0.05, "max_attempts": 4},
        "hcp_terraform": {
            "base_url": tfc.url,
            "token_env": "TEST_TFE_TOKEN",
            "organization": "acme",
            "workspaces": ["net-prod", "api"],
            "per_page": 2,
        },
    }
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "kpi.yaml"
    path.write_text(with_security_keys(DEFAULT_CONFIG.read_text(), "  workspaces: {net-prod: indexer}"))
    return path


def test_paged_sync_plan_counts_fallback_and_incremental_resync(tmp_path, tfc):
    env = {"TEST_TFE_TOKEN": TOKEN}
    config = load_sources_config(_sources(tmp_path, tfc))
    warehouse = tmp_path / "wh.duckdb"
    with write_connection(warehouse) as con:
        result = sync_source(con, config, "hcp_terraform", env=env)
    assert result.error is None
    listing = [r for r in tfc.requests if "/workspaces" in r]
    assert len(listing) == 2  # three workspaces, two a page, the second page from links.next
    assert sorted(r.split("/")[-2] for r in tfc.requests if r.endswith("/json-output")) == [
        "asmtres-api1",
        "asmtres-net1",
    ]
    files = tmp_path / "files"
    files.mkdir()
    (files / "services.csv").write_text(SERVICES)
    build(warehouse, files_dir=files, config=_config(tmp_path))
    got = {
        r["scope"]: r["value"]
        for r in rows(
            warehouse,
            "select scope, value from marts.kpi_monthly where kpi_id = 'iac_drift_rate' and month = '2026-01-01' "
            "and scope_type = 'service' and scope in ('indexer', 'api')",
        )
    }
    # net-prod (-> indexer): its plan JSON, 1 of 4 managed resources drifted (nested module); api: its
    # plan was refused (403), so the result's own counts 1 / (1 + 9); sandbox is not configured.
    assert got == {"indexer": pytest.approx(0.25), "api": pytest.approx(0.1)}

    # Re-sync: nothing new is read twice; a new result of net-prod is read with its plan.
    tfc.requests.clear()
    tfc.current["net-prod"] = _result("asmtres-net2", "2026-02-27T03:00:00.000Z")
    tfc.plans["asmtres-net2"] = _plan("2026-02-27T03:00:00Z", [])
    with write_connection(warehouse) as con:
        assert sync_source(con, config, "hcp_terraform", env=env).error is None
    assert [r for r in tfc.requests if r.endswith("/json-output")] == [
        "/api/v2/assessment-results/asmtres-net2/json-output"
    ]
    stored = rows(warehouse, "select key from raw.hcp_terraform__assessment_results order by key")
    assert [r["key"] for r in stored] == ["asmtres-api1", "asmtres-net1", "asmtres-net2"]


def test_a_429_a_503_and_a_truncated_page_are_retried(tmp_path, tfc):
    tfc.faults = [("page%5Bnumber%5D=2", "429"), ("/workspaces", "503"), ("/workspaces", "truncate")]
    config = load_sources_config(_sources(tmp_path, tfc))
    with write_connection(tmp_path / "wh.duckdb") as con:
        result = sync_source(con, config, "hcp_terraform", env={"TEST_TFE_TOKEN": TOKEN})
    assert result.error is None and tfc.faults == []
    assert len(rows(tmp_path / "wh.duckdb", "select * from raw.hcp_terraform__assessment_results")) == 2


def test_a_source_that_keeps_failing_keeps_its_rows_and_never_shows_the_token(tmp_path, tfc):
    config = load_sources_config(_sources(tmp_path, tfc))
    warehouse = tmp_path / "wh.duckdb"
    with write_connection(warehouse) as con:
        sync_source(con, config, "hcp_terraform", env={"TEST_TFE_TOKEN": TOKEN})
    tfc.faults = [("/workspaces", "503")] * 10
    with write_connection(warehouse) as con:
        result = sync_source(con, config, "hcp_terraform", env={"TEST_TFE_TOKEN": TOKEN})
    assert result.error and "503" in result.error and TOKEN not in result.error
    assert len(rows(warehouse, "select * from raw.hcp_terraform__assessment_results")) == 2
