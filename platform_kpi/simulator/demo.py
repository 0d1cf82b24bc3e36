"""The demo organisation served by the simulator: the canonical demo files turned into vendor payloads.

Deployments, their statuses, workflow runs and merged pull requests are GitHub's; incidents, the
alerts that paged them and their acknowledge/resolve log entries are PagerDuty's. Services of the shared ``acme/monorepo`` are told apart by path: deployments carry the
path in their payload, workflow runs have one workflow file per service, pull requests change files
under the service's folder. ``write_demo_sources_yaml`` writes the matching sources.yaml.

A change's pull-request flow (opened, ready for review, first review, approval, size) becomes the pull
request's ``created_at``, a ``ready_for_review`` issue event, reviews and its size; every third pull
request also gets the reviews a real one collects that do not count (a GitHub App's, the author's own,
a pending one), so the API path must filter them to give the files' numbers.

What GitHub and PagerDuty cannot express is lost on the way, as it would be with the real systems:
GitHub has no "cancelled" deployment state (such deployments end up ``inactive``), incidents do not
name the deployment that caused them (they are linked by time window), and a build whose start time
is not a time cannot exist in GitHub (the demo's bad build row is skipped).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

import yaml

from platform_kpi.simulator.server import SimData

PRODUCTION_NAMES = ["production", "prod", "Prod-EU", "prod-us", "production-canary"]
MONOREPO_PATH = "services/{service}/"
MONOREPO_WORKFLOW = ".github/workflows/{service}.yml"
TOKEN_ENVS = {"github": "KPI_DEMO_GITHUB_TOKEN", "pagerduty": "KPI_DEMO_PAGERDUTY_TOKEN"}

_SUCCESS = {"success", "succeeded", "successful", "ok", "passed"}
_FAILED = {"failed", "failure", "error", "errored"}
_CANCELLED = {"cancelled", "canceled", "aborted"}
_RUNNING = {"in_progress", "running"}


def _z(value: str) -> str | None:
    """A canonical time (Z, offset or naive UTC) as GitHub writes it; None if it is not a time."""
    if not value:
        return None
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t.replace(microsecond=0).isoformat() + "Z"


def _num(identifier: str) -> int:
    return int("".join(ch for ch in identifier if ch.isdigit()) or 0)


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _reviews(number: int, opened: str, row: dict[str, str]) -> list[dict]:
    """A pull request's reviews: the file's first human review and approval, and on every third pull
    request the ones that must not count (a GitHub App, the author, a review never submitted)."""

    def review(rid: int, login: str, state: str, at: str | None, kind: str = "User") -> dict:
        item = {"id": rid, "user": {"login": login, "type": kind}, "state": state, "body": ""}
        if at is not None:
            item["submitted_at"] = at
        return item

    out = []
    if number % 3 == 0:
        out += [
            review(number * 10 + 1, "github-actions[bot]", "COMMENTED", opened, "Bot"),
            review(number * 10 + 2, "dev", "COMMENTED", opened),
            review(number * 10 + 3, "pat", "PENDING", None),
        ]
    first, approved = _z(row.get("first_review_at", "")), _z(row.get("approved_at", ""))
    if first:
        out.append(review(number * 10 + 4, "sam", "APPROVED" if first == approved else "COMMENTED", first))
    if approved and approved != first:
        out.append(review(number * 10 + 5, "kim", "APPROVED", approved))
    return out


def _rows(files_dir: Path, entity: str) -> list[dict[str, str]]:
    with open(files_dir / f"{entity}.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def pagerduty_service_id(index: int) -> str:
    return f"PSVC{index:03d}"


def demo_services(files_dir: Path) -> list[dict]:
    """services.csv as sources.yaml ``services`` entries."""
    repos: dict[str, int] = {}
    rows = _rows(files_dir, "services")
    for r in rows:
        repos[r["repo"]] = repos.get(r["repo"], 0) + 1
    out = []
    for i, r in enumerate(rows):
        entry = {"service": r["service"], "team": r["team"], "tier": r["tier"], "repo": r["repo"]}
        if repos[r["repo"]] > 1:
            entry["paths"] = [
                MONOREPO_PATH.format(service=r["service"]),
                MONOREPO_WORKFLOW.format(service=r["service"]),
            ]
        entry["pagerduty_services"] = [pagerduty_service_id(i + 1)]
        out.append(entry)
    return out


def build_sim_data(files_dir: Path) -> SimData:
    """The demo organisation as GitHub and PagerDuty would serve it."""
    files_dir = Path(files_dir)
    data = SimData()
    gh = data.github
    services = {s["service"]: s for s in demo_services(files_dir)}
    pd_ids = {name: s["pagerduty_services"][0] for name, s in services.items()}

    def repo_of(service: str) -> str:
        return services[service]["repo"]

    def shared(service: str) -> bool:
        return "paths" in services[service]

    seen: set[int] = set()
    shas: dict[str, str] = {}
    for row in _rows(files_dir, "deployments"):
        dep_id = _num(row["deployment_id"])
        if dep_id in seen or row["service"] not in services:
            continue  # GitHub ids are unique; a repeated id in the file cannot exist there
        seen.add(dep_id)
        started, finished = _z(row["started_at"]), _z(row["finished_at"])
        if started is None:
            continue
        shas[row["deployment_id"]] = row["commit_sha"]
        word = row["status"].strip().lower()
        rollback = row["is_rollback"].lower() == "true"
        hotfix = row["is_hotfix"].lower() == "true"
        deployment = {
            "url": f"https://api.github.com/repos/{repo_of(row['service'])}/deployments/{dep_id}",
            "id": dep_id,
            "node_id": f"DE_{dep_id}",
            "sha": row["commit_sha"],
            "ref": f"hotfix/{row['deployment_id']}" if hotfix else "main",
            "task": "deploy:rollback" if rollback else "deploy",
            "payload": {"path": MONOREPO_PATH.format(service=row["service"])}
            if shared(row["service"])
            else {},
            "original_environment": row["environment"],
            "environment": row["environment"],
            "description": None,
            "creator": {"login": "deploy-bot", "id": 1, "type": "Bot"},
            "created_at": started,
            "updated_at": finished or started,
            "transient_environment": False,
            "production_environment": row["environment"] in PRODUCTION_NAMES,
        }
        gh.deployments.setdefault(repo_of(row["service"]), []).append(deployment)
        statuses = [
            {
                "id": dep_id * 10 + 1,
                "state": "in_progress",
                "created_at": started,
                "updated_at": started,
                "environment": row["environment"],
                "description": "Deploying",
                "log_url": "",
            }
        ]
        final = (
            "success"
            if word in _SUCCESS
            else "error"
            if word == "error"
            else "failure"
            if word in _FAILED
            else "inactive"
            if word in _CANCELLED
            else None
            if word in _RUNNING
            else word  # a state GitHub does not have: the staging model quarantines it
        )
        if final is not None:
            at = finished or started
            statuses.append(
                {
                    "id": dep_id * 10 + 2,
                    "state": final,
                    "created_at": at,
                    "updated_at": at,
                    "environment": row["environment"],
                    "description": "",
                    "log_url": "",
                }
            )
        gh.statuses[dep_id] = statuses

    for row in _rows(files_dir, "changes"):
        if row["service"] not in services:
            continue
        number = _num(row["change_id"])
        first, merged = _z(row["first_commit_at"]), _z(row["merged_at"])
        repo = repo_of(row["service"])
        merge_sha = shas.get(row["deployment_id"]) or _sha(row["change_id"])
        pull = {
            "url": f"https://api.github.com/repos/{repo}/pulls/{number}",
            "id": 10_000_000 + number,
            "number": number,
            "html_url": row.get("url") or f"https://github.com/{repo}/pull/{number}",
            "state": "closed",
            "title": f"Change {row['change_id']}",
            "user": {"login": "dev", "id": 2, "type": "User"},
            "created_at": _z(row.get("opened_at", "")) or first,
            "updated_at": merged,
            "closed_at": merged,
            "merged_at": merged,
            "merge_commit_sha": merge_sha,
            "draft": False,
            "head": {"ref": f"feature/{row['change_id']}", "sha": _sha(row["change_id"] + "head")},
            "base": {"ref": "main"},
        }
        for size in ("additions", "deletions", "commits"):
            if row.get(size):
                pull[size] = int(row[size])
        gh.pulls.setdefault(repo, []).append(pull)
        if row.get("opened_at"):
            gh.pull_reviews[(repo, number)] = _reviews(number, pull["created_at"], row)
            ready = _z(row.get("ready_at", ""))
            gh.pull_events[(repo, number)] = (
                [{"id": number, "event": "ready_for_review", "created_at": ready, "actor": pull["user"]}]
                if ready
                else []
            )
        gh.pull_commits[(repo, number)] = [
            {
                "sha": _sha(row["change_id"] + "c1"),
                "commit": {
                    "author": {"name": "dev", "date": first},
                    "committer": {"name": "dev", "date": first},
                    "message": "work",
                },
            },
        ]
        if shared(row["service"]):
            gh.pull_files[(repo, number)] = [
                {
                    "filename": MONOREPO_PATH.format(service=row["service"]) + "main.py",
                    "status": "modified",
                    "additions": 3,
                    "deletions": 1,
                    "changes": 4,
                },
            ]

    for row in _rows(files_dir, "builds"):
        if row["service"] not in services:
            continue
        started, finished = _z(row["started_at"]), _z(row["finished_at"])
        if started is None:
            continue
        run_id = _num(row["build_id"])
        word = row["status"].strip().lower()
        completed = word not in _RUNNING
        conclusion = (
            "success"
            if word in _SUCCESS
            else "failure"
            if word in _FAILED
            else "cancelled"
            if word in _CANCELLED
            else None
            if word in _RUNNING
            else word
        )
        repo = repo_of(row["service"])
        gh.runs.setdefault(repo, []).append(
            {
                "id": run_id,
                "name": "CI",
                "run_number": run_id,
                "run_attempt": 1,
                "event": "push",
                "head_branch": row["branch"],
                "head_sha": _sha(row["build_id"]),
                "status": "completed" if completed else "in_progress",
                "conclusion": conclusion,
                "workflow_id": 1,
                "path": MONOREPO_WORKFLOW.format(service=row["service"])
                if shared(row["service"])
                else ".github/workflows/ci.yml",
                "created_at": started,
                "run_started_at": started,
                "updated_at": finished if completed and finished else started,
            }
        )

    for row in _rows(files_dir, "incidents"):
        if row["service"] not in services:
            continue
        number = _num(row["incident_id"])
        created, resolved = _z(row["created_at"]), _z(row["resolved_at"])
        sev = row["severity"].lower().removeprefix("sev")
        data.pagerduty_incidents.append(
            {
                "id": f"Q{number:07d}",
                "type": "incident",
                "incident_number": number,
                "title": f"Incident {row['incident_id']}",
                "status": "resolved" if resolved else "triggered",
                "urgency": "high" if sev in ("1", "2") else "low",
                "created_at": created,
                "updated_at": resolved or created,
                "resolved_at": resolved,
                "last_status_change_at": resolved or created,
                "service": {
                    "id": pd_ids[row["service"]],
                    "type": "service_reference",
                    "summary": row["service"],
                },
                "priority": {"id": f"PPRI{sev}", "type": "priority_reference", "summary": f"P{sev}"}
                if sev
                else None,
                "teams": [],
                "alert_counts": {
                    "all": 1,
                    "triggered": 0 if resolved else 1,
                    "resolved": 1 if resolved else 0,
                },
            }
        )
    _add_incident_alerts(data, files_dir, pd_ids)
    return data


def _add_incident_alerts(data: SimData, files_dir: Path, pd_ids: dict[str, str]) -> None:
    """The alerts of alerts.csv (when the demo wrote one) that paged a served incident, with the log
    entries of their incidents: the first acknowledgement (by a person, else the integration) and the
    resolution. An alert outside any incident cannot exist in PagerDuty, which groups every alert into
    one, so those are lost on the way."""
    if not (files_dir / "alerts.csv").exists():
        return
    incidents = {i["id"]: i for i in data.pagerduty_incidents}
    acks: dict[str, tuple[str, str]] = {}
    for row in _rows(files_dir, "alerts"):
        incident = f"Q{_num(row['incident_id']):07d}" if row["incident_id"] else ""
        created = _z(row["created_at"])
        if incident not in incidents or row["service"] not in pd_ids or created is None:
            continue
        service = {"id": pd_ids[row["service"]], "type": "service_reference", "summary": row["service"]}
        data.pagerduty_alerts.setdefault(incident, []).append(
            {
                "id": f"PA{_num(row['alert_id']):07d}",
                "type": "alert",
                "created_at": created,
                "status": "resolved" if _z(row["resolved_at"]) else "triggered",
                "alert_key": row["alert_id"],
                "service": service,
                "incident": {"id": incident, "type": "incident_reference"},
                "suppressed": False,
                "severity": row["severity"] or "error",
                "integration": {
                    "id": "PINT001",
                    "type": "generic_events_api_inbound_integration_reference",
                    "summary": row["alert_source"],
                },  # fmt: skip
            }
        )
        acked = _z(row["acknowledged_at"])
        if acked and (incident not in acks or acked < acks[incident][0]):
            acks[incident] = (acked, row["acknowledged_by"])
    # an incident's alert_counts are those of its alerts, as PagerDuty keeps them (a sync relies on them
    # to skip incidents whose alerts did not change)
    for incident_id, incident in incidents.items():
        alerts = data.pagerduty_alerts.get(incident_id, [])
        incident["alert_counts"] = {
            "all": len(alerts),
            "triggered": sum(a["status"] == "triggered" for a in alerts),
            "resolved": sum(a["status"] == "resolved" for a in alerts),
        }
    for incident, (at, by) in sorted(acks.items()):
        agent = "user_reference" if by == "person" else "integration_reference"
        entries = [("acknowledge", at, agent, "web_trigger" if by == "person" else "api")]
        if incidents[incident]["resolved_at"]:
            entries.append(("resolve", incidents[incident]["resolved_at"], "user_reference", "web_trigger"))
        for kind, when, agent_type, channel in entries:
            data.pagerduty_log_entries.append(
                {
                    "id": f"R{kind[0].upper()}{_num(incident):07d}",
                    "type": f"{kind}_log_entry",
                    "created_at": when,
                    "agent": {
                        "id": "PUSER01" if agent_type == "user_reference" else "PINT001",
                        "type": agent_type,
                    },
                    "channel": {"type": channel},
                    "service": incidents[incident]["service"],
                    "incident": {"id": incident, "type": "incident_reference"},
                }
            )


def write_demo_sources_yaml(
    path: Path, files_dir: Path, urls: dict[str, str], history_days: int = 450
) -> Path:
    """A sources.yaml reading the demo organisation from the simulator at ``urls``."""
    services = demo_services(Path(files_dir))
    config = {
        "history_days": history_days,
        "lookback_hours": 24,
        "github": {
            "base_url": urls["github"],
            "token_env": TOKEN_ENVS["github"],
            "repos": sorted({s["repo"] for s in services}),
            "environments": {"production": PRODUCTION_NAMES},
        },
        "pagerduty": {
            "base_url": urls["pagerduty"],
            "token_env": TOKEN_ENVS["pagerduty"],
            "services": [s["pagerduty_services"][0] for s in services],
        },
        "http": {"timeout": 10, "backoff_base": 0.2, "backoff_cap": 5, "give_up_after": 120},
        "services": services,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# The demo organisation read through the local API simulator (kpi demo --via-api).\n"
        + yaml.safe_dump(config, sort_keys=False)
    )
    return path
