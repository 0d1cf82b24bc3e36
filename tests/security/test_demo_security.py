"""The demo organisation's security reports: consistent with its services and deployments, loaded
without a quarantined record, deterministic, and trending as platform_kpi/demo/security.py says."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from connectors.security_files import read_security_folder
from platform_kpi.demo.org import generate_demo_org

TODAY = dt.date(2026, 5, 9)


def _tree(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def test_demo_security_reports_are_consistent_and_deterministic(tmp_path):
    generate_demo_org(tmp_path / "a", services=12, seed=5, today=TODAY)
    generate_demo_org(tmp_path / "b", services=12, seed=5, today=TODAY)
    assert _tree(tmp_path / "a" / "security") == _tree(tmp_path / "b" / "security")
    load = read_security_folder(tmp_path / "a")
    assert load.errors == []
    services = {line.split(",")[0] for line in (tmp_path / "a" / "services.csv").read_text().splitlines()[1:]}
    repos = {line.split(",")[2] for line in (tmp_path / "a" / "services.csv").read_text().splitlines()[1:]}
    assert {r["lineage"] for r in load.rows["security__trivy_scans"]} <= services
    assert {r["repo"] for r in load.rows["security__github_alerts"]} <= repos
    assert {r["service"] for r in load.rows["security__waivers"]} <= services
    deployments = {
        line.split(",")[0] for line in (tmp_path / "a" / "deployments.csv").read_text().splitlines()[1:]
    }
    assert {r["deployment_key"] for r in load.rows["security__deployment_artifacts"]} <= deployments
    # nothing after the demo's today
    assert max(r["created_at"] for r in load.rows["security__github_alerts"]) < TODAY.isoformat()


def test_demo_security_trends(tmp_path):
    """SLA adherence improves: critical/high alerts fixed within their SLA, first year vs second; a few
    register waivers expired without being closed."""
    generate_demo_org(tmp_path, services=40, seed=7, today=TODAY)
    load = read_security_folder(tmp_path)
    sla = {"critical": 7.0, "high": 30.0}

    def adherence(year_start: str, year_end: str) -> float:
        hits = total = 0
        for a in load.rows["security__github_alerts"]:
            if (
                a["severity"] not in sla
                or a["dismissed_at"]
                or not (year_start <= a["created_at"] < year_end)
            ):
                continue
            due = dt.datetime.fromisoformat(a["created_at"]) + dt.timedelta(days=sla[a["severity"]])
            if due >= dt.datetime(2026, 5, 1):
                continue
            total += 1
            hits += a["fixed_at"] is not None and dt.datetime.fromisoformat(a["fixed_at"]) <= due
        return hits / total

    first, second = adherence("2024-05-01", "2025-05-01"), adherence("2025-05-01", "2026-05-01")
    assert first < 0.75 < 0.8 < second
    expired_open = [
        w for w in load.rows["security__waivers"] if w["expires_at"] < "2026-05-09" and w["closed_at"] is None
    ]
    assert 3 <= len(expired_open) <= 6
