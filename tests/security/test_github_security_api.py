"""Dependabot and code-scanning alerts and attestations from a local server on 127.0.0.1 speaking the
GitHub REST API: Link pagination (Dependabot's ``after`` cursor, code scanning's pages), an incremental
re-sync that reads only what changed, and a 429, a 5xx and a truncated page survived."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from pathlib import Path

import yaml

from platform_kpi.security import load_security_files, sync_github_security
from platform_kpi.sources_config import load_sources_config
from platform_kpi.warehouse import write_connection
from tests.security.helpers import LocalApi, attestation_response, dependabot_alert

TOKEN = "ghp_test_security_token"
DIGEST = "sha256:" + "c" * 64


def code_scanning_alert(
    repo: str, number: int, level: str, created: str, updated: str, state: str = "open"
) -> dict:
    """An item of ``GET /repos/{o}/{r}/code-scanning/alerts`` (code-scanning-alert-items)."""
    return {
        "number": number,
        "created_at": created,
        "updated_at": updated,
        "url": f"https://api.github.com/repos/{repo}/code-scanning/alerts/{number}",
        "html_url": f"https://github.com/{repo}/security/code-scanning/{number}",
        "state": state,
        "fixed_at": None,
        "dismissed_by": None,
        "dismissed_at": None,
        "dismissed_reason": None,
        "rule": {
            "id": "js/sql-injection",
            "severity": "error",
            "security_severity_level": level,
            "tags": ["security"],
        },
        "tool": {"name": "CodeQL", "version": "2.20.0"},
        "most_recent_instance": {"ref": "refs/heads/main", "state": state},
    }


class FakeGitHub(LocalApi):
    """Serves the alerts newest change first, two per page, and records each request's path."""

    def __init__(self) -> None:
        self.dependabot: list[dict] = []
        self.code_scanning: list[dict] = []
        super().__init__()

    def answer(self, raw_path: str, headers) -> tuple[int, dict, bytes]:
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {}, b'{"message": "Bad credentials"}'
        parsed = urllib.parse.urlparse(raw_path)
        path, query = parsed.path, dict(urllib.parse.parse_qsl(parsed.query))
        for i, (fragment, kind) in enumerate(self.faults):
            if fragment in raw_path:
                del self.faults[i]
                if kind == "429":
                    return (
                        429,
                        {"retry-after": "0", "x-ratelimit-remaining": "0"},
                        b'{"message": "secondary rate limit"}',
                    )
                if kind == "502":
                    return 502, {}, b"bad gateway"
                page = json.dumps(self.dependabot[:2]).encode()
                return 200, {"Content-Type": "application/json"}, page[: len(page) // 2]
        if path.endswith("/dependabot/alerts"):
            assert (query.get("sort"), query.get("direction")) == ("updated", "desc")
            items = sorted(self.dependabot, key=lambda a: a["updated_at"], reverse=True)
            start = int(query.get("after") or 0)
            chunk = items[start : start + 2]
            link = {}
            if start + 2 < len(items):
                nxt = f"{self.url}{path}?sort=updated&direction=desc&per_page=2&after={start + 2}"
                link = {"Link": f'<{nxt}>; rel="next"'}
            return 200, {"Content-Type": "application/json", **link}, json.dumps(chunk).encode()
        if path.endswith("/code-scanning/alerts"):
            items = sorted(self.code_scanning, key=lambda a: a["updated_at"], reverse=True)
            page = int(query.get("page") or 1)
            chunk = items[(page - 1) * 2 : page * 2]
            link = {}
            if page * 2 < len(items):
                nxt = f"{self.url}{path}?sort=updated&direction=desc&per_page=2&page={page + 1}"
                link = {"Link": f'<{nxt}>; rel="next", <{self.url}{path}?page=1>; rel="first"'}
            return 200, {"Content-Type": "application/json", **link}, json.dumps(chunk).encode()
        if "/attestations/" in path:
            digest = path.rsplit("/", 1)[-1]
            if digest == DIGEST:
                return 200, {"Content-Type": "application/json"}, attestation_response("c" * 64).encode()
            return 404, {"Content-Type": "application/json"}, b'{"message": "Not Found"}'
        return 404, {}, b'{"message": "Not Found"}'


def _sources(tmp_path: Path, gh: FakeGitHub) -> Path:
    doc = {
        "lookback_hours": 0,
        "http": {
            "timeout": 2,
            "backoff_base": 0.01,
            "backoff_cap": 0.05,
            "max_attempts": 4,
            "secondary_limit_wait": 0.01,
        },
        "github": {
            "base_url": gh.url,
            "token_env": "TEST_GH_SEC",
            "repos": ["acme/web"],
            "security_alerts": True,
            "per_page": 2,
        },
        "services": [{"service": "web", "team": "payments", "repo": "acme/web"}],
    }
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _alerts(con) -> dict[tuple[str, int], str]:
    rows = con.execute("select tool, number, state from raw.security__github_alerts order by 1, 2").fetchall()
    return {(t, n): s for t, n, s in rows}


def test_pagination_incremental_resync_and_attestations(tmp_path):
    env = {"TEST_GH_SEC": TOKEN}
    with FakeGitHub() as gh:
        gh.dependabot = [
            dependabot_alert(
                "acme/web", n, "high", f"2026-03-0{n}T00:00:00Z", updated_at=f"2026-03-0{n}T00:00:00Z"
            )
            for n in range(1, 6)
        ]
        gh.code_scanning = [
            code_scanning_alert("acme/web", n, "critical", "2026-03-01T00:00:00Z", f"2026-03-0{n}T00:00:00Z")
            for n in range(1, 4)
        ]
        config = load_sources_config(_sources(tmp_path, gh))
        files = tmp_path / "files"
        (files / "security").mkdir(parents=True)
        (files / "security" / "deployment_artifacts.csv").write_text(
            f"deployment_id,artifact_digest\nd1,{DIGEST}\nd2,sha256:{'d' * 64}\n"
        )
        with write_connection(tmp_path / "wh.duckdb") as con:
            load_security_files(con, files)
            first = sync_github_security(con, config, env=env)
            assert first["errors"] == [] and first["alerts"] == 8
            assert len(_alerts(con)) == 8
            # 3 dependabot pages + 2 code-scanning pages + one attestation lookup per digest
            listing = [r for r in gh.requests if "/alerts" in r]
            assert len(listing) == 5
            assert sum("after=" in r for r in listing) == 2 and sum("&page=2" in r for r in listing) == 1
            attested = con.execute("select subject_digest from raw.security__attestations").fetchall()
            assert attested == [(DIGEST,)]

            # Re-sync: alert 5 fixed since (its updated_at moves), the rest unchanged: only the first
            # page of each listing is read, and the fixed state replaces the stored one.
            gh.requests.clear()
            gh.dependabot[4] = dependabot_alert(
                "acme/web", 5, "high", "2026-03-05T00:00:00Z", state="fixed", fixed_at="2026-03-09T00:00:00Z"
            )
            second = sync_github_security(con, config, env=env)
            assert second["errors"] == []
            assert len([r for r in gh.requests if "/dependabot/alerts" in r]) == 1
            assert _alerts(con)[("dependabot", 5)] == "fixed" and len(_alerts(con)) == 8
            # the attested digest is not asked again; the other one is
            assert [r for r in gh.requests if "attestations" in r] == [
                f"/orgs/acme/attestations/sha256:{'d' * 64}?per_page=100"
            ]
            # a file reload leaves the API rows alone
            load_security_files(con, files)
            assert len(_alerts(con)) == 8


def test_a_429_a_502_and_a_truncated_page_are_retried(tmp_path):
    env = {"TEST_GH_SEC": TOKEN}
    with FakeGitHub() as gh:
        gh.dependabot = [
            dependabot_alert(
                "acme/web", n, "high", "2026-03-01T00:00:00Z", updated_at=f"2026-03-0{n}T00:00:00Z"
            )
            for n in range(1, 4)
        ]
        gh.faults = [("/dependabot/alerts", "429"), ("/dependabot/alerts", "502"), ("after=2", "truncate")]
        config = load_sources_config(_sources(tmp_path, gh))
        with write_connection(tmp_path / "wh.duckdb") as con:
            result = sync_github_security(con, config, env=env)
            assert result["errors"] == []
            assert sorted(n for t, n in _alerts(con) if t == "dependabot") == [1, 2, 3]
        assert gh.faults == []  # every fault was served, and survived


def test_a_listing_that_keeps_failing_keeps_the_stored_alerts(tmp_path):
    env = {"TEST_GH_SEC": TOKEN}
    with FakeGitHub() as gh:
        gh.dependabot = [dependabot_alert("acme/web", 1, "high", "2026-03-01T00:00:00Z")]
        config = load_sources_config(_sources(tmp_path, gh))
        with write_connection(tmp_path / "wh.duckdb") as con:
            sync_github_security(con, config, env=env)
            gh.faults = [("/dependabot/alerts", "502")] * 10
            result = sync_github_security(con, config, env=env)
            assert len(result["errors"]) == 1 and "HTTP 502" in result["errors"][0]
            assert TOKEN not in result["errors"][0]
            assert _alerts(con) == {("dependabot", 1): "open"}
    _ = dt


def test_kpi_sync_reads_the_alerts_after_the_github_streams(tmp_path):
    """`kpi sync` (sync_sources) runs the security sync after the GitHub source's own streams (which
    this server does not serve: they fail and are reported, the alerts still land)."""
    from kpi_cli.sources import sync_sources
    from platform_kpi.settings import work_path_for
    from platform_kpi.warehouse import read_connection

    with FakeGitHub() as gh:
        gh.dependabot = [dependabot_alert("acme/web", 1, "critical", "2026-03-01T00:00:00Z")]
        said: list[str] = []
        results = sync_sources(
            _sources(tmp_path, gh), tmp_path / "wh.duckdb", env={"TEST_GH_SEC": TOKEN}, progress=said.append
        )
        assert results["github"].error  # deployments, runs and pulls are not served here
        with read_connection(work_path_for(tmp_path / "wh.duckdb")) as con:
            assert _alerts(con) == {("dependabot", 1): "open"}
