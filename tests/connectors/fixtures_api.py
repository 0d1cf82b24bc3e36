"""A small hand-written organisation as GitHub and PagerDuty serve it, with the domain rows it must give.

Three services: ``api`` (repo acme/api) and, in the shared repo acme/mono, ``web`` and ``indexer``
(told apart by path). Page sizes are 2 so every listing spans several pages.
"""

from __future__ import annotations

import datetime as dt

from platform_kpi.simulator.server import SimData

T = dt.datetime


def z(t: dt.datetime) -> str:
    return t.isoformat() + "Z"


SERVICES = [
    {"service": "api", "team": "payments", "repo": "acme/api", "pagerduty_services": ["PAPI"]},
    {
        "service": "web",
        "team": "payments",
        "repo": "acme/mono",
        "paths": ["services/web/", ".github/workflows/web.yml"],
        "pagerduty_services": ["PWEB"],
    },
    {
        "service": "indexer",
        "team": "search",
        "repo": "acme/mono",
        "paths": ["services/indexer/", ".github/workflows/indexer.yml"],
    },
]

GITHUB = {
    "repos": ["acme/api", "acme/mono"],
    "per_page": 2,
    "environments": {"production": ["production", "prod", "Prod-EU"]},
    # these tests pin REST request paths (GET /pulls, /pulls/{n}/commits, ...); pull requests through
    # GraphQL, the default, are tested with GITHUB_GRAPHQL and in test_github_graphql.py
    "graphql": False,
}
GITHUB_GRAPHQL = {**GITHUB, "graphql": True}
PAGERDUTY = {"services": ["PAPI", "PWEB", "PNOPE"], "limit": 2}


def deployment(
    dep_id: int,
    repo: str,
    env: str,
    created: dt.datetime,
    *,
    sha: str | None = None,
    task: str = "deploy",
    ref: str = "main",
    path: str | None = None,
) -> dict:
    return {
        "url": f"https://api.github.com/repos/{repo}/deployments/{dep_id}",
        "id": dep_id,
        "sha": sha or f"{dep_id:040d}",
        "ref": ref,
        "task": task,
        "payload": {"path": path} if path else {},
        "original_environment": env,
        "environment": env,
        "created_at": z(created),
        "updated_at": z(created),
        "production_environment": env.lower().startswith("prod"),
        "transient_environment": False,
    }


def status(dep_id: int, n: int, state: str, at: dt.datetime) -> dict:
    return {"id": dep_id * 100 + n, "state": state, "created_at": z(at), "updated_at": z(at), "log_url": ""}


def add_deployment(data: SimData, dep: dict, states: list[tuple[str, dt.datetime]]) -> None:
    repo = dep["url"].split("/repos/")[1].rsplit("/deployments", 1)[0]
    data.github.deployments.setdefault(repo, []).append(dep)
    data.github.statuses[dep["id"]] = [status(dep["id"], i, s, t) for i, (s, t) in enumerate(states)]
    if states:
        dep["updated_at"] = z(states[-1][1])


def run(
    run_id: int,
    branch: str,
    status_: str,
    conclusion: str | None,
    created: dt.datetime,
    minutes: float,
    path: str = ".github/workflows/ci.yml",
) -> dict:
    return {
        "id": run_id,
        "name": "CI",
        "run_number": run_id,
        "run_attempt": 1,
        "event": "push",
        "head_branch": branch,
        "head_sha": f"{run_id:040d}",
        "status": status_,
        "conclusion": conclusion,
        "workflow_id": 7,
        "path": path,
        "created_at": z(created),
        "run_started_at": z(created),
        "updated_at": z(created + dt.timedelta(minutes=minutes)),
    }


def pull(
    number: int,
    created: dt.datetime,
    merged: dt.datetime | None,
    merge_sha: str,
    closed: dt.datetime | None = None,
) -> dict:
    closed = closed or merged
    return {
        "id": 5000 + number,
        "number": number,
        "state": "closed",
        "created_at": z(created),
        "updated_at": z(closed),
        "closed_at": z(closed),
        "merged_at": z(merged) if merged else None,
        "merge_commit_sha": merge_sha,
        "draft": False,
        "head": {"ref": f"feature/{number}"},
        "base": {"ref": "main"},
    }


def commit(at: dt.datetime, n: int = 0) -> dict:
    return {
        "sha": f"{n:040x}",
        "commit": {"author": {"date": z(at)}, "committer": {"date": z(at)}, "message": "x"},
    }


def github_data(data: SimData) -> SimData:
    api, mono = "acme/api", "acme/mono"
    add_deployment(
        data,
        deployment(1, api, "production", T(2026, 11, 5, 12), sha="a" * 40),
        [("in_progress", T(2026, 11, 5, 12)), ("success", T(2026, 11, 5, 12, 5))],
    )
    add_deployment(
        data, deployment(2, api, "Prod-EU", T(2026, 11, 6, 9)), [("failure", T(2026, 11, 6, 9, 10))]
    )
    add_deployment(
        data,
        deployment(3, api, "staging", T(2026, 11, 7, 10)),
        [("success", T(2026, 11, 7, 10, 4)), ("inactive", T(2026, 11, 8, 10))],
    )
    add_deployment(
        data, deployment(4, api, "production", T(2026, 11, 8, 10)), [("inactive", T(2026, 11, 8, 11))]
    )
    add_deployment(
        data,
        deployment(5, api, "production", T(2026, 11, 9, 10), task="deploy:rollback"),
        [("in_progress", T(2026, 11, 9, 10)), ("success", T(2026, 11, 9, 10, 3))],
    )
    add_deployment(
        data, deployment(6, api, "production", T(2026, 11, 14, 10)), [("queued", T(2026, 11, 14, 10))]
    )
    add_deployment(
        data,
        deployment(7, mono, "prod", T(2026, 11, 10, 8), path="services/web/"),
        [("success", T(2026, 11, 10, 8, 6))],
    )
    add_deployment(
        data,
        deployment(8, mono, "prod", T(2026, 11, 11, 8), path="services/indexer/", ref="hotfix/x"),
        [("error", T(2026, 11, 11, 8, 2))],
    )

    data.github.runs[api] = [
        run(101, "main", "completed", "success", T(2026, 11, 5, 8), 10),
        run(102, "feature/x", "completed", "failure", T(2026, 11, 6, 8), 5),
        run(103, "main", "completed", "cancelled", T(2026, 11, 7, 8), 1),
        run(104, "main", "in_progress", None, T(2026, 11, 14, 9), 2),
        run(105, "main", "completed", "timed_out", T(2026, 11, 8, 8), 60),
    ]
    data.github.runs[mono] = [
        run(201, "main", "completed", "success", T(2026, 11, 9, 8), 4, ".github/workflows/indexer.yml"),
        run(202, "main", "completed", "skipped", T(2026, 11, 9, 9), 0, ".github/workflows/web.yml"),
    ]

    data.github.pulls[api] = [
        pull(1, T(2026, 11, 4, 9), T(2026, 11, 5, 11), "a" * 40),
        pull(2, T(2026, 11, 5, 9), None, "b" * 40, closed=T(2026, 11, 6, 9)),
        pull(3, T(2026, 11, 8, 9), T(2026, 11, 9, 9, 30), "f" * 40),
    ]
    data.github.pull_commits[(api, 1)] = [commit(T(2026, 11, 4, 8), 1), commit(T(2026, 11, 4, 20), 2)]
    data.github.pull_commits[(api, 3)] = [commit(T(2026, 11, 8, 9), 3)]
    data.github.pulls[mono] = [
        pull(10, T(2026, 11, 9, 8), T(2026, 11, 10, 7, 30), "c" * 40),
        pull(11, T(2026, 11, 9, 8), T(2026, 11, 10, 9), "d" * 40),
    ]
    data.github.pull_commits[(mono, 10)] = [commit(T(2026, 11, 9, 7), 10)]
    data.github.pull_commits[(mono, 11)] = [commit(T(2026, 11, 9, 7), 11)]
    data.github.pull_files[(mono, 10)] = [
        {"filename": "services/indexer/a.py"},
        {"filename": "services/indexer/b.py"},
        {"filename": "services/web/c.py"},
    ]
    data.github.pull_files[(mono, 11)] = [{"filename": "README.md"}]
    return data


def incident(
    inc_id: str,
    service: str,
    created: dt.datetime,
    status_: str,
    resolved: dt.datetime | None = None,
    priority: str | None = None,
    urgency: str = "high",
) -> dict:
    return {
        "id": inc_id,
        "type": "incident",
        "incident_number": int(inc_id[1:]),
        "title": f"incident {inc_id}",
        "status": status_,
        "urgency": urgency,
        "created_at": z(created),
        "updated_at": z(resolved or created),
        "resolved_at": z(resolved) if resolved else None,
        "last_status_change_at": z(resolved or created),
        "service": {"id": service, "type": "service_reference", "summary": service.lower()},
        "priority": {"id": "PP", "summary": priority} if priority else None,
        "teams": [],
        "alert_counts": {"all": 1},
    }


def pagerduty_data(data: SimData) -> SimData:
    data.pagerduty_incidents += [
        incident("Q1", "PAPI", T(2026, 11, 5, 12, 30), "resolved", T(2026, 11, 5, 13, 30), priority="P1"),
        incident("Q2", "PWEB", T(2026, 11, 10, 9), "triggered"),
        incident("Q3", "PAPI", T(2026, 11, 12), "acknowledged", urgency="low"),
        incident("Q4", "PNOPE", T(2026, 11, 12, 1), "resolved", T(2026, 11, 12, 2)),
        incident("Q5", "PWEB", T(2026, 11, 13, 1), "resolved", T(2026, 11, 13, 1, 45)),
    ]
    return data


# What the domain tables must hold (by hand from the payloads above).
EXPECTED_DEPLOYMENTS = {
    # id: (service, environment, status, finished_at, is_rollback, is_hotfix)
    "github:deployment:1": ("api", "production", "SUCCESS", T(2026, 11, 5, 12, 5), False, False),
    "github:deployment:2": ("api", "production", "FAILURE", T(2026, 11, 6, 9, 10), False, False),
    "github:deployment:3": ("api", "staging", "SUCCESS", T(2026, 11, 7, 10, 4), False, False),
    "github:deployment:4": ("api", "production", "CANCELED", T(2026, 11, 8, 11), False, False),
    "github:deployment:5": ("api", "production", "SUCCESS", T(2026, 11, 9, 10, 3), True, False),
    "github:deployment:6": ("api", "production", "QUEUED", None, False, False),
    "github:deployment:7": ("web", "production", "SUCCESS", T(2026, 11, 10, 8, 6), False, False),
    "github:deployment:8": ("indexer", "production", "FAILURE", T(2026, 11, 11, 8, 2), False, True),
}
EXPECTED_BUILDS = {
    # id: (service, branch, status, duration_sec)
    "github:build:101": ("api", "main", "SUCCESS", 600),
    "github:build:102": ("api", "feature/x", "FAILURE", 300),
    "github:build:103": ("api", "main", "CANCELED", 60),
    "github:build:104": ("api", "main", "IN_PROGRESS", None),
    "github:build:105": ("api", "main", "FAILURE", 3600),
    "github:build:201": ("indexer", "main", "SUCCESS", 240),
    "github:build:202": ("web", "main", "SKIPPED", 0),
}
EXPECTED_CHANGES = {
    # id: (service, first_commit_at, merged_at, deployment_id)
    "github:change:acme/api#1": ("api", T(2026, 11, 4, 8), T(2026, 11, 5, 11), "github:deployment:1"),
    "github:change:acme/api#3": ("api", T(2026, 11, 8, 9), T(2026, 11, 9, 9, 30), None),
    "github:change:acme/mono#10": ("indexer", T(2026, 11, 9, 7), T(2026, 11, 10, 7, 30), None),
}
EXPECTED_INCIDENTS = {
    # id: (service, severity, created_at, resolved_at)
    "pagerduty:incident:Q1": ("api", "P1", T(2026, 11, 5, 12, 30), T(2026, 11, 5, 13, 30)),
    "pagerduty:incident:Q2": ("web", "high", T(2026, 11, 10, 9), None),
    "pagerduty:incident:Q3": ("api", "low", T(2026, 11, 12), None),
    "pagerduty:incident:Q5": ("web", "high", T(2026, 11, 13, 1), T(2026, 11, 13, 1, 45)),
}
EXPECTED_QUARANTINE = {
    (
        "github",
        "changes",
        "acme/mono#11",
    ): "no service mapped for repository acme/mono or the pull request's files",
    ("pagerduty", "incidents", "Q4"): "no service mapped for PagerDuty service PNOPE",
}


def org_data() -> SimData:
    return pagerduty_data(github_data(SimData()))
