"""The demo organisation's security and compliance reports (``<files>/security``), consistent with the
services and deployments :func:`platform_kpi.demo.org.generate_demo_org` wrote, in the tools' formats
(see connectors.security_files):

* ``dependabot/<owner>_<repo>.json`` - the Dependabot alerts of every repository owned by one service over the whole window
  (~1.4 a month per service). The share of critical/high alerts fixed within their SLA (7 / 30 days)
  rises from about 60% to about 92% over the window, so vulnerability_sla_adherence improves; a few are
  dismissed as inaccurate (false positives) or as a tolerable risk (waived); the newest are still open.
* ``trivy/<service>/scan-<n>.json`` - image scans every 4 days of two services over the
  last 4 months, findings appearing and disappearing between scans.
* ``waivers.yaml`` - the waiver register: ~0.5 waivers a month per team early, ~0.2 late, 30-120 days long, mostly
  closed by their expiry; three expired ones never closed (expired_waivers_still_active).
* ``conftest/<service>/<day>_<deployment>.json`` - Conftest results of about 8 production
  deployments a month; compliance rises from ~80% to ~96%.
* ``terraform/<service>/<day>.json`` - a refresh-only plan at the end of each month for three services'
  workspaces (nested modules); drift falls from ~8% to ~3% of resources.
* ``deployment_artifacts.csv`` and ``attestations/<month>.json`` - the digest of each successful
  production deployment (unknown for 6% early, 1% late) and signed SLSA provenance for 50% early,
  95% late.
* ``provisioning.csv`` - ~8 environment requests a month; the median lead time falls from ~10 h to ~3 h.

Deterministic for a seed; about a second for the default organisation (mostly writing ~370 files).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import numpy as np

_SEVERITIES = np.array(["critical", "high", "medium", "low"])
_SEVERITY_P = [0.12, 0.33, 0.35, 0.20]
_SLA_DAYS = {"critical": 7.0, "high": 30.0}
_DAY = dt.timedelta(days=1)


def _z(t: dt.datetime) -> str:
    return t.replace(microsecond=0).isoformat() + "Z"


def _month_start(d: dt.date, back: int) -> dt.date:
    idx = d.year * 12 + d.month - 1 - back
    return dt.date(idx // 12, idx % 12 + 1, 1)


def _statement(digest_hex: str, name: str) -> str:
    # A fixed template (json.dumps per statement was most of the generation time).
    statement = (
        f'{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"{name}","digest":{{"sha256":"{digest_hex}"}}}}],'
        '"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":'
        '{"buildType":"https://actions.github.io/buildtypes/workflow/v1"}}}'
    )
    return base64.b64encode(statement.encode()).decode()


def _attestation(digest_hex: str, name: str) -> dict:
    return {
        "bundle": {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "dsseEnvelope": {
                "payload": _statement(digest_hex, name),
                "payloadType": "application/vnd.in-toto+json",
                "signatures": [{"sig": "MEUCIQDdemo"}],
            },
        },
        "repository_id": 1,
    }


_MADE: set[Path] = set()


def _write_json(path: Path, doc: object) -> None:
    if path.parent not in _MADE:
        path.parent.mkdir(parents=True, exist_ok=True)
        _MADE.add(path.parent)
    path.write_text(json.dumps(doc, separators=(",", ":")))


def generate_demo_security(
    out_dir: Path, *, seed: int = 7, today: dt.date, months: int = 24
) -> dict[str, int]:
    """Write the demo's security reports under ``out_dir/security``; returns files or rows per kind."""
    out = Path(out_dir)
    root = out / "security"
    rng = np.random.default_rng(np.random.SeedSequence([seed, 14]))
    _MADE.clear()
    with (out / "services.csv").open(newline="") as f:
        services = sorted((r["service"], r["team"], r.get("repo") or "") for r in csv.DictReader(f))
    start = dt.datetime.combine(_month_start(today, months), dt.time())
    end = dt.datetime.combine(today, dt.time())
    span = (end - start).total_seconds()

    def progress(t: dt.datetime) -> float:
        return min(max((t - start).total_seconds() / span, 0.0), 1.0)

    counts: dict[str, int] = {}

    # --- Dependabot alerts, per repository ---------------------------------------------------------
    by_repo: dict[str, list[dict]] = {}
    number = 0
    owners: dict[str, int] = {}
    for _service, _team, repo in services:
        owners[repo] = owners.get(repo, 0) + 1
    for service, _team, repo in services:
        if owners[repo] > 1:
            continue  # a repository shared by several services (acme/monorepo): its alerts are no one service's
        repo = repo or f"acme/{service}"
        n = int(rng.poisson(1.4 * months))
        created = sorted(start + dt.timedelta(seconds=float(s)) for s in rng.uniform(0, span, n))
        for c in created:
            number += 1
            severity = str(rng.choice(_SEVERITIES, p=_SEVERITY_P))
            sla = _SLA_DAYS.get(severity)
            u = rng.random()
            alert_no = len(by_repo.get(repo, [])) + 1
            state, fixed, dismissed, reason = "open", None, None, None
            if u < 0.04:
                state, dismissed, reason = "dismissed", c + _DAY * float(rng.uniform(0.5, 5)), "inaccurate"
            elif u < 0.055 and sla:
                state, dismissed, reason = (
                    "dismissed",
                    c + _DAY * sla * float(rng.uniform(0.2, 0.9)),
                    "tolerable_risk",
                )
            else:
                within = rng.random() < 0.55 + 0.40 * progress(c)
                base = sla or 30.0
                faster = 1 - 0.4 * progress(c)  # fixes get quicker as well as more punctual
                delay = base * (
                    float(rng.uniform(0.1, 0.98)) * faster if within else float(rng.uniform(1.05, 3.0))
                )
                fixed = c + _DAY * delay
                state = "fixed"
            closed = fixed or dismissed
            if closed is not None and closed >= end:
                state, fixed, dismissed, reason = "open", None, None, None
            by_repo.setdefault(repo, []).append(
                {
                    "number": alert_no,
                    "state": state,
                    "dependency": {
                        "package": {"ecosystem": "npm", "name": f"pkg-{number % 97}"},
                        "scope": "runtime",
                    },
                    "security_advisory": {
                        "ghsa_id": f"GHSA-demo-{number:05d}",
                        "cve_id": f"CVE-{c.year}-{10000 + number}",
                        "severity": severity,
                    },
                    "security_vulnerability": {
                        "package": {"ecosystem": "npm", "name": f"pkg-{number % 97}"},
                        "severity": severity,
                    },
                    "url": f"https://api.github.com/repos/{repo}/dependabot/alerts/{alert_no}",
                    "html_url": f"https://github.com/{repo}/security/dependabot/{alert_no}",
                    "created_at": _z(c),
                    "updated_at": _z(closed if closed is not None and state != "open" else c),
                    "dismissed_at": _z(dismissed) if dismissed else None,
                    "dismissed_reason": reason,
                    "fixed_at": _z(fixed) if fixed else None,
                    "auto_dismissed_at": None,
                }
            )
    for repo, alerts in by_repo.items():
        _write_json(root / "dependabot" / f"{repo.replace('/', '_')}.json", alerts)
    counts["dependabot_alerts"] = number

    # --- Trivy scan series: two services, every 4 days over the last 4 months -----------------------
    scans = 0
    trivy_start = max(start, end - dt.timedelta(days=120))
    for service, _team, _repo in services[:2]:
        live: dict[tuple[str, str], str] = {}
        t = trivy_start + dt.timedelta(hours=2)
        while t < end:
            for key in [k for k in live if rng.random() < 0.18]:
                del live[key]
            for _ in range(int(rng.poisson(0.5))):
                vid = f"CVE-{t.year}-{int(rng.integers(20000, 99999))}"
                live[(vid, f"lib{int(rng.integers(1, 30))}")] = str(
                    rng.choice(_SEVERITIES, p=_SEVERITY_P)
                ).upper()
            scans += 1
            _write_json(
                root / "trivy" / service / f"scan-{scans:05d}.json",
                {
                    "SchemaVersion": 2,
                    "CreatedAt": _z(t),
                    "ArtifactName": f"ghcr.io/acme/{service}:main",
                    "ArtifactType": "container_image",
                    "Results": [
                        {
                            "Target": f"ghcr.io/acme/{service}:main (debian 12.5)",
                            "Class": "os-pkgs",
                            "Type": "debian",
                            "Vulnerabilities": [
                                {
                                    "VulnerabilityID": v,
                                    "PkgName": p,
                                    "InstalledVersion": "1.0",
                                    "FixedVersion": "1.1",
                                    "Status": "fixed",
                                    "Severity": s,
                                }
                                for (v, p), s in sorted(live.items())
                            ],
                        }
                    ],
                },
            )
            t += dt.timedelta(days=4)
    counts["trivy_scans"] = scans

    # --- the waiver register ----------------------------------------------------------------------------
    waivers = []
    teams: dict[str, list[str]] = {}
    for service, team, _repo in services:
        teams.setdefault(team, []).append(service)
    for _team, owned in sorted(teams.items()):
        for c in sorted(
            start + dt.timedelta(seconds=float(s))
            for s in rng.uniform(0, span, int(rng.poisson(0.5 * months)))
        ):
            if rng.random() < 0.6 * progress(c):
                continue  # fewer waivers are granted as the paved road matures
            expires = c + _DAY * float(rng.integers(30, 121))
            on_time = rng.random() < 0.75 + 0.2 * progress(c)
            closed = (
                expires - _DAY * float(rng.uniform(0, 10))
                if on_time
                else expires + _DAY * float(rng.uniform(5, 60))
            )
            entry = {
                "id": f"WVR-{len(waivers) + 1:04d}",
                "policy": str(
                    rng.choice(["no-root-containers", "image-signing", "tls-1.2-min", "public-bucket"])
                ),
                "service": str(owned[int(rng.integers(0, len(owned)))]),
                "reason": "migration in progress",
                "approver": "security-lead",
                "created": c.date().isoformat(),
                "expires": expires.date().isoformat(),
            }
            if closed < end:
                entry["closed"] = closed.date().isoformat()
            waivers.append(entry)
    # three waivers past their expiry that nobody closed
    for i, (service, _team, _repo) in enumerate(services[:3]):
        created = end - _DAY * (150 + 20 * i)
        waivers.append(
            {
                "id": f"WVR-OLD-{i + 1}",
                "policy": "no-root-containers",
                "service": service,
                "reason": "legacy image",
                "approver": "security-lead",
                "created": created.date().isoformat(),
                "expires": (created + _DAY * 90).date().isoformat(),
            }
        )
    root.mkdir(parents=True, exist_ok=True)
    # JSON is YAML: the register is read by the YAML reader all the same, and writes much faster
    (root / "waivers.yaml").write_text(json.dumps({"waivers": waivers}, indent=1))
    counts["waivers"] = len(waivers)

    # --- deployments: artifacts, attestations, Conftest results ------------------------------------
    production = re.compile(r"(prod|production)([-_.].*)?", re.IGNORECASE)
    with (out / "deployments.csv").open(newline="") as f:
        deployments = sorted(
            (r["finished_at"], r["deployment_id"], r["service"])
            for r in csv.DictReader(f)
            if r["deployment_id"]
            and r["finished_at"]
            and production.fullmatch(r["environment"] or "")
            and (r["status"] or "").lower() in ("success", "succeeded")
        )
    artifact_lines = ["deployment_id,artifact_digest"]
    attestations: dict[str, list[dict]] = {}
    conftest_files = 0
    sample = 8 * months / max(len(deployments), 1)
    for finished, dep_id, service in deployments:
        when = dt.datetime.fromisoformat(finished.replace("Z", "+00:00")).replace(tzinfo=None)
        p = progress(when)
        if rng.random() < 0.06 - 0.05 * p:
            artifact_lines.append(f"{dep_id},")
        else:
            digest = hashlib.sha256(dep_id.encode()).hexdigest()
            artifact_lines.append(f"{dep_id},sha256:{digest}")
            if rng.random() < 0.50 + 0.45 * p:
                attestations.setdefault(finished[:7], []).append(
                    _attestation(digest, f"ghcr.io/acme/{service}")
                )
        if rng.random() < sample:
            compliant = rng.random() < 0.80 + 0.16 * p
            result = {"filename": "deploy/k8s.yaml", "namespace": "main", "successes": 12}
            if not compliant:
                if rng.random() < 0.7:
                    result["failures"] = [{"msg": "Containers must not run as root"}]
                else:
                    result["exceptions"] = [{"msg": 'data.main.exception[_][_] == "run_as_root"'}]
            if rng.random() < 0.3:
                result["warnings"] = [{"msg": "no resource limits set"}]
            _write_json(root / "conftest" / service / f"{when.date().isoformat()}_{dep_id}.json", [result])
            conftest_files += 1
    (root / "deployment_artifacts.csv").write_text("\n".join(artifact_lines) + "\n")
    for month, items in attestations.items():
        _write_json(root / "attestations" / f"{month}.json", {"attestations": items})
    counts["deployment_artifacts"] = len(artifact_lines) - 1
    counts["conftest_results"] = conftest_files

    # --- Terraform refresh-only plans, last day of each month ---------------------------------------
    plans = 0
    for service, _team, _repo in services[:3]:
        size = int(rng.integers(20, 60))
        for back in range(months, -1, -1):
            day = (
                _month_start(today, back - 1) - dt.timedelta(days=1)
                if back > 0
                else today - dt.timedelta(days=1)
            )
            t = dt.datetime.combine(day, dt.time(3))
            if t < start or t >= end:
                continue
            addresses = [
                f"module.app.module.net.aws_security_group.sg{i}" if i % 3 == 0 else f"aws_s3_bucket.b{i}"
                for i in range(size)
            ]
            drifted = [a for a in addresses if rng.random() < 0.08 - 0.05 * progress(t)]
            root_resources = [
                {"address": a, "mode": "managed", "type": a.split(".")[-2], "name": a.split(".")[-1]}
                for a in addresses
                if not a.startswith("module.")
            ]
            nested = [
                {"address": a, "mode": "managed", "type": a.split(".")[-2], "name": a.split(".")[-1]}
                for a in addresses
                if a.startswith("module.")
            ]
            _write_json(
                root / "terraform" / service / f"{day.isoformat()}.json",
                {
                    "format_version": "1.2",
                    "terraform_version": "1.9.5",
                    "timestamp": _z(t),
                    "prior_state": {
                        "values": {
                            "root_module": {
                                "resources": root_resources,
                                "child_modules": [
                                    {
                                        "address": "module.app",
                                        "child_modules": [
                                            {"address": "module.app.module.net", "resources": nested}
                                        ],
                                    }
                                ],
                            }
                        }
                    },
                    "resource_drift": [
                        {
                            "address": a,
                            "mode": "managed",
                            "type": a.split(".")[-2],
                            "name": a.split(".")[-1],
                            "change": {"actions": ["update"], "before": {}, "after": {}},
                        }
                        for a in drifted
                    ],
                    "resource_changes": [],
                },
            )
            plans += 1
    counts["terraform_plans"] = plans

    # --- provisioning requests ---------------------------------------------------------------------
    lines = ["request_id,service,requested_at,ready_at"]
    n = int(rng.poisson(8 * months))
    for i, s in enumerate(sorted(rng.uniform(0, span, n))):
        requested = start + dt.timedelta(seconds=float(s))
        hours = float(rng.lognormal(np.log(10 - 7 * progress(requested)), 0.5))
        ready = requested + dt.timedelta(hours=hours)
        service = services[int(rng.integers(0, len(services)))][0]
        lines.append(f"REQ-{i + 1:05d},{service},{_z(requested)},{_z(ready) if ready < end else ''}")
    (root / "provisioning.csv").write_text("\n".join(lines) + "\n")
    counts["provisioning_requests"] = n
    return counts
