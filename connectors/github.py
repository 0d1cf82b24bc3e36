"""GitHub REST (2022-11-28): deployments with their statuses, Actions workflow runs, merged pull requests
with their commits (first commit time) and, in shared repositories, their changed files.

Per repository three streams, each with its own cursor:

* ``deployments:<repo>`` - the listing has no time filter and comes newest first, so it is read until
  a deployment created before (cursor - look-back). Statuses are fetched for new deployments, for ones
  whose ``updated_at`` moved, and again for stored ones still pending/queued/in progress, so an outcome
  that arrives late is picked up.
* ``workflow_runs:<repo>`` - filtered by ``created`` in date windows; a window holding more than the
  1,000 runs a filtered listing returns is split in half. Stored runs not yet completed are re-read.
* ``pulls:<repo>`` - ``state=closed&sort=updated&direction=desc`` read until ``updated_at`` is before
  (cursor - look-back); commits (and files, in repositories shared by several services) only for merged
  pull requests that are new or changed. For those also, unless the source option ``pr_flow`` is false,
  the pull request itself (``GET /pulls/{n}``: the listing lacks additions, deletions and commits), its
  reviews (``GET /pulls/{n}/reviews``) and its issue events (``GET /issues/{n}/events``: the
  ``ready_for_review`` time of a draft) - three requests more per merged pull request, read once.

By default (source option ``graphql``, true unless set false) deployments and pull requests are read
through GitHub's GraphQL API instead (``POST /graphql``): one query per page of 100 with the statuses,
or the commits, reviews, ready_for_review events and files, nested - mapped to the same raw records, so
staging reads them alike. Workflow runs stay REST (GraphQL has no Actions runs). REST remains for a
GitHub Enterprise Server or proxy that does not serve /graphql.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from connectors.base import Connector, iso, max_iso, parallel, parse_ts, token_client
from connectors.http import ApiClient, HttpPolicy, SourceError
from platform_kpi.raw import Batch, RawStore, payload_text
from platform_kpi.sources_config import SourcesConfig

SOURCE = "github"
OPEN_DEPLOYMENT_STATES = {"pending", "queued", "in_progress"}
SEARCH_LIMIT = 1000  # a filtered listing returns at most this many results
MAX_PR_COMMITS = 250


def make_client(config: SourcesConfig, env=None, policy: HttpPolicy | None = None) -> ApiClient:
    return token_client(
        config,
        SOURCE,
        lambda token: {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "platform-kpi",
        },
        env,
        policy,
    )


def _key(item: dict[str, Any]) -> str:
    """The record's id; a record without one still gets a stable key (staging quarantines it)."""
    if item.get("id") is not None:
        return str(item["id"])
    return "missing-id:" + hashlib.sha256(payload_text(item).encode()).hexdigest()[:16]


# -- pull requests through GraphQL -------------------------------------------------------------------

#: One page of a repository's closed and merged pull requests, most recently updated first, each with
#: what staging reads: its commits (first commit time), reviews, the ready_for_review event of a draft,
#: size, and - in repositories shared by services only (``$withFiles``) - its changed files. The shape
#: follows GitHub's GraphQL reference (docs.github.com/graphql: Repository.pullRequests with
#: ``orderBy: {field: UPDATED_AT, direction: DESC}``, PullRequest.commits/reviews/files/timelineItems,
#: ``pageInfo { hasNextPage endCursor }`` on every connection, ``rateLimit { cost remaining resetAt }``),
#: and the query of Apache DevLake's github_graphql plugin (plugins/github_graphql/tasks/pr_collector.go:
#: commits and reviews nested under the pull request, 100 per connection).
PULLS_QUERY = """
query($owner: String!, $name: String!, $first: Int!, $after: String, $withFiles: Boolean!) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    pullRequests(states: [CLOSED, MERGED], orderBy: {field: UPDATED_AT, direction: DESC}, first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        databaseId number title url state isDraft createdAt updatedAt closedAt mergedAt
        additions deletions changedFiles headRefName headRefOid baseRefName
        author { __typename login }
        mergeCommit { oid }
        commits(first: 100) {
          totalCount
          pageInfo { hasNextPage endCursor }
          nodes { commit { oid authoredDate committedDate } }
        }
        reviews(first: 100) {
          pageInfo { hasNextPage endCursor }
          nodes { databaseId state submittedAt body author { __typename login } }
        }
        timelineItems(itemTypes: [READY_FOR_REVIEW_EVENT], first: 100) {
          pageInfo { hasNextPage endCursor }
          nodes { ... on ReadyForReviewEvent { id createdAt actor { __typename login } } }
        }
        files(first: 100) @include(if: $withFiles) {
          pageInfo { hasNextPage endCursor }
          nodes { path additions deletions changeType }
        }
      }
    }
  }
}
""".strip()

#: One page of a repository's deployments, newest first, each with its statuses - the REST path needs
#: one ``GET /deployments/{id}/statuses`` per deployment. Shapes from GitHub's GraphQL reference
#: (Repository.deployments with ``orderBy: {field: CREATED_AT, direction: DESC}``, Deployment,
#: DeploymentStatus; ``payload`` is the deployment's JSON payload as a string), as DevLake's
#: github_graphql plugin reads them (plugins/github_graphql/tasks/deployment_collector.go).
DEPLOYMENTS_QUERY = """
query($owner: String!, $name: String!, $first: Int!, $after: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    deployments(orderBy: {field: CREATED_AT, direction: DESC}, first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        databaseId createdAt updatedAt environment originalEnvironment task description payload commitOid
        ref { name }
        creator { __typename login }
        latestStatus { state createdAt }
        statuses(first: 100) {
          pageInfo { hasNextPage endCursor }
          nodes { state createdAt updatedAt description logUrl }
        }
      }
    }
  }
}
""".strip()

#: GraphQL's PullRequestState -> REST's ``state`` (REST has no MERGED: a merged pull request is closed)
_GQL_STATE = {"OPEN": "open", "CLOSED": "closed", "MERGED": "closed"}
#: GraphQL's PatchStatus -> REST's file ``status``
_GQL_CHANGE = {
    "ADDED": "added",
    "DELETED": "removed",
    "RENAMED": "renamed",
    "COPIED": "copied",
    "MODIFIED": "modified",
    "CHANGED": "changed",
}


class GraphQLError(SourceError):
    """GitHub answered a GraphQL query with ``errors`` (HTTP 200 with an error body)."""


def _user(actor: dict | None) -> dict | None:
    """A GraphQL Actor as REST's ``user``: ``type`` is ``Bot`` for a Bot (``__typename``), else ``User``."""
    if not actor:
        return None
    return {"login": actor.get("login"), "type": "Bot" if actor.get("__typename") == "Bot" else "User"}


def deployment_from_graphql(node: dict) -> dict:
    """A GraphQL Deployment node as the REST ``GET /deployments`` item staging reads."""
    payload: Any = node.get("payload")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload) if payload else {}
        except ValueError:
            payload = {"_unparsed": payload}  # kept as sent; staging finds no path in it
    return {
        "id": node.get("databaseId"),
        "sha": node.get("commitOid"),
        "ref": (node.get("ref") or {}).get("name"),
        "task": node.get("task"),
        "payload": payload if payload is not None else {},
        "environment": node.get("environment"),
        "original_environment": node.get("originalEnvironment"),
        "description": node.get("description"),
        "creator": _user(node.get("creator")),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
    }


def statuses_from_graphql(node: dict) -> list[dict]:
    """Deployment.statuses as REST's ``GET /deployments/{id}/statuses`` items, newest first as REST
    lists them. GitHub's GraphQL reference does not state the connection's order (?): the node's
    ``latestStatus`` tells it - the list is reversed when its last item, not its first, is the latest.
    (Not sorted by time: statuses created in the same second keep the order GitHub gave.)"""
    items = [
        {
            "state": str(st.get("state") or "").lower(),
            "created_at": st.get("createdAt"),
            "updated_at": st.get("updatedAt"),
            "description": st.get("description"),
            "log_url": st.get("logUrl"),
        }
        for st in (node.get("statuses") or {}).get("nodes") or []
    ]
    latest = node.get("latestStatus") or {}
    latest_key = (str(latest.get("state") or "").lower(), latest.get("createdAt"))

    def key(st: dict) -> tuple:
        return st["state"], st["created_at"]

    if len(items) > 1 and key(items[-1]) == latest_key and key(items[0]) != latest_key:
        items.reverse()
    return items


def pull_from_graphql(node: dict, repo: str) -> dict:
    """A GraphQL PullRequest node as the REST ``GET /pulls/{n}`` record staging reads."""
    return {
        "id": node.get("databaseId"),
        "number": node.get("number"),
        "title": node.get("title"),
        "html_url": node.get("url"),
        "state": _GQL_STATE.get(str(node.get("state")), str(node.get("state") or "").lower()),
        "draft": bool(node.get("isDraft")),
        "user": _user(node.get("author")),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "closed_at": node.get("closedAt"),
        "merged_at": node.get("mergedAt"),
        "merge_commit_sha": (node.get("mergeCommit") or {}).get("oid"),
        "head": {"ref": node.get("headRefName"), "sha": node.get("headRefOid")},
        "base": {"ref": node.get("baseRefName")},
        "additions": node.get("additions"),
        "deletions": node.get("deletions"),
        "changed_files": node.get("changedFiles"),
        "commits": (node.get("commits") or {}).get("totalCount"),
    }


def commits_from_graphql(node: dict) -> list[dict]:
    """PullRequest.commits as REST's ``GET /pulls/{n}/commits`` items (the fields staging reads)."""
    out = []
    for item in (node.get("commits") or {}).get("nodes") or []:
        c = item.get("commit") or {}
        out.append(
            {
                "sha": c.get("oid"),
                "commit": {
                    "author": {"date": c.get("authoredDate")},
                    "committer": {"date": c.get("committedDate")},
                },
            }
        )
    return out


def reviews_from_graphql(node: dict) -> list[dict]:
    """PullRequest.reviews as REST's ``GET /pulls/{n}/reviews`` items."""
    out = []
    for r in (node.get("reviews") or {}).get("nodes") or []:
        item = {
            "id": r.get("databaseId"),
            "user": _user(r.get("author")),
            "state": r.get("state"),
            "body": r.get("body"),
        }
        if r.get("submittedAt") is not None:
            item["submitted_at"] = r["submittedAt"]
        out.append(item)
    return out


def events_from_graphql(node: dict) -> list[dict]:
    """ReadyForReviewEvent timeline items as REST's ``GET /issues/{n}/events`` items."""
    return [
        {
            "id": e.get("id"),
            "event": "ready_for_review",
            "created_at": e.get("createdAt"),
            "actor": _user(e.get("actor")),
        }
        for e in (node.get("timelineItems") or {}).get("nodes") or []
        if e
    ]


def files_from_graphql(node: dict) -> list[dict]:
    """PullRequest.files as REST's ``GET /pulls/{n}/files`` items."""
    return [
        {
            "filename": f.get("path"),
            "status": _GQL_CHANGE.get(str(f.get("changeType")), str(f.get("changeType") or "").lower()),
            "additions": f.get("additions"),
            "deletions": f.get("deletions"),
        }
        for f in (node.get("files") or {}).get("nodes") or []
    ]


class GitHubConnector(Connector):
    source = SOURCE

    @property
    def graphql(self) -> bool:
        """Pull requests through GraphQL (one query per page of 100 with everything nested) unless the
        source option ``graphql`` is false (GitHub Enterprise Server without /graphql, or a proxy that
        forwards REST only): then REST, several requests per merged pull request."""
        return bool(self.source_config.options.get("graphql", True))

    def streams(self):
        out = []
        for repo in self.source_config.scopes:
            deployments = self.deployments_graphql if self.graphql else self.deployments
            out.append((f"deployments:{repo}", lambda store, r=repo, fetch=deployments: fetch(store, r)))
            out.append((f"workflow_runs:{repo}", lambda store, r=repo: self.workflow_runs(store, r)))
            pulls = self.pulls_graphql if self.graphql else self.pulls
            out.append((f"pulls:{repo}", lambda store, r=repo, fetch=pulls: fetch(store, r)))
        return out

    # -- deployments -------------------------------------------------------------------------------

    def deployments(self, store: RawStore, repo: str) -> tuple[Batch, str | None]:
        cursor, start = self.cutoff(store, f"deployments:{repo}")
        listed: list[dict] = []
        for page in self.client.link_pages(f"repos/{repo}/deployments", {"per_page": self.per_page}):
            items = page.json()
            older = False
            for item in items:
                created = parse_ts(item.get("created_at"))
                if created is not None and created < start:
                    older = True  # newest first: everything after this is older still
                    continue
                listed.append(item)
            if older:
                break
        stored = store.payloads(SOURCE, "deployments", [_key(d) for d in listed])
        # Stored deployments still waiting for an outcome (no status yet, or the latest is pending/queued/
        # in progress), created recently enough to be re-checked.
        still_open = {
            key: json.loads(payload)
            for key, payload in store.query(
                f"select d.key, d.payload from raw.{SOURCE}__deployments as d "
                f"left join raw.{SOURCE}__deployment_statuses as s using (key) "
                "where d.scope = ? and try_cast(d.payload ->> 'created_at' as timestamptz) >= ? "
                "and (s.key is null or coalesce(json_array_length(s.payload), 0) = 0 "
                "or list_contains(?, s.payload -> 0 ->> 'state'))",
                [repo, self.recheck_after, sorted(OPEN_DEPLOYMENT_STATES)],
            )
        }
        need: dict[str, dict] = {}
        for d in listed:
            key = _key(d)
            old = stored.get(key)
            if old is None or old.get("updated_at") != d.get("updated_at") or key in still_open:
                need[key] = d
        for key, d in still_open.items():
            need.setdefault(key, d)

        def fetch_statuses(item: tuple[str, dict]) -> tuple[str, list]:
            key, d = item
            out: list = []
            for page in self.client.link_pages(
                f"repos/{repo}/deployments/{d.get('id')}/statuses", {"per_page": self.per_page}
            ):
                out.extend(page.json())
            return key, out

        batch = Batch(SOURCE)
        for d in listed:
            batch.add("deployments", _key(d), repo, d)
        for key, states in parallel(
            fetch_statuses, [(k, d) for k, d in need.items() if d.get("id") is not None]
        ):
            batch.add("deployment_statuses", key, repo, states)
        return batch, max_iso(cursor, *(d.get("created_at") for d in listed))

    # -- workflow runs -----------------------------------------------------------------------------

    def workflow_runs(self, store: RawStore, repo: str) -> tuple[Batch, str | None]:
        cursor, start = self.cutoff(store, f"workflow_runs:{repo}")
        runs: dict[str, dict] = {}
        window = dt.timedelta(days=float(self.source_config.options.get("run_window_days", 31)))
        lo = start
        while lo < self.now:
            hi = min(lo + window, self.now + dt.timedelta(seconds=1))
            for run in self._runs_between(repo, lo, hi):
                runs[_key(run)] = run
            lo = hi
        # Runs still queued or in progress when last read: read each again until it completes.
        open_ids = [
            row[0]
            for row in store.query(
                f"select payload->>'id' from raw.{SOURCE}__workflow_runs where scope = ? "
                "and coalesce(payload->>'status', '') <> 'completed' "
                "and try_cast(payload->>'created_at' as timestamptz) >= ?",
                [repo, self.recheck_after],
            )
            if row[0] and row[0] not in runs
        ]
        for run in parallel(lambda rid: self.client.get_json(f"repos/{repo}/actions/runs/{rid}"), open_ids):
            runs[_key(run)] = run
        batch = Batch(SOURCE)
        for key, run in runs.items():
            batch.add("workflow_runs", key, repo, run)
        return batch, max_iso(cursor, *(r.get("created_at") for r in runs.values()))

    def _runs_between(self, repo: str, lo: dt.datetime, hi: dt.datetime) -> list[dict]:
        params = {"created": f"{iso(lo)}..{iso(hi)}", "per_page": self.per_page}
        pages = self.client.link_pages(f"repos/{repo}/actions/runs", params)
        first = next(pages)
        body = first.json()
        if body.get("total_count", 0) > SEARCH_LIMIT and hi - lo > dt.timedelta(minutes=2):
            mid = lo + (hi - lo) / 2
            mid = mid.replace(microsecond=0)
            return self._runs_between(repo, lo, mid) + self._runs_between(repo, mid, hi)
        runs = list(body.get("workflow_runs", []))
        for page in pages:
            runs.extend(page.json().get("workflow_runs", []))
        return runs

    # -- pull requests -----------------------------------------------------------------------------

    def _shared_repo(self, repo: str) -> bool:
        """A repository shared by services (a monorepo): changed files decide a pull request's service."""
        return any(
            src == SOURCE and scope == repo and path for src, scope, path, _ in self.config.mapping_rows()
        )

    def pulls(self, store: RawStore, repo: str) -> tuple[Batch, str | None]:
        cursor, start = self.cutoff(store, f"pulls:{repo}")
        listed: list[dict] = []
        params = {"state": "closed", "sort": "updated", "direction": "desc", "per_page": self.per_page}
        for page in self.client.link_pages(f"repos/{repo}/pulls", params):
            older = False
            for pr in page.json():
                updated = parse_ts(pr.get("updated_at"))
                if updated is not None and updated < start:
                    older = True
                    continue
                listed.append(pr)
            if older:
                break
        stored = store.payloads(SOURCE, "pulls", [_key(p) for p in listed])
        merged = [
            p
            for p in listed
            if p.get("merged_at")
            and p.get("number") is not None
            and (stored.get(_key(p)) is None or stored[_key(p)].get("updated_at") != p.get("updated_at"))
        ]
        shared = self._shared_repo(repo)

        flow = bool(self.source_config.options.get("pr_flow", True))

        def every(path: str) -> list:
            return [
                item
                for page in self.client.link_pages(path, {"per_page": self.per_page})
                for item in page.json()
            ]

        def fetch(pr: dict) -> tuple[str, list, list | None, dict | None, list | None, list | None]:
            commits: list = []
            for page in self.client.link_pages(
                f"repos/{repo}/pulls/{pr['number']}/commits", {"per_page": self.per_page}
            ):
                commits.extend(page.json())
                if len(commits) >= MAX_PR_COMMITS:
                    break
            files = every(f"repos/{repo}/pulls/{pr['number']}/files") if shared else None
            detail = reviews = events = None
            if flow:
                detail = self.client.get_json(f"repos/{repo}/pulls/{pr['number']}")
                reviews = every(f"repos/{repo}/pulls/{pr['number']}/reviews")
                events = every(f"repos/{repo}/issues/{pr['number']}/events")
            return _key(pr), commits, files, detail, reviews, events

        batch = Batch(SOURCE)
        for pr in listed:
            old = stored.get(_key(pr))
            # an unchanged pull request keeps its stored payload: that of GET /pulls/{n}, which the
            # listing's shorter item (no size, no commit count) must not overwrite
            if old is None or old.get("updated_at") != pr.get("updated_at"):
                batch.add("pulls", _key(pr), repo, pr)
        for key, commits, files, detail, reviews, events in parallel(fetch, merged):
            batch.add("pull_commits", key, repo, commits)
            if files is not None:
                batch.add("pull_files", key, repo, files)
            if detail is not None:
                batch.add("pulls", key, repo, detail)  # the listed item plus size and commit count
            if reviews is not None:
                batch.add("pull_reviews", key, repo, reviews)
            if events is not None:
                batch.add("pull_events", key, repo, events)
        return batch, max_iso(cursor, *(p.get("updated_at") for p in listed))

    def _graphql(self, query: str, variables: dict) -> dict:
        """``data`` of a GraphQL answer; its ``errors`` (HTTP 200 with an error body, or partial data)
        are a SourceError quoting them. ``rateLimit`` goes into the client's shared view of the limit."""
        body = self.client.post_json("graphql", {"query": query, "variables": variables})
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors or not isinstance(body, dict) or body.get("data") is None:
            messages = "; ".join(str(e.get("message", e)) for e in errors or []) or "no data in the answer"
            raise GraphQLError(f"{SOURCE}: GraphQL query failed: {self.client.redact(messages)}")
        data = body["data"]
        limit = data.get("rateLimit") or {}
        if limit.get("remaining") is not None and parse_ts(limit.get("resetAt")) is not None:
            reset = parse_ts(limit["resetAt"]).replace(tzinfo=dt.UTC).timestamp()
            self.client.note_limit(int(limit["remaining"]), reset)
        return data

    def deployments_graphql(self, store: RawStore, repo: str) -> tuple[Batch, str | None]:
        """The ``deployments`` stream through GraphQL: deployments newest first with their statuses
        nested, read back to (cursor - look-back) or to the oldest stored deployment still waiting for
        an outcome, whichever is older - so a late outcome comes in the same pages. The same raw
        records as :meth:`deployments`; a deployment with over 100 statuses reads them through REST."""
        cursor, start = self.cutoff(store, f"deployments:{repo}")
        oldest_open = store.query(
            f"select min(try_cast(d.payload ->> 'created_at' as timestamptz)) from raw.{SOURCE}__deployments as d "
            f"left join raw.{SOURCE}__deployment_statuses as s using (key) "
            "where d.scope = ? and try_cast(d.payload ->> 'created_at' as timestamptz) >= ? "
            "and (s.key is null or coalesce(json_array_length(s.payload), 0) = 0 "
            "or list_contains(?, s.payload -> 0 ->> 'state'))",
            [repo, self.recheck_after, sorted(OPEN_DEPLOYMENT_STATES)],
        )[0][0]
        if oldest_open is not None:
            oldest = (
                oldest_open.astimezone(dt.UTC).replace(tzinfo=None) if oldest_open.tzinfo else oldest_open
            )
            start = min(start, oldest)
        owner, _, name = repo.partition("/")
        nodes: list[dict] = []
        after = None
        while True:
            data = self._graphql(
                DEPLOYMENTS_QUERY,
                {"owner": owner, "name": name, "first": min(self.per_page, 100), "after": after},
            )
            repository = data.get("repository")
            if repository is None:
                raise SourceError(
                    f"{SOURCE}: GraphQL: repository {repo} not found (check github.repos in sources.yaml)"
                )
            conn = repository["deployments"]
            older = False
            for node in conn.get("nodes") or []:
                created = parse_ts(node.get("createdAt"))
                if created is not None and created < start:
                    older = True  # newest first: everything after this is older still
                    continue
                nodes.append(node)
            info = conn.get("pageInfo") or {}
            if older or not info.get("hasNextPage"):
                break
            after = info.get("endCursor")
        batch = Batch(SOURCE)
        for node in nodes:
            d = deployment_from_graphql(node)
            key = _key(d)
            batch.add("deployments", key, repo, d)
            if d.get("id") is None:
                continue
            if ((node.get("statuses") or {}).get("pageInfo") or {}).get("hasNextPage"):
                states = [
                    st
                    for page in self.client.link_pages(
                        f"repos/{repo}/deployments/{d['id']}/statuses", {"per_page": self.per_page}
                    )
                    for st in page.json()
                ]
            else:
                states = statuses_from_graphql(node)
            batch.add("deployment_statuses", key, repo, states)
        return batch, max_iso(cursor, *(n.get("createdAt") for n in nodes))

    def pulls_graphql(self, store: RawStore, repo: str) -> tuple[Batch, str | None]:
        """The ``pulls`` stream through GraphQL: the same raw records as :meth:`pulls` writes (the
        ``GET /pulls/{n}`` record, commits, reviews, ready_for_review events, files in shared
        repositories), one request per page of 100 pull requests instead of 4-5 per merged one. A
        nested list longer than a page (over 100 commits, reviews or files) is read through REST."""
        cursor, start = self.cutoff(store, f"pulls:{repo}")
        owner, _, name = repo.partition("/")
        shared = self._shared_repo(repo)
        flow = bool(self.source_config.options.get("pr_flow", True))
        nodes: list[dict] = []
        after = None
        while True:
            data = self._graphql(
                PULLS_QUERY,
                {
                    "owner": owner,
                    "name": name,
                    "first": min(self.per_page, 100),
                    "after": after,
                    "withFiles": shared,
                },
            )
            repository = data.get("repository")
            if repository is None:
                raise SourceError(
                    f"{SOURCE}: GraphQL: repository {repo} not found (check github.repos in sources.yaml)"
                )
            conn = repository["pullRequests"]
            older = False
            for node in conn.get("nodes") or []:
                updated = parse_ts(node.get("updatedAt"))
                if updated is not None and updated < start:
                    older = True  # most recently updated first: everything after this is older still
                    continue
                nodes.append(node)
            info = conn.get("pageInfo") or {}
            if older or not info.get("hasNextPage"):
                break
            after = info.get("endCursor")

        records = [(pull_from_graphql(n, repo), n) for n in nodes]
        stored = store.payloads(SOURCE, "pulls", [_key(pr) for pr, _ in records])

        def rest_all(pr: dict, what: str, path: str, limit: int | None = None) -> list:
            out: list = []
            for page in self.client.link_pages(
                path.format(repo=repo, n=pr["number"]), {"per_page": self.per_page}
            ):
                out.extend(page.json())
                if limit and len(out) >= limit:
                    break
            return out

        def more(node: dict, conn: str) -> bool:
            return bool(((node.get(conn) or {}).get("pageInfo") or {}).get("hasNextPage"))

        batch = Batch(SOURCE)
        for pr, node in records:
            key = _key(pr)
            old = stored.get(key)
            if old is not None and old.get("updated_at") == pr.get("updated_at"):
                continue  # unchanged since it was read
            batch.add("pulls", key, repo, pr)
            if not pr.get("merged_at") or pr.get("number") is None:
                continue
            batch.add(
                "pull_commits",
                key,
                repo,
                rest_all(pr, "commits", "repos/{repo}/pulls/{n}/commits", MAX_PR_COMMITS)
                if more(node, "commits")
                else commits_from_graphql(node),
            )
            if shared:
                batch.add(
                    "pull_files",
                    key,
                    repo,
                    rest_all(pr, "files", "repos/{repo}/pulls/{n}/files")
                    if more(node, "files")
                    else files_from_graphql(node),
                )
            if flow:
                batch.add(
                    "pull_reviews",
                    key,
                    repo,
                    rest_all(pr, "reviews", "repos/{repo}/pulls/{n}/reviews")
                    if more(node, "reviews")
                    else reviews_from_graphql(node),
                )
                batch.add(
                    "pull_events",
                    key,
                    repo,
                    rest_all(pr, "events", "repos/{repo}/issues/{n}/events")
                    if more(node, "timelineItems")
                    else events_from_graphql(node),
                )
        return batch, max_iso(cursor, *(pr.get("updated_at") for pr, _ in records))


CONNECTOR = GitHubConnector
