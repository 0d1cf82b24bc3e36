"""Golden tests of the security and compliance KPIs, every expected value computed by hand below.

The organisation: api and web (team payments, repositories acme/api and acme/web), indexer (team
search). SLA: critical 7 days, high 30 days (the shipped config). The run is as of 2026-04-01 00:00 UTC.

Trivy scans of api (trivy/api/): scan 1 2026-01-01 00:00 lists A (openssl, CRITICAL), B (curl,
CRITICAL), C (zlib, HIGH); scan 2 2026-01-07 23:59 lists B; scan 3 2026-01-08 00:01 lists C; scan 4
2026-02-05 00:00 lists nothing.
  A: first seen 01-01, fixed at scan 2 = 7 d - 1 min: inside its SLA (due 01-08 00:00).
  B: first seen 01-01, last seen scan 2, fixed at scan 3 = 7 d + 1 min: outside.
  C: seen in scans 1 and 3, not 2: reopened, clock not reset; fixed at scan 4 = 35 d > 30 d: outside
     (due 01-31 00:00). Counting each sighting as its own finding would have given two fixes in SLA.
Dependabot alerts of acme/web (dependabot/acme_web.json):
  #1 critical, created 01-10, fixed 01-12: inside (due 01-17), fix time 2 d.
  #2 high, dismissed as inaccurate: a false positive, left out of every SLA KPI.
  #3 high, created 01-02, dismissed tolerable_risk 01-15 (before its due 02-01): waived, out of the
     SLA adherence, a waiver from 01-15 that never expires.
  #4 critical, created 02-01, reopened after a fix (state open, fixed_at null, created_at kept): due
     02-08, missed; open past SLA at the end of February and March.
  #5 high, created 03-20, open: due 04-19, after the run: counted nowhere yet.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.security.helpers import (
    attestation_response,
    build_security_warehouse,
    conftest_output,
    dependabot_alert,
    kpi,
    query,
    trivy_report,
)

AS_OF = dt.datetime(2026, 4, 1)
DIGEST_ATTESTED = "a" * 64
DIGEST_SBOM_ONLY = "b" * 64

WORKSPACES = """
  workspaces: {net-prod: indexer}
"""


def _trivy() -> dict[str, str]:
    return {
        "security/trivy/api/scan1.json": trivy_report(
            "2026-01-01T00:00:00.123456789Z",
            [
                ("CVE-2026-0001", "openssl", "CRITICAL"),
                ("CVE-2026-0002", "curl", "CRITICAL"),
                ("CVE-2026-0003", "zlib", "HIGH"),
            ],
        ),
        "security/trivy/api/scan2.json": trivy_report(
            "2026-01-07T23:59:00Z", [("CVE-2026-0002", "curl", "CRITICAL")]
        ),
        "security/trivy/api/scan3.json": trivy_report(
            "2026-01-08T00:01:00Z", [("CVE-2026-0003", "zlib", "HIGH")]
        ),
        "security/trivy/api/scan4.json": trivy_report("2026-02-05T00:00:00+00:00", []),
    }


def _dependabot() -> dict[str, str]:
    alerts = [
        dependabot_alert(
            "acme/web", 1, "critical", "2026-01-10T00:00:00Z", state="fixed", fixed_at="2026-01-12T00:00:00Z"
        ),
        dependabot_alert(
            "acme/web",
            2,
            "high",
            "2026-01-05T00:00:00Z",
            state="dismissed",
            dismissed_at="2026-01-06T00:00:00Z",
            dismissed_reason="inaccurate",
        ),
        dependabot_alert(
            "acme/web",
            3,
            "high",
            "2026-01-02T00:00:00Z",
            state="dismissed",
            dismissed_at="2026-01-15T00:00:00Z",
            dismissed_reason="tolerable_risk",
        ),
        dependabot_alert(
            "acme/web", 4, "critical", "2026-02-01T00:00:00Z", state="open", updated_at="2026-02-03T00:00:00Z"
        ),
        dependabot_alert("acme/web", 5, "high", "2026-03-20T00:00:00Z", state="open"),
    ]
    return {"security/dependabot/acme_web.json": json.dumps(alerts)}


WAIVERS = """
waivers:
  - {id: W1, policy: no-root-containers, service: api, reason: legacy base image, approver: sec-lead,
     created: 2025-12-01, expires: '2026-01-15T12:00:00Z'}
  - {id: W2, policy: tls-1.2-min, service: indexer, reason: partner, approver: sec-lead,
     created: 2026-01-10, expires: 2026-06-30, closed: 2026-02-20}
  - {id: W3, policy: image-signing, service: web, reason: migration, approver: cto, created: 2026-02-10}
"""


def _conftest() -> dict[str, str]:
    fail = {"msg": "Containers must not run as root"}
    return {
        # failures and exceptions in one file (two results): not compliant, one warning
        "security/conftest/api/2026-01-10_pr-101.json": conftest_output(
            [
                {
                    "filename": "deploy.yaml",
                    "namespace": "main",
                    "successes": 3,
                    "failures": [fail],
                    "warnings": [{"msg": "no resource limits"}],
                },
                {
                    "filename": "service.yaml",
                    "namespace": "main",
                    "successes": 2,
                    "exceptions": [{"msg": 'data.main.exception[_][_] == "run_as_root"'}],
                },
            ]
        ),
        # warnings only: compliant
        "security/conftest/api/2026-01-11_pr-102.json": conftest_output(
            [
                {
                    "filename": "deploy.yaml",
                    "namespace": "main",
                    "successes": 5,
                    "warnings": [{"msg": "latest tag"}],
                }
            ]
        ),
        # an exception only: not compliant
        "security/conftest/web/2026-01-12_pr-7.json": conftest_output(
            [{"filename": "deploy.yaml", "namespace": "main", "successes": 4, "exceptions": [{"msg": "x"}]}]
        ),
        "security/conftest/web/2026-01-13_pr-8.json": conftest_output(
            [{"filename": "deploy.yaml", "namespace": "main", "successes": 4}]
        ),
        "security/conftest/indexer/2026-01-14_pr-9.json": conftest_output(
            [{"filename": "deploy.yaml", "namespace": "main", "successes": 4, "failures": [], "warnings": []}]
        ),
    }


# A Kyverno PolicyReport of namespace indexer saved on 2026-02-10 (wgpolicyk8s.io/v1alpha2, as `kubectl get
# policyreports -o yaml` lists them): indexer-api fails one policy (not compliant), worker only warns
# (compliant, with a warning), cron's failure was skipped by a PolicyException (not compliant); a
# kube-system report is not a service's.
KYVERNO = """
apiVersion: v1
kind: List
items:
- apiVersion: wgpolicyk8s.io/v1alpha2
  kind: PolicyReport
  metadata: {name: polr-ns-indexer, namespace: indexer}
  summary: {pass: 2, fail: 1, warn: 1, error: 0, skip: 1}
  results:
  - {policy: require-labels, rule: check-team, result: pass, scored: true, severity: medium,
     source: kyverno, timestamp: {seconds: 1770717600, nanos: 0},
     resources: [{apiVersion: apps/v1, kind: Deployment, name: indexer-api, namespace: indexer, uid: u1}]}
  - {policy: disallow-privileged, rule: privileged-containers, result: fail, scored: true, severity: high,
     source: kyverno, message: privileged mode is disallowed, timestamp: {seconds: 1770717600, nanos: 0},
     resources: [{apiVersion: apps/v1, kind: Deployment, name: indexer-api, namespace: indexer, uid: u1}]}
  - {policy: require-labels, rule: check-team, result: pass, scored: true, severity: medium,
     source: kyverno, timestamp: {seconds: 1770717600, nanos: 0},
     resources: [{apiVersion: apps/v1, kind: Deployment, name: worker, namespace: indexer, uid: u2}]}
  - {policy: require-probes, rule: liveness, result: warn, scored: false, severity: low,
     source: kyverno, timestamp: {seconds: 1770717600, nanos: 0},
     resources: [{apiVersion: apps/v1, kind: Deployment, name: worker, namespace: indexer, uid: u2}]}
  - {policy: disallow-privileged, rule: privileged-containers, result: skip, scored: true, severity: high,
     source: kyverno, message: rule skipped due to policy exception indexer/allow-cron,
     properties: {exceptions: allow-cron}, timestamp: {seconds: 1770717600, nanos: 0},
     resources: [{apiVersion: batch/v1, kind: CronJob, name: cron, namespace: indexer, uid: u3}]}
- apiVersion: wgpolicyk8s.io/v1alpha2
  kind: PolicyReport
  metadata: {name: polr-ns-kube-system, namespace: kube-system}
  results:
  - {policy: disallow-privileged, rule: privileged-containers, result: fail, source: kyverno,
     timestamp: {seconds: 1770717600, nanos: 0},
     resources: [{apiVersion: v1, kind: Pod, name: kube-proxy, namespace: kube-system, uid: u4}]}
"""


def _plan(timestamp: str, drift: list[str]) -> str:
    """`terraform show -json` of a refresh-only plan: managed resources aws_vpc.main (root),
    module.network aws_subnet.a/b, module.network.module.sg aws_security_group.web; a data source too."""

    def res(address: str, mode: str = "managed") -> dict:
        return {
            "address": address,
            "mode": mode,
            "type": address.split(".")[-2],
            "name": address.split(".")[-1],
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "schema_version": 0,
            "values": {},
        }

    return json.dumps(
        {
            "format_version": "1.2",
            "terraform_version": "1.9.5",
            "timestamp": timestamp,
            "prior_state": {
                "format_version": "1.0",
                "values": {
                    "root_module": {
                        "resources": [res("aws_vpc.main"), res("data.aws_ami.base", "data")],
                        "child_modules": [
                            {
                                "address": "module.network",
                                "resources": [
                                    res("module.network.aws_subnet.a"),
                                    res("module.network.aws_subnet.b"),
                                ],
                                "child_modules": [
                                    {
                                        "address": "module.network.module.sg",
                                        "resources": [res("module.network.module.sg.aws_security_group.web")],
                                    }
                                ],
                            }
                        ],
                    }
                },
            },
            "resource_drift": [
                {
                    "address": a,
                    "module_address": a.rsplit(".", 2)[0] if a.startswith("module.") else None,
                    "mode": "managed",
                    "type": a.split(".")[-2],
                    "name": a.split(".")[-1],
                    "provider_name": "registry.terraform.io/hashicorp/aws",
                    "change": {
                        "actions": ["update"],
                        "before": {"ingress": []},
                        "after": {"ingress": [{"from_port": 22}]},
                    },
                }
                for a in drift
            ],
            "resource_changes": [],
        }
    )


HCP_ASSESSMENT = json.dumps(
    {
        # GET /api/v2/assessment-results/:id (HCP Terraform assessment-results docs)
        "data": {
            "id": "asmtres-cHh5777xm",
            "type": "assessment-results",
            "attributes": {
                "drifted": True,
                "succeeded": True,
                "error-msg": None,
                "created-at": "2026-01-15T10:00:00.000Z",
                "resources-drifted": 1,
                "resources-undrifted": 9,
            },
            "links": {"self": "/api/v2/assessment-results/asmtres-cHh5777xm/"},
        }
    }
)

DEPLOYMENTS = """deployment_id,service,environment,status,started_at,finished_at
d1,api,production,success,2026-01-05T10:00:00Z,2026-01-05T10:05:00Z
d2,api,production,success,2026-01-06T10:00:00Z,2026-01-06T10:05:00Z
d3,web,production,success,2026-01-07T10:00:00Z,2026-01-07T10:05:00Z
d4,indexer,production,success,2026-01-08T10:00:00Z,2026-01-08T10:05:00Z
d5,api,staging,success,2026-01-09T10:00:00Z,2026-01-09T10:05:00Z
"""

ARTIFACTS = f"""deployment_id,artifact_digest
d1,sha256:{DIGEST_ATTESTED}
d2,sha256:{DIGEST_SBOM_ONLY}
d3,
"""

PROVISIONING = """request_id,service,requested_at,ready_at
r1,api,2026-01-03T08:00:00Z,2026-01-03T11:00:00Z
r2,web,2026-01-04T08:00:00Z,2026-01-04T14:00:00Z
r3,indexer,2026-01-05T08:00:00Z,
"""


def _files() -> dict[str, str]:
    return {
        **_trivy(),
        **_dependabot(),
        **_conftest(),
        "security/waivers.yaml": WAIVERS,
        "security/kyverno/2026-02-10.yaml": KYVERNO,
        "security/terraform/net-prod/2026-01-20.json": _plan(
            "2026-01-20T03:00:00Z", ["aws_vpc.main", "module.network.aws_subnet.a"]
        ),
        # the last plan of January: drift only in the nested module.network.module.sg
        "security/terraform/net-prod/2026-01-28.json": _plan(
            "2026-01-28T03:00:00Z", ["module.network.module.sg.aws_security_group.web"]
        ),
        "security/hcp_assessments/api/asmtres-cHh5777xm.json": HCP_ASSESSMENT,
        "deployments.csv": DEPLOYMENTS,
        "security/deployment_artifacts.csv": ARTIFACTS,
        "security/attestations/provenance-a.json": attestation_response(DIGEST_ATTESTED),
        # an SBOM attestation of d2's digest: signed, but not build provenance
        "security/attestations/sbom-b.json": attestation_response(
            DIGEST_SBOM_ONLY, "https://spdx.dev/Document/v2.3"
        ),
        "security/provisioning.csv": PROVISIONING,
    }


@pytest.fixture(scope="module")
def warehouse(module_tmp):
    return build_security_warehouse(module_tmp, _files(), as_of=AS_OF, kpi_yaml_extra=WORKSPACES)


def test_trivy_findings_take_first_seen_and_fixed_from_the_scan_series(warehouse):
    rows = {
        r["rule"]: r
        for r in query(
            warehouse,
            "select rule, severity, first_seen_at, fixed_at, reopened, fixed_within_sla, due_at "
            "from core.vulnerability_findings where source = 'trivy'",
        )
    }
    assert rows["CVE-2026-0001"]["fixed_at"] == dt.datetime(2026, 1, 7, 23, 59)
    assert rows["CVE-2026-0001"]["fixed_within_sla"] is True  # 7 d - 1 min
    assert rows["CVE-2026-0002"]["fixed_at"] == dt.datetime(2026, 1, 8, 0, 1)
    assert rows["CVE-2026-0002"]["fixed_within_sla"] is False  # 7 d + 1 min
    c = rows["CVE-2026-0003"]
    assert (c["first_seen_at"], c["fixed_at"], c["reopened"]) == (
        dt.datetime(2026, 1, 1, 0, 0, 0, 123456),
        dt.datetime(2026, 2, 5),
        True,
    )
    assert c["fixed_within_sla"] is False and c["severity"] == "high"


def test_vulnerability_sla_adherence_by_hand(warehouse):
    # January: A in, B out, C out (trivy, api); #1 in (dependabot, web); #2 false positive and #3
    # waived are left out -> 2 / 4.
    jan = kpi(warehouse, "vulnerability_sla_adherence", "2026-01")
    assert (jan["value"], jan["sample_size"]) == (pytest.approx(0.5), 4)
    assert kpi(warehouse, "vulnerability_sla_adherence", "2026-01", "service", "api")[
        "value"
    ] == pytest.approx(1 / 3)
    assert kpi(warehouse, "vulnerability_sla_adherence", "2026-01", "service", "web")[
        "value"
    ] == pytest.approx(1.0)
    assert kpi(warehouse, "vulnerability_sla_adherence", "2026-01", "team", "payments")[
        "value"
    ] == pytest.approx(0.5)
    # February: #4 (reopened, still open) missed its window ending 02-08 -> 0 / 1; target >= 0.90
    feb = kpi(warehouse, "vulnerability_sla_adherence", "2026-02")
    assert (feb["value"], feb["sample_size"], feb["target"], feb["target_met"]) == (0.0, 1, 0.9, False)
    # March: no window ended (#5 is due 04-19, after the run)
    assert kpi(warehouse, "vulnerability_sla_adherence", "2026-03")["sample_size"] == 0


def test_open_vulnerabilities_past_sla_at_month_end(warehouse):
    # end of January: C (due 01-31, fixed 02-05); end of February and March: #4 (due 02-08, open).
    assert kpi(warehouse, "open_vulnerabilities_past_sla", "2026-01")["value"] == 1
    assert kpi(warehouse, "open_vulnerabilities_past_sla", "2026-02")["value"] == 1
    assert kpi(warehouse, "open_vulnerabilities_past_sla", "2026-03")["value"] == 1
    assert kpi(warehouse, "open_vulnerabilities_past_sla", "2026-03", "service", "web")["value"] == 1
    assert kpi(warehouse, "open_vulnerabilities_past_sla", "2026-03", "service", "api")["value"] == 0
    drill = query(
        warehouse,
        "select subject_id from marts.kpi_observations where measure = 'open_vulnerabilities_past_sla' "
        "and observed_at >= '2026-01-01' and observed_at < '2026-02-01'",
    )
    assert [r["subject_id"] for r in drill] == ["trivy:api:zlib:CVE-2026-0003@2026-01"]


def test_vulnerability_fix_time_median(warehouse):
    # January fixes: #1 2 d, A (7 d - 1 min) 10079/1440 d, B (7 d + 1 min) 10081/1440 d -> median A.
    assert kpi(warehouse, "vulnerability_fix_time_p50_days", "2026-01")["value"] == pytest.approx(
        10079 / 1440
    )
    # February: C, 35 d from its first sighting.
    assert kpi(warehouse, "vulnerability_fix_time_p50_days", "2026-02")["value"] == pytest.approx(35.0)


def test_policy_compliance_with_failures_exceptions_and_warnings(warehouse):
    # pr-101 fails (a failure and an exception), pr-102 passes with a warning, pr-7 has an exception,
    # pr-8 and pr-9 pass -> 3 / 5 compliant; 2 / 5 with warnings.
    jan = kpi(warehouse, "policy_compliance_rate", "2026-01")
    assert (jan["value"], jan["sample_size"]) == (pytest.approx(0.6), 5)
    assert kpi(warehouse, "policy_warning_rate", "2026-01")["value"] == pytest.approx(0.4)
    assert kpi(warehouse, "policy_compliance_rate", "2026-01", "service", "api")["value"] == pytest.approx(
        0.5
    )
    assert kpi(warehouse, "policy_compliance_rate", "2026-01", "team", "search")["value"] == pytest.approx(
        1.0
    )
    pr101 = query(
        warehouse,
        "select failures, exceptions, warnings, is_compliant from core.policy_evaluations where subject_key = 'pr-101'",
    )
    assert pr101 == [{"failures": 1, "exceptions": 1, "warnings": 1, "is_compliant": False}]


def test_kyverno_resources_are_evaluations_with_exceptions_not_compliant(warehouse):
    # 2026-02-10 (1770717600 s): indexer-api fails, worker warns only, cron's failure is excepted -> 1 / 3;
    # kube-system is no service's namespace and is left out.
    feb = kpi(warehouse, "policy_compliance_rate", "2026-02")
    assert (feb["value"], feb["sample_size"]) == (pytest.approx(1 / 3), 3)
    assert kpi(warehouse, "policy_warning_rate", "2026-02", "service", "indexer")["value"] == pytest.approx(
        1 / 3
    )
    cron = query(
        warehouse,
        "select exceptions, is_compliant from core.policy_evaluations where subject_key = 'indexer/CronJob/cron'",
    )
    assert cron == [{"exceptions": 1, "is_compliant": False}]


def test_waivers_at_month_end_with_one_expiring_mid_month(warehouse):
    # Register and risk-accepted: Dec end: W1 (age 31 d). Jan end: W1 expired 01-15 (not closed: expired
    # still active), W2 (22 d), risk-accepted #3 (17 d). Feb end: W2 closed 02-20; #3 (45 d), W3 (19 d).
    # Mar end: #3 76 d, W3 50 d.
    # Policy exceptions (test_policy_exceptions_are_waivers_until_an_evaluation_no_longer_shows_them):
    # api's run_as_root from 01-10 on (22 d at Jan end, 50 d Feb, 81 d Mar), indexer's Kyverno
    # exception from 02-10 10:00 (18.58 d at Feb end, 49.58 d Mar); web's closed 01-13.
    # Active: Dec 1; Jan W2, #3, run_as_root = 3; Feb #3, W3, run_as_root, kyverno = 4; Mar 4.
    assert [
        kpi(warehouse, "active_waivers", m)["value"] for m in ("2025-12", "2026-01", "2026-02", "2026-03")
    ] == [1, 3, 4, 4]
    assert [
        kpi(warehouse, "expired_waivers_still_active", m)["value"] for m in ("2025-12", "2026-01", "2026-03")
    ] == [
        0,
        1,
        1,
    ]
    assert kpi(warehouse, "expired_waivers_still_active", "2026-01", "service", "api")["value"] == 1
    assert kpi(warehouse, "waiver_age_p50_days", "2025-12")["value"] == pytest.approx(31.0)
    assert kpi(warehouse, "waiver_age_p50_days", "2026-01")["value"] == pytest.approx(22.0)  # 17, 22, 22
    assert kpi(warehouse, "waiver_age_p50_days", "2026-02")["value"] == pytest.approx(
        32.0
    )  # 18.58, 19, 45, 50
    assert kpi(warehouse, "waiver_age_p50_days", "2026-03")["value"] == pytest.approx(
        63.0
    )  # 49.58, 50, 76, 81
    assert (
        kpi(warehouse, "active_waivers", "2026-02", "team", "search")["value"] == 1
    )  # the Kyverno exception
    exp = kpi(warehouse, "expired_waivers_still_active", "2026-01")
    assert (exp["target"], exp["target_met"]) == (0.0, False)


def test_policy_exceptions_are_waivers_until_an_evaluation_no_longer_shows_them(warehouse):
    # pr-101 (api, 01-10): service.yaml's exception for run_as_root; service.yaml is not evaluated again,
    # so it stays in force. pr-7 (web, 01-12): deploy.yaml's exception "x"; pr-8 (01-13) evaluates
    # deploy.yaml without it: closed then. Kyverno (02-10): the CronJob cron skipped by a
    # PolicyException for disallow-privileged/privileged-containers.
    rows = query(
        warehouse,
        "select waiver_id, source, policy, service, created_at, expires_at, closed_at from core.waivers "
        "where waiver_id like 'exception:%' order by waiver_id",
    )
    assert rows == [
        {
            "waiver_id": "exception:conftest:api:service.yaml:run_as_root",
            "source": "conftest",
            "policy": "run_as_root",
            "service": "api",
            "created_at": dt.datetime(2026, 1, 10),
            "expires_at": None,
            "closed_at": None,
        },
        {
            "waiver_id": "exception:conftest:web:deploy.yaml:x",
            "source": "conftest",
            "policy": "x",
            "service": "web",
            "created_at": dt.datetime(2026, 1, 12),
            "expires_at": None,
            "closed_at": dt.datetime(2026, 1, 13),
        },
        {
            "waiver_id": "exception:kyverno:indexer:indexer/CronJob/cron:disallow-privileged/privileged-containers",
            "source": "kyverno",
            "policy": "disallow-privileged/privileged-containers",
            "service": "indexer",
            "created_at": dt.datetime(2026, 2, 10, 10),
            "expires_at": None,
            "closed_at": None,
        },
    ]


def test_provenance_counts_known_digests_and_reports_unknown_apart(warehouse):
    # d1 attested (SLSA provenance for its digest), d2 only an SBOM attestation, d3 empty digest, d4 no
    # row, d5 not production -> coverage 1 / 2; two deployments without a digest.
    cov = kpi(warehouse, "artifact_provenance_coverage", "2026-01")
    assert (cov["value"], cov["sample_size"]) == (pytest.approx(0.5), 2)
    assert kpi(warehouse, "deployments_without_digest", "2026-01")["value"] == 2
    assert kpi(warehouse, "artifact_provenance_coverage", "2026-01", "service", "web")["sample_size"] == 0


def test_iac_drift_uses_the_last_assessment_and_counts_nested_modules(warehouse):
    # net-prod (-> indexer): the 01-28 plan has 4 managed resources (the data source is not managed)
    # and drift in module.network.module.sg only -> 1 / 4; the 01-20 plan (2 / 4) is not the last.
    # api (HCP Terraform): 1 drifted of 1 + 9 -> org (1 + 1) / (4 + 10).
    assert kpi(warehouse, "iac_drift_rate", "2026-01", "service", "indexer")["value"] == pytest.approx(0.25)
    assert kpi(warehouse, "iac_drift_rate", "2026-01", "service", "api")["value"] == pytest.approx(0.1)
    org = kpi(warehouse, "iac_drift_rate", "2026-01")
    assert (org["value"], org["sample_size"]) == (pytest.approx(2 / 14), 2)  # two workspaces assessed
    addresses = query(
        warehouse,
        "select drifted_addresses from core.iac_assessments where workspace = 'net-prod' and is_last_of_month",
    )
    assert addresses == [{"drifted_addresses": ["module.network.module.sg.aws_security_group.web"]}]


def test_provisioning_lead_time_median(warehouse):
    # r1 3 h, r2 6 h, r3 still pending -> median 4.5 h (target <= 4: missed)
    jan = kpi(warehouse, "provisioning_lead_time_p50_hours", "2026-01")
    assert (jan["value"], jan["sample_size"], jan["target_met"]) == (pytest.approx(4.5), 2, False)
