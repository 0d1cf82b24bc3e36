"""A local simulator of the source APIs, on 127.0.0.1: GitHub, GitLab, Jenkins, PagerDuty, Opsgenie.

It speaks each vendor's documented payloads, auth headers, pagination (Link headers, ``x-next-page``,
``{M,N}`` ranges, ``offset``/``more``, ``paging.next``) and rate-limit headers, and can inject faults
(429 with Retry-After, GitHub primary/secondary limits, 5xx bursts, timeouts, truncated pages). Every
request is logged, so tests can count what a sync fetched. It backs the tests and ``kpi demo --via-api``.

Paths: ``/github/...``, ``/gitlab/api/v4/...``, ``/jenkins/...``, ``/pagerduty/...``, ``/opsgenie/...``.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import functools
import json
import re
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from platform_kpi.simulator.graphql import Connection, QueryError, execute


@functools.lru_cache(maxsize=500_000)  # listings filter every record by time on every request
def _ts(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


@dataclass
class Fault:
    """Answer the next ``times`` requests whose path matches ``path`` (a regex) with a fault.

    kinds: ``429`` (Retry-After), ``403-secondary`` (GitHub secondary limit, Retry-After),
    ``403-primary`` (x-ratelimit-remaining 0 + reset), ``429-gitlab`` (RateLimit-Reset, no Retry-After),
    ``500``/``502``/``503``, ``timeout`` (answers after ``delay`` seconds), ``truncate`` (half a JSON body),
    ``delay`` (answers normally after ``delay`` seconds; for kill tests), ``quota-spent`` (answers normally
    with ``x-ratelimit-remaining: 0``), ``redirect`` (302 to the same path and query on the ``target``
    origin), ``foreign-next`` (answers normally, but its next-page links - ``Link``, ``paging.next`` - point
    to the ``target`` origin), ``echo-credentials`` (answers ``status`` with the credential header it
    received echoed in the error message, as misconfigured proxies and some APIs do).
    """

    path: str
    kind: str
    times: int = 1
    skip: int = 0  #: let this many matching requests through first
    delay: float = 2.0
    retry_after: float = 1.0
    target: str = ""  #: another origin (``http://127.0.0.1:<port>``) for ``redirect`` / ``foreign-next``
    status: int = 422  #: the HTTP status of ``echo-credentials``
    seen: int = 0
    fired: int = 0

    def take(self, path: str) -> bool:
        if self.fired >= self.times or not re.search(self.path, path):
            return False
        self.seen += 1
        if self.seen <= self.skip:
            return False
        self.fired += 1
        return True


@dataclass
class GitHubData:
    deployments: dict[str, list[dict]] = field(default_factory=dict)  # repo -> deployments
    statuses: dict[int, list[dict]] = field(default_factory=dict)  # deployment id -> statuses (oldest first)
    runs: dict[str, list[dict]] = field(default_factory=dict)
    pulls: dict[str, list[dict]] = field(default_factory=dict)
    pull_commits: dict[tuple[str, int], list[dict]] = field(default_factory=dict)
    pull_files: dict[tuple[str, int], list[dict]] = field(default_factory=dict)
    pull_reviews: dict[tuple[str, int], list[dict]] = field(default_factory=dict)  # chronological
    pull_events: dict[tuple[str, int], list[dict]] = field(default_factory=dict)  # issue events


@dataclass
class GitLabData:
    deployments: dict[str, list[dict]] = field(default_factory=dict)  # project path -> deployments
    pipelines: dict[str, list[dict]] = field(default_factory=dict)  # full pipeline objects (with timings)
    merge_requests: dict[str, list[dict]] = field(default_factory=dict)
    mr_commits: dict[tuple[str, int], list[dict]] = field(default_factory=dict)
    #: (project, iid) -> the approvals object; a merge request without one answers 404 (GitLab Free)
    mr_approvals: dict[tuple[str, int], dict] = field(default_factory=dict)
    mr_notes: dict[tuple[str, int], list[dict]] = field(default_factory=dict)  # oldest first


@dataclass
class SimData:
    github: GitHubData = field(default_factory=GitHubData)
    gitlab: GitLabData = field(default_factory=GitLabData)
    #: Jenkins tree: name -> {"_class": ..., "jobs": {...}} for folders or {"_class": ..., "builds": [...]}
    jenkins: dict[str, dict] = field(default_factory=dict)
    pagerduty_incidents: list[dict] = field(default_factory=list)
    opsgenie_alerts: list[dict] = field(default_factory=list)
    opsgenie_incidents: list[dict] = field(default_factory=list)
    #: PagerDuty incident id -> its alerts (GET /incidents/{id}/alerts), and every incident log entry
    pagerduty_alerts: dict[str, list[dict]] = field(default_factory=dict)
    pagerduty_log_entries: list[dict] = field(default_factory=list)


DEFAULT_TOKENS = {
    "github": "ghp_sim_token",
    "gitlab": "glpat-sim-token",
    "jenkins": "jenkins-sim-token",
    "pagerduty": "pd-sim-token",
    "opsgenie": "og-sim-key",
}
JENKINS_USER = "kpi-bot"
#: fields of a pull request that only ``GET /pulls/{n}`` sends, not the listing
_PULL_DETAIL_ONLY = frozenset(
    {
        "additions",
        "deletions",
        "commits",
        "changed_files",
        "comments",
        "review_comments",
        "merged",
        "mergeable",
    }
)


class _Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


class Simulator:
    """The simulated APIs; ``with Simulator(data) as sim: sim.url('github')``."""

    def __init__(self, data: SimData | None = None, tokens: dict[str, str] | None = None) -> None:
        self.data = data or SimData()
        self.tokens = {**DEFAULT_TOKENS, **(tokens or {})}
        self.faults: list[Fault] = []
        self.log: list[list] = []  # [vendor, path, query, status]
        #: GitHub's primary limit, enforced when set: (requests, window seconds). Answers carry the
        #: window's x-ratelimit-* headers; a request beyond the limit is refused with 403 and counted.
        self.github_limit: tuple[int, int] | None = None
        self.over_limit = 0
        self._window = (0.0, 0)  # (start, requests in it)
        self._runs_cache: dict[str, tuple] = {}
        self.in_flight = 0
        self.max_in_flight = 0  #: the most requests served at once (shows a client's concurrency)
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self, port: int = 0) -> Simulator:
        sim = self

        class Handler(_Handler):
            simulator = sim

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    def url(self, vendor: str) -> str:
        suffix = {"gitlab": "/gitlab/api/v4"}.get(vendor, f"/{vendor}")
        return f"http://127.0.0.1:{self.port}{suffix}"

    def requests(self, vendor: str | None = None, path: str | None = None) -> list[list]:
        with self.lock:
            return [
                r
                for r in self.log
                if (vendor is None or r[0] == vendor) and (path is None or re.search(path, r[1]))
            ]

    def reset_log(self) -> None:
        with self.lock:
            self.log.clear()

    def add_fault(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    # -- dispatch ----------------------------------------------------------------------------------

    def handle(
        self, path: str, query: dict[str, list[str]], headers, body: Any = None
    ) -> tuple[int, Any, dict[str, str]]:
        vendor = path.strip("/").split("/")[0]
        try:
            self._auth(vendor, headers)
            if body is not None:  # a POST: only GitHub's GraphQL endpoint takes one
                if path.rstrip("/") != "/github/graphql":
                    raise _Reply(404, {"message": "Not Found"})
                return self._github_graphql(body)
            route = getattr(self, f"_{vendor}", None)
            if route is None:
                raise _Reply(404, {"message": "Not Found"})
            rest = path[len(vendor) + 1 :] if vendor != "gitlab" else path[len("/gitlab/api/v4") :]
            body, extra = route(rest, query)
            return 200, body, extra
        except _Reply as reply:
            return reply.status, reply.body, reply.headers

    def _auth(self, vendor: str, headers) -> None:
        token = self.tokens.get(vendor)
        got = headers.get("Authorization", "")
        if vendor == "github":
            ok = got == f"Bearer {token}"
            body = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
        elif vendor == "gitlab":
            ok = headers.get("PRIVATE-TOKEN") == token
            body = {"message": "401 Unauthorized"}
        elif vendor == "jenkins":
            expected = "Basic " + base64.b64encode(f"{JENKINS_USER}:{token}".encode()).decode()
            ok = got == expected
            body = {"message": "Unauthorized"}
        elif vendor == "pagerduty":
            ok = got == f"Token token={token}"
            body = {"error": {"message": "Authentication failed", "code": 2006}}
        elif vendor == "opsgenie":
            ok = got == f"GenieKey {token}"
            body = {"message": "Could not authenticate", "took": 0.0, "requestId": "sim"}
        else:
            return
        if not ok:
            raise _Reply(401, body)

    # -- helpers -----------------------------------------------------------------------------------

    def _page(
        self, items: list, query: dict, base: str, per_page_max: int = 100
    ) -> tuple[list, dict[str, str]]:
        """Page-number pagination with a Link header (GitHub and GitLab)."""
        per_page = min(int(query.get("per_page", ["30"])[0]), per_page_max)
        page = max(1, int(query.get("page", ["1"])[0]))
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        links = []

        def link(n: int, rel: str) -> str:
            q = {k: v for k, v in query.items()}
            q["page"] = [str(n)]
            return f'<{base}?{urllib.parse.urlencode(q, doseq=True)}>; rel="{rel}"'

        if page < last:
            links.append(link(page + 1, "next"))
            links.append(link(last, "last"))
        if page > 1:
            links.append(link(1, "first"))
            links.append(link(page - 1, "prev"))
        headers = {"Link": ", ".join(links)} if links else {}
        return chunk, headers

    # -- GitHub ------------------------------------------------------------------------------------

    def _github(self, path: str, query: dict) -> tuple[Any, dict]:
        g = self.data.github
        base = f"http://127.0.0.1:{self.port}/github{path}"
        rate = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-used": "1",
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-ratelimit-resource": "core",
        }
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/(.*)", path)
        if not m:
            raise _Reply(404, {"message": "Not Found"})
        repo, rest = m.groups()
        if rest == "deployments":
            items = sorted(
                g.deployments.get(repo, []), key=lambda d: (d.get("created_at") or "", d["id"]), reverse=True
            )
            for k in ("sha", "ref", "task", "environment"):
                if k in query:
                    items = [d for d in items if d.get(k) == query[k][0]]
            chunk, headers = self._page(items, query, base)
            return chunk, {**rate, **headers}
        if m2 := re.fullmatch(r"deployments/(\d+)/statuses", rest):
            states = list(reversed(g.statuses.get(int(m2.group(1)), [])))  # newest first
            chunk, headers = self._page(states, query, base)
            return chunk, {**rate, **headers}
        if rest == "actions/runs":
            times, ordered = self._runs_index(repo)
            if "created" in query:
                lo, _, hi = query["created"][0].partition("..")
                lo_t, hi_t = _ts(lo), _ts(hi)
                ordered = ordered[bisect.bisect_left(times, lo_t) : bisect.bisect_right(times, hi_t)]
            else:
                ordered = g.runs.get(repo, [])  # every run, one without a creation time too
            runs = sorted(ordered, key=lambda r: (r.get("created_at") or "", r["id"]), reverse=True)
            total = len(runs)
            chunk, headers = self._page(runs[:1000], query, base)  # a filtered listing stops at 1,000
            return {"total_count": total, "workflow_runs": chunk}, {**rate, **headers}
        if m2 := re.fullmatch(r"actions/runs/(\d+)", rest):
            for r in g.runs.get(repo, []):
                if r["id"] == int(m2.group(1)):
                    return r, rate
            raise _Reply(404, {"message": "Not Found"})
        if rest == "pulls":
            state = query.get("state", ["open"])[0]
            prs = [p for p in g.pulls.get(repo, []) if state == "all" or p.get("state") == state]
            key = {"updated": "updated_at", "created": "created_at"}.get(
                query.get("sort", ["created"])[0], "created_at"
            )
            desc = query.get("direction", ["desc"])[0] == "desc"
            prs = sorted(prs, key=lambda p: (p.get(key) or "", p["number"]), reverse=desc)
            # the listing has no size or commit count: only GET /pulls/{n} does
            prs = [{k: v for k, v in p.items() if k not in _PULL_DETAIL_ONLY} for p in prs]
            chunk, headers = self._page(prs, query, base)
            return chunk, {**rate, **headers}
        if m2 := re.fullmatch(r"pulls/(\d+)", rest):
            for p in g.pulls.get(repo, []):
                if p["number"] == int(m2.group(1)):
                    return p, rate
            raise _Reply(404, {"message": "Not Found"})
        if m2 := re.fullmatch(r"pulls/(\d+)/(commits|files|reviews)", rest):
            kind = m2.group(2)
            store = {"commits": g.pull_commits, "files": g.pull_files, "reviews": g.pull_reviews}[kind]
            items = store.get((repo, int(m2.group(1))), [])[: 250 if kind == "commits" else 3000]
            chunk, headers = self._page(items, query, base)
            return chunk, {**rate, **headers}
        if m2 := re.fullmatch(r"issues/(\d+)/events", rest):
            chunk, headers = self._page(g.pull_events.get((repo, int(m2.group(1))), []), query, base)
            return chunk, {**rate, **headers}
        raise _Reply(404, {"message": "Not Found"})

    def _runs_index(self, repo: str) -> tuple[list, list]:
        """A repository's runs with a creation time, ordered by it (and the times), for the ``created``
        filter: a bisect instead of a scan of every run per request. Rebuilt when the list changes
        length (tests add runs between syncs; a run changed in place is the same dict)."""
        runs = self.data.github.runs.get(repo, [])
        key = (id(runs), len(runs))
        cached = self._runs_cache.get(repo)
        if cached is None or cached[0] != key:
            timed = sorted(
                ((t, r) for r in runs if (t := _ts(r.get("created_at"))) is not None), key=lambda x: x[0]
            )
            cached = (key, [t for t, _ in timed], [r for _, r in timed])
            self._runs_cache[repo] = cached
        return cached[1], cached[2]

    # -- GitHub GraphQL ----------------------------------------------------------------------------

    def _github_graphql(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        """``POST /graphql``: the pull-request query of connectors/github.py, from the REST routes' data.

        Shapes: GitHub's GraphQL reference (PullRequest, PullRequestReview, ReadyForReviewEvent,
        PullRequestChangedFile, RateLimit); a malformed request is a 400 with ``message`` as GitHub
        sends it, a query error an HTTP 200 with ``errors[]``."""
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise _Reply(
                400,
                {"message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/graphql"},
            )
        g = self.data.github
        reset = int(time.time()) + 3600
        headers = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4990",
            "x-ratelimit-used": "10",
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-resource": "graphql",
        }

        def actor(user: dict | None) -> dict | None:
            if not user:
                return None
            return {"__typename": "Bot" if user.get("type") == "Bot" else "User", "login": user.get("login")}

        def node(repo: str, p: dict) -> dict:
            key = (repo, p["number"])
            commits = g.pull_commits.get(key, [])[:250]
            files = g.pull_files.get(key, [])
            merged = bool(p.get("merged_at"))
            return {
                "databaseId": p.get("id"),
                "number": p["number"],
                "title": p.get("title"),
                "url": p.get("html_url"),
                "state": "MERGED" if merged else str(p.get("state", "open")).upper(),
                "isDraft": bool(p.get("draft")),
                "createdAt": p.get("created_at"),
                "updatedAt": p.get("updated_at"),
                "closedAt": p.get("closed_at"),
                "mergedAt": p.get("merged_at"),
                "additions": p.get("additions"),
                "deletions": p.get("deletions"),
                "changedFiles": p.get("changed_files", len(files)),
                "headRefName": (p.get("head") or {}).get("ref"),
                "headRefOid": (p.get("head") or {}).get("sha"),
                "baseRefName": (p.get("base") or {}).get("ref"),
                "author": actor(p.get("user")),
                "mergeCommit": {"oid": p["merge_commit_sha"]}
                if merged and p.get("merge_commit_sha")
                else None,
                "commits": Connection(
                    [
                        {
                            "commit": {
                                "oid": c.get("sha"),
                                "authoredDate": (c.get("commit") or {}).get("author", {}).get("date"),
                                "committedDate": (c.get("commit") or {}).get("committer", {}).get("date"),
                            }
                        }
                        for c in commits
                    ],
                    total=p.get("commits"),
                ),
                "reviews": Connection(
                    [
                        {
                            "databaseId": r.get("id"),
                            "state": r.get("state"),
                            "submittedAt": r.get("submitted_at"),
                            "body": r.get("body"),
                            "author": actor(r.get("user")),
                        }
                        for r in g.pull_reviews.get(key, [])
                    ]
                ),
                "timelineItems": lambda args: Connection(
                    [
                        {
                            "__typename": "ReadyForReviewEvent",
                            "id": f"RFRE_{e.get('id')}",
                            "createdAt": e.get("created_at"),
                            "actor": actor(e.get("actor")),
                        }
                        for e in g.pull_events.get(key, [])
                        if e.get("event") == "ready_for_review"
                        and "READY_FOR_REVIEW_EVENT" in (args.get("itemTypes") or ["READY_FOR_REVIEW_EVENT"])
                    ]
                ),
                "files": Connection(
                    [
                        {
                            "path": f.get("filename"),
                            "additions": f.get("additions"),
                            "deletions": f.get("deletions"),
                            "changeType": str(f.get("status", "modified"))
                            .upper()
                            .replace("REMOVED", "DELETED"),
                        }
                        for f in files[:3000]
                    ]
                ),
            }

        def pull_requests(repo: str, args: dict) -> Connection:
            states = set(args.get("states") or ["OPEN", "CLOSED", "MERGED"])
            order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
            key = {"UPDATED_AT": "updated_at", "CREATED_AT": "created_at"}.get(order.get("field"))
            if key is None:
                raise QueryError(f"Argument 'orderBy' has an invalid value: field {order.get('field')}")
            prs = [
                p
                for p in g.pulls.get(repo, [])
                if ("MERGED" if p.get("merged_at") else str(p.get("state", "open")).upper()) in states
            ]
            prs.sort(key=lambda p: (p.get(key) or "", p["number"]), reverse=order.get("direction") == "DESC")
            return Connection(prs, convert=lambda p: node(repo, p))

        def deployment(d: dict) -> dict:
            statuses = [  # newest first, as the REST route lists them
                {
                    "state": str(st.get("state") or "").upper(),
                    "createdAt": st.get("created_at"),
                    "updatedAt": st.get("updated_at"),
                    "description": st.get("description"),
                    "logUrl": st.get("log_url"),
                    "environment": st.get("environment"),
                }
                for st in reversed(g.statuses.get(d.get("id"), []))
            ]
            return {
                "databaseId": d.get("id"),
                "createdAt": d.get("created_at"),
                "updatedAt": d.get("updated_at"),
                "environment": d.get("environment"),
                "originalEnvironment": d.get("original_environment"),
                "task": d.get("task"),
                "description": d.get("description"),
                "payload": json.dumps(d.get("payload")) if d.get("payload") is not None else None,
                "commitOid": d.get("sha"),
                "ref": {"name": d.get("ref")} if d.get("ref") else None,
                "creator": actor(d.get("creator")),
                "latestStatus": statuses[0] if statuses else None,
                "statuses": Connection(statuses),
            }

        def deployments(repo: str, args: dict) -> Connection:
            order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
            if order.get("field") != "CREATED_AT":
                raise QueryError(f"Argument 'orderBy' has an invalid value: field {order.get('field')}")
            items = sorted(
                g.deployments.get(repo, []),
                key=lambda d: (d.get("created_at") or "", d["id"]),
                reverse=order.get("direction") == "DESC",
            )
            return Connection(items, convert=deployment)

        def root(name: str, args: dict) -> Any:
            if name == "rateLimit":
                stamp = dt.datetime.fromtimestamp(reset, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                return {"cost": 1, "limit": 5000, "remaining": 4990, "used": 10, "resetAt": stamp}
            repo = f"{args.get('owner')}/{args.get('name')}"
            known = set(g.pulls) | set(g.deployments) | set(g.runs)
            if repo not in known:
                raise QueryError(
                    f"Could not resolve to a Repository with the name '{repo}'.",
                    type="NOT_FOUND",
                    path=["repository"],
                )
            return {
                "nameWithOwner": repo,
                "pullRequests": lambda a: pull_requests(repo, a),
                "deployments": lambda a: deployments(repo, a),
            }

        return 200, execute(body["query"], body.get("variables") or {}, root), headers

    # -- GitLab ------------------------------------------------------------------------------------

    def _gitlab(self, path: str, query: dict) -> tuple[Any, dict]:
        gl = self.data.gitlab
        base = f"http://127.0.0.1:{self.port}/gitlab/api/v4{path}"
        rate = {
            "RateLimit-Limit": "2000",
            "RateLimit-Remaining": "1999",
            "RateLimit-Reset": str(int(time.time()) + 60),
        }
        m = re.fullmatch(r"/projects/([^/]+)/(.*)", path)
        if not m:
            raise _Reply(404, {"message": "404 Project Not Found"})
        project = urllib.parse.unquote(m.group(1))
        rest = m.group(2)

        def offset_page(items: list) -> tuple[list, dict]:
            chunk, headers = self._page(items, query, base)
            per_page = min(int(query.get("per_page", ["20"])[0]), 100)
            page = int(query.get("page", ["1"])[0])
            total_pages = max(1, -(-len(items) // per_page))
            extra = {
                "x-page": str(page),
                "x-per-page": str(per_page),
                "x-next-page": str(page + 1) if page < total_pages else "",
                "x-prev-page": str(page - 1) if page > 1 else "",
                "x-total": str(len(items)),
                "x-total-pages": str(total_pages),
            }
            return chunk, {**rate, **headers, **extra}

        def since(items: list, key: str) -> list:
            if "updated_after" in query:
                lo = _ts(query["updated_after"][0])
                items = [i for i in items if (t := _ts(i.get(key))) is not None and t > lo]
            order = query.get("order_by", ["id"])[0]
            sort_desc = query.get("sort", ["desc"])[0] == "desc"
            return sorted(items, key=lambda i: (i.get(order) or "", i.get("id", 0)), reverse=sort_desc)

        if rest == "deployments":
            return offset_page(since(gl.deployments.get(project, []), "updated_at"))
        if rest == "pipelines":
            listed = [
                {
                    k: p.get(k)
                    for k in (
                        "id",
                        "iid",
                        "project_id",
                        "sha",
                        "ref",
                        "status",
                        "source",
                        "created_at",
                        "updated_at",
                        "web_url",
                    )
                }
                for p in since(gl.pipelines.get(project, []), "updated_at")
            ]
            return offset_page(listed)
        if m2 := re.fullmatch(r"pipelines/(\d+)", rest):
            for p in gl.pipelines.get(project, []):
                if p["id"] == int(m2.group(1)):
                    return p, rate
            raise _Reply(404, {"message": "404 Not found"})
        if rest == "merge_requests":
            state = query.get("state", ["all"])[0]
            mrs = [
                mr for mr in gl.merge_requests.get(project, []) if state == "all" or mr.get("state") == state
            ]
            return offset_page(since(mrs, "updated_at"))
        if m2 := re.fullmatch(r"merge_requests/(\d+)/commits", rest):
            return offset_page(gl.mr_commits.get((project, int(m2.group(1))), []))
        if m2 := re.fullmatch(r"merge_requests/(\d+)/approvals", rest):
            approvals = gl.mr_approvals.get((project, int(m2.group(1))))
            if approvals is None:
                raise _Reply(404, {"message": "404 Not found"})
            return approvals, rate
        if m2 := re.fullmatch(r"merge_requests/(\d+)/notes", rest):
            notes = sorted(
                gl.mr_notes.get((project, int(m2.group(1))), []),
                key=lambda n: (n.get("created_at") or "", n.get("id", 0)),
                reverse=query.get("sort", ["desc"])[0] == "desc",
            )
            return offset_page(notes)
        raise _Reply(404, {"message": "404 Not found"})

    # -- Jenkins -----------------------------------------------------------------------------------

    def _jenkins(self, path: str, query: dict) -> tuple[Any, dict]:
        m = re.fullmatch(r"((?:/job/[^/]+)*)/api/json", path)
        if not m:
            raise _Reply(404, {"message": "Not Found"})
        names = [urllib.parse.unquote(n) for n in m.group(1).split("/job/")[1:]]
        node: dict = {"_class": "hudson.model.Hudson", "jobs": self.data.jenkins}
        url = f"http://127.0.0.1:{self.port}/jenkins/"
        for name in names:
            children = node.get("jobs")
            if children is None or name not in children:
                raise _Reply(404, {"message": "Not Found"})
            node = children[name]
            url += f"job/{urllib.parse.quote(name)}/"
        tree = query.get("tree", [""])[0]
        out: dict[str, Any] = {"_class": node["_class"], "url": url}
        if names:
            out["name"] = names[-1]
            out["fullName"] = "/".join(names)
        if "jobs" in node:
            out["jobs"] = [
                {"_class": child["_class"], "name": name, "url": f"{url}job/{urllib.parse.quote(name)}/"}
                for name, child in node["jobs"].items()
            ]
        if "builds" in node:
            builds = sorted(node["builds"], key=lambda b: b["number"], reverse=True)  # newest first
            rng = re.search(r"allBuilds\[.*\]\{(\d*),?(\d*)\}", tree)  # the field list may nest [..]
            if "allBuilds" in tree:
                lo = int(rng.group(1) or 0) if rng else 0
                hi = int(rng.group(2)) if rng and rng.group(2) else len(builds)
                out["allBuilds"] = [
                    {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun", **b} for b in builds[lo:hi]
                ]
            else:
                out["builds"] = builds[:100]
        return out, {"X-Jenkins": "2.462.3"}

    # -- PagerDuty ---------------------------------------------------------------------------------

    def _pagerduty(self, path: str, query: dict) -> tuple[Any, dict]:
        if path == "/incidents":
            limit = min(int(query.get("limit", ["25"])[0]), 100)
            offset = int(query.get("offset", ["0"])[0])
            if offset + limit > 10_000:
                raise _Reply(
                    400,
                    {
                        "error": {
                            "message": "Invalid Input Provided",
                            "code": 2001,
                            "errors": ["Offset must be less than 10000."],
                        }
                    },
                )
            items = self.data.pagerduty_incidents
            since, until = _ts(query.get("since", [None])[0]), _ts(query.get("until", [None])[0])
            if since and until and until - since > dt.timedelta(days=183):
                raise _Reply(
                    400,
                    {
                        "error": {
                            "message": "Invalid Input Provided",
                            "code": 2001,
                            "errors": ["The date range must be less than 6 months."],
                        }
                    },
                )
            if since:
                items = [i for i in items if _ts(i["created_at"]) >= since]
            if until:
                items = [i for i in items if _ts(i["created_at"]) < until]
            ids = query.get("service_ids[]")
            if ids:
                items = [i for i in items if i.get("service", {}).get("id") in ids]
            items = sorted(items, key=lambda i: (i["created_at"], i["id"]))
            chunk = items[offset : offset + limit]
            body = {"incidents": chunk, "limit": limit, "offset": offset, "more": offset + limit < len(items)}
            body["total"] = len(items) if query.get("total", ["false"])[0] == "true" else None
            return body, {}
        if m := re.fullmatch(r"/incidents/([^/]+)/alerts", path):
            alerts = sorted(
                self.data.pagerduty_alerts.get(m.group(1), []),
                key=lambda a: (a.get("created_at") or "", a["id"]),
            )
            return _offset_page(alerts, "alerts", query), {}
        if path == "/log_entries":
            entries = self.data.pagerduty_log_entries
            since, until = _ts(query.get("since", [None])[0]), _ts(query.get("until", [None])[0])
            if since:
                entries = [e for e in entries if _ts(e["created_at"]) >= since]
            if until:
                entries = [e for e in entries if _ts(e["created_at"]) < until]
            # newest first, as PagerDuty lists log entries
            entries = sorted(entries, key=lambda e: (e["created_at"], e["id"]), reverse=True)
            return _offset_page(entries, "log_entries", query), {}
        if m := re.fullmatch(r"/incidents/([^/]+)", path):
            for i in self.data.pagerduty_incidents:
                if i["id"] == m.group(1):
                    return {"incident": i}, {}
            raise _Reply(404, {"error": {"message": "Not Found", "code": 2100}})
        raise _Reply(404, {"error": {"message": "Not Found", "code": 2100}})

    # -- Opsgenie ----------------------------------------------------------------------------------

    def _opsgenie(self, path: str, query: dict) -> tuple[Any, dict]:
        if path in ("/v2/alerts", "/v1/incidents", "/v1/incidents/"):
            items = self.data.opsgenie_alerts if path == "/v2/alerts" else self.data.opsgenie_incidents
            q = query.get("query", [""])[0]
            for field_name, op, value in re.findall(r"(createdAt|updatedAt)\s*(>=|>|<)\s*(\d+)", q):
                bound = int(value)

                def ms(i: dict, f: str = field_name) -> int:
                    t = _ts(i.get(f))
                    return int(t.replace(tzinfo=dt.UTC).timestamp() * 1000) if t else -1

                items = [
                    i
                    for i in items
                    if (ms(i) >= bound if op == ">=" else ms(i) > bound if op == ">" else ms(i) < bound)
                ]
            limit = min(int(query.get("limit", ["20"])[0]), 100)
            offset = int(query.get("offset", ["0"])[0])
            if offset + limit > 20_000:
                raise _Reply(422, {"message": "offset + limit must be at most 20000", "took": 0.0})
            sort = query.get("sort", ["createdAt"])[0]
            items = sorted(
                items,
                key=lambda i: (i.get(sort) or "", i["id"]),
                reverse=query.get("order", ["desc"])[0] == "desc",
            )
            chunk = items[offset : offset + limit]
            paging: dict[str, str] = {}
            base = f"http://127.0.0.1:{self.port}/opsgenie{path}"
            if offset + limit < len(items):
                q2 = {**query, "offset": [str(offset + limit)], "limit": [str(limit)]}
                paging["next"] = f"{base}?{urllib.parse.urlencode(q2, doseq=True)}"
            headers = {"X-RateLimit-State": "OK"}
            if "next" in paging:
                headers["X-Paging-Next"] = paging["next"]
            return {"data": chunk, "paging": paging, "took": 0.01, "requestId": "sim"}, headers
        if m := re.fullmatch(r"/(v2/alerts|v1/incidents)/([^/]+)", path):
            items = self.data.opsgenie_alerts if m.group(1) == "v2/alerts" else self.data.opsgenie_incidents
            for i in items:
                if i["id"] == m.group(2):
                    return {"data": i, "took": 0.01, "requestId": "sim"}, {}
        raise _Reply(404, {"message": "Not Found", "took": 0.0})


def _offset_page(items: list, key: str, query: dict) -> dict:
    """PagerDuty's classic pagination: ``limit`` (at most 100) items from ``offset``, ``more`` if any are left."""
    limit = min(int(query.get("limit", ["25"])[0]), 100)
    offset = int(query.get("offset", ["0"])[0])
    if offset + limit > 10_000:
        raise _Reply(400, {"error": {"message": "Invalid Input Provided", "code": 2001}})
    body = {key: items[offset : offset + limit], "limit": limit, "offset": offset}
    body["more"] = offset + limit < len(items)
    body["total"] = len(items) if query.get("total", ["false"])[0] == "true" else None
    return body


def _point_next_links(headers: dict, body: Any, here: str, there: str) -> tuple[dict, Any]:
    """The same answer, with its next-page links moved from this server's origin to ``there``."""
    headers = {
        k: v.replace(here, there) if k.lower() in ("link", "x-paging-next") else v for k, v in headers.items()
    }
    if isinstance(body, dict) and isinstance(body.get("paging"), dict) and body["paging"].get("next"):
        body = {**body, "paging": {**body["paging"], "next": body["paging"]["next"].replace(here, there)}}
    return headers, body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    simulator: Simulator

    def log_message(self, *args) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle + delayed ACK add 40 ms per request.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = {"_invalid": True}
        self.do_GET(request_body=body if isinstance(body, dict) else {"_invalid": True})

    def do_GET(self, request_body: Any = None) -> None:  # noqa: N802
        sim = self.simulator
        parsed = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        path = parsed.path
        vendor = path.strip("/").split("/")[0]
        fault = None
        with sim.lock:
            for f in sim.faults:
                if f.take(path):
                    fault = f
                    break
        # logged on arrival: a test may stop a client mid-request; a POST logs its body's variables
        entry = [
            vendor,
            path,
            query if request_body is None else {"variables": request_body.get("variables")},
            None,
        ]
        with sim.lock:
            sim.log.append(entry)
            sim.in_flight += 1
            sim.max_in_flight = max(sim.max_in_flight, sim.in_flight)
        try:
            self._answer(sim, path, query, vendor, fault, entry, request_body)
        finally:
            with sim.lock:
                sim.in_flight -= 1

    def _limit_headers(self, sim: Simulator) -> tuple[bool, dict[str, str]]:
        """(within GitHub's enforced limit, the window's headers); counts the request in its window."""
        limit, window = sim.github_limit or (0, 1)
        with sim.lock:
            now = time.time()
            start = now - now % window
            if start != sim._window[0]:
                sim._window = (start, 0)
            used = sim._window[1] + 1
            sim._window = (start, used)
            if used > limit:
                sim.over_limit += 1
        headers = {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(0, limit - used)),
            "x-ratelimit-used": str(min(used, limit)),
            "x-ratelimit-reset": str(int(start + window)),
            "x-ratelimit-resource": "core",
        }
        return used <= limit, headers

    def _answer(self, sim, path, query, vendor, fault, entry, request_body) -> None:
        status, body, headers = 200, None, {}
        limited: dict[str, str] = {}
        if vendor == "github" and sim.github_limit is not None:
            within, limited = self._limit_headers(sim)
            if not within:  # GitHub's primary limit: 403 with remaining 0 and the reset
                fault = Fault(path, "over-limit")
                status, body, headers = 403, {"message": "API rate limit exceeded for user ID 1."}, limited
        if fault is not None and fault.kind == "over-limit":
            pass
        elif fault is not None and fault.kind not in (
            "truncate",
            "delay",
            "timeout",
            "quota-spent",
            "foreign-next",
        ):
            status, body, headers = self._fault(fault)
        else:
            if fault is not None and fault.kind in ("delay", "timeout"):
                time.sleep(fault.delay)
            status, body, headers = sim.handle(path, query, self.headers, request_body)
            if fault is not None and fault.kind == "quota-spent":  # a normal answer that spends the window
                headers = {
                    **headers,
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-reset": str(int(time.time() + fault.retry_after)),
                }
            if fault is not None and fault.kind == "foreign-next":
                headers, body = _point_next_links(headers, body, f"http://127.0.0.1:{sim.port}", fault.target)
            headers = {**headers, **limited}
        entry[3] = status
        data = json.dumps(body).encode()
        if fault is not None and fault.kind == "truncate":
            data = data[: max(1, len(data) // 2)]
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _fault(self, fault: Fault) -> tuple[int, Any, dict[str, str]]:
        if fault.kind == "redirect":
            return 302, {"message": "Moved"}, {"Location": fault.target.rstrip("/") + self.path}
        if fault.kind == "echo-credentials":
            sent = [self.headers.get(h) for h in ("Authorization", "PRIVATE-TOKEN") if self.headers.get(h)]
            for value in list(sent):
                if value.startswith("Basic "):  # what a proxy that decodes basic auth would print
                    sent.append(base64.b64decode(value[6:]).decode(errors="replace"))
            return fault.status, {"message": f"Invalid credentials: {' / '.join(sent)}"}, {}
        if fault.kind == "429":
            return 429, {"message": "Too Many Requests"}, {"Retry-After": str(int(fault.retry_after))}
        if fault.kind == "429-gitlab":
            return (
                429,
                {"message": "Retry later"},
                {
                    "RateLimit-Limit": "2000",
                    "RateLimit-Remaining": "0",
                    "RateLimit-Reset": str(int(time.time() + fault.retry_after)),
                },
            )
        if fault.kind == "403-secondary":
            return (
                403,
                {
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                },
                {"retry-after": str(int(fault.retry_after))},
            )
        if fault.kind == "403-primary":
            return (
                403,
                {"message": "API rate limit exceeded for user ID 1."},
                {
                    "x-ratelimit-limit": "5000",
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-used": "5000",
                    "x-ratelimit-reset": str(int(time.time() + fault.retry_after)),
                },
            )
        if fault.kind in ("500", "502", "503"):
            return int(fault.kind), {"message": "Server Error"}, {}
        raise ValueError(f"unknown fault kind {fault.kind}")
