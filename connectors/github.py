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
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from connectors.base import Connector, iso, max_iso, parallel, parse_ts, token_client
from connectors.http import ApiClient, HttpPolicy
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


class GitHubConnector(Connector):
    source = SOURCE

    def streams(self):
        out = []
        for repo in self.source_config.scopes:
            out.append((f"deployments:{repo}", lambda store, r=repo: self.deployments(store, r)))
            out.append((f"workflow_runs:{repo}", lambda store, r=repo: self.workflow_runs(store, r)))
            out.append((f"pulls:{repo}", lambda store, r=repo: self.pulls(store, r)))
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


CONNECTOR = GitHubConnector
