"""Malformed security report files and records are quarantined with file, position and reason; every
other file and record of the same load is kept."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.security.helpers import (
    build_security_warehouse,
    conftest_output,
    dependabot_alert,
    query,
    trivy_report,
)


def test_bad_files_and_records_are_quarantined_and_the_rest_kept(tmp_path):
    good_alert = dependabot_alert("acme/web", 1, "critical", "2026-01-10T00:00:00Z")
    no_url = {
        **dependabot_alert("acme/web", 2, "high", "2026-01-10T00:00:00Z"),
        "url": "https://api.github.com/x",
    }
    bad_time = dependabot_alert("acme/web", 3, "high", "yesterday")
    other_repo = dependabot_alert("acme/unknown", 4, "high", "2026-01-10T00:00:00Z")
    report = json.loads(trivy_report("2026-01-01T00:00:00Z", [("CVE-1", "openssl", "HIGH")]))
    report["Results"][0]["Vulnerabilities"].append({"PkgName": "curl", "Severity": "HIGH"})  # no id
    files = {
        "security/trivy/api/scan1.json": json.dumps(report),
        "security/trivy/api/scan2.json": '{"SchemaVersion": 2, "Results": [',  # truncated
        "security/trivy/ghost/scan1.json": trivy_report("2026-01-01T00:00:00Z", [("CVE-9", "zlib", "HIGH")]),
        "security/dependabot/acme_web.json": json.dumps([good_alert, no_url, bad_time, other_repo]),
        "security/conftest/api/2026-01-10_pr-1.json": conftest_output(
            [{"filename": "a", "namespace": "main", "successes": 1}]
        ),
        "security/conftest/api/pr-2.json": conftest_output(
            [{"filename": "a", "namespace": "main", "successes": 1}]
        ),
        "security/conftest/api/2026-01-11_pr-3.json": conftest_output(
            [{"filename": "a", "namespace": "main", "successes": 1}, {"filename": "b", "failures": []}]
        ),
        "security/terraform/api/2026-01-20.json": json.dumps({"resource_drift": []}),
        "security/waivers.csv": (
            "id,policy,service,reason,approver,created,expires\n"
            "W1,p,api,r,a,2026-01-01,2026-03-01\n"
            "W2,p,api,r,a,not-a-date,2026-03-01\n"
            "W3,p,api,r,a,2026-02-01,2026-01-01\n"
            "W4,p,api,r,a,2026-01-01\n"
        ),
        "security/provisioning.csv": (
            "request_id,service,requested_at,ready_at\n"
            "r1,api,2026-01-03T08:00:00Z,2026-01-03T11:00:00Z\n"
            "r2,api,2026-01-03T08:00:00Z,2026-01-03T07:00:00Z\n"
        ),
    }
    warehouse = build_security_warehouse(tmp_path, files, as_of=dt.datetime(2026, 4, 1))
    rows = query(
        warehouse,
        "select entity, file, line, reason from ops.quarantine where source = 'security' order by file, reason",
    )
    got = {(r["file"], r["reason"].split(":")[0], r["line"]) for r in rows}
    assert got == {
        ("conftest/api/2026-01-11_pr-3.json", "[1]", None),
        ("conftest/api/pr-2.json", "file name", None),
        ("dependabot/acme_web.json", "[1]", None),
        ("dependabot/acme_web.json", "[2]", None),
        ("dependabot/acme_web.json", "[3]", None),
        ("provisioning.csv", "line 3", 3),
        ("terraform/api/2026-01-20.json", "$", None),
        ("trivy/api/scan1.json", "Results[0].Vulnerabilities[1]", None),
        ("trivy/api/scan2.json", "line 1 column 34", None),
        ("trivy/ghost/scan1.json", "Results[0].Vulnerabilities[0]", None),
        ("waivers.csv", "line 3", 3),
        ("waivers.csv", "line 4", 4),
        ("waivers.csv", "line 5", 5),
    }
    reasons = {(r["file"], r["line"]): r["reason"] for r in rows}
    assert "not JSON" in next(r["reason"] for r in rows if r["file"] == "trivy/api/scan2.json")
    assert any(r["reason"] == "[2]: created_at is not a date-time: 'yesterday'" for r in rows)
    assert any("unknown repository acme/unknown" in r["reason"] for r in rows)
    assert any("unknown service ghost" in r["reason"] for r in rows)
    assert "expires is before created" in reasons[("waivers.csv", 4)]
    assert "wrong number of fields" in reasons[("waivers.csv", 5)]
    assert "ready_at is before requested_at" in reasons[("provisioning.csv", 3)]
    # the good records of the same files are kept
    kept = query(
        warehouse,
        "select (select count(*) from core.vulnerability_findings) as findings, "
        "(select count(*) from core.policy_evaluations) as evaluations, "
        "(select count(*) from core.waivers) as waivers, "
        "(select count(*) from core.provisioning_requests) as requests",
    )[0]
    # CVE-1 of api and alert #1 of web; pr-1 and pr-3 (its good result); W1; r1
    assert kept == {"findings": 2, "evaluations": 2, "waivers": 1, "requests": 1}


def test_reloading_the_same_folder_gives_the_same_tables(tmp_path):
    from platform_kpi.security import load_security_files
    from platform_kpi.warehouse import write_connection

    files = {
        "security/trivy/api/scan1.json": trivy_report("2026-01-01T00:00:00Z", [("CVE-1", "openssl", "HIGH")])
    }
    warehouse = build_security_warehouse(tmp_path, files, as_of=dt.datetime(2026, 4, 1))
    with write_connection(warehouse) as con:
        load_security_files(con, tmp_path / "wh-files")
        load_security_files(con, tmp_path / "wh-files")
        n = con.execute("select count(*) from raw.security__trivy_vulnerabilities").fetchone()[0]
    assert n == 1


def test_an_unchanged_folder_is_not_parsed_again_and_a_changed_one_is(tmp_path, monkeypatch):
    from connectors import security_files
    from platform_kpi.security import SECURITY_RAW_TABLES, load_security_files
    from platform_kpi.warehouse import write_connection

    report = tmp_path / "wh-files" / "security" / "trivy" / "api" / "scan1.json"
    files = {
        "security/trivy/api/scan1.json": trivy_report("2026-01-01T00:00:00Z", [("CVE-1", "openssl", "HIGH")])
    }
    warehouse = build_security_warehouse(tmp_path, files, as_of=dt.datetime(2026, 4, 1))
    parsed: list[Path] = []
    read = security_files.read_security_folder

    def counting(files_dir):
        parsed.append(files_dir)
        return read(files_dir)

    monkeypatch.setattr(security_files, "read_security_folder", counting)

    def tables(con):
        return {
            t: sorted(con.execute(f"select * from raw.{t}").fetchall(), key=repr) for t in SECURITY_RAW_TABLES
        }

    with write_connection(warehouse) as con:
        before = tables(con)
        counts = load_security_files(con, tmp_path / "wh-files")  # the same files as the build's load
        assert parsed == [] and tables(con) == before
        assert counts["security__trivy_vulnerabilities"] == 1 and counts["files"] == 1
        load_security_files(con, tmp_path / "wh-files", reuse=False)  # kpi run --full reads them again
        assert len(parsed) == 1 and tables(con) == before
        # the same size, another content: read again
        report.write_text(report.read_text().replace("CVE-1", "CVE-2"))
        load_security_files(con, tmp_path / "wh-files")
        assert len(parsed) == 2
        cves = con.execute("select vulnerability_id from raw.security__trivy_vulnerabilities").fetchall()
    assert cves == [("CVE-2",)]
