"""GitLab REST v4: deployments, pipelines (with their timings) and merged merge requests of the
configured projects.

Every listing is filtered by ``updated_after`` (cursor - look-back), ordered by ``updated_at`` ascending
and read page by page while ``x-next-page`` names a next page (the ``Link`` header is the fallback:
past 10,000 records GitLab stops sending totals, never the next page). Pipeline listings carry no
timings, so each new or changed pipeline is read once more in full (``GET /pipelines/:id``); merged
merge requests that are new or changed get their commits read for the first commit time and, unless
the source option ``pr_flow`` is false, their approvals (``GET .../approvals``, Premium: a 403/404 there
is read as "no approvals") and notes (``GET .../notes``: comments are reviews; system notes give the
ready and approval times).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator

from connectors.base import Connector, iso, max_iso, parallel, token_client
from connectors.http import ApiClient, HttpPolicy
from platform_kpi.raw import Batch, RawStore
from platform_kpi.sources_config import SourcesConfig

SOURCE = "gitlab"


def make_client(config: SourcesConfig, env=None, policy: HttpPolicy | None = None) -> ApiClient:
    return token_client(config, SOURCE, lambda token: {"PRIVATE-TOKEN": token}, env, policy)


class GitLabConnector(Connector):
    source = SOURCE

    def streams(self):
        out = []
        for project in self.source_config.scopes:
            out.append((f"deployments:{project}", lambda store, p=project: self.deployments(store, p)))
            out.append((f"pipelines:{project}", lambda store, p=project: self.pipelines(store, p)))
            out.append((f"merge_requests:{project}", lambda store, p=project: self.merge_requests(store, p)))
        return out

    def _pages(self, path: str, params: dict) -> Iterator[list]:
        params = {**params, "per_page": self.per_page, "page": 1}
        while True:
            response = self.client.get(path, params)
            yield response.json()
            nxt = response.headers.get("x-next-page")
            if nxt:
                params = {**params, "page": int(nxt)}
            elif "next" in response.links:
                params = dict(
                    urllib.parse.parse_qsl(urllib.parse.urlsplit(response.links["next"]["url"]).query)
                )
            else:
                return

    def _listing(
        self, store: RawStore, stream: str, path: str, extra: dict | None = None
    ) -> tuple[list, str | None]:
        cursor, start = self.cutoff(store, stream)
        params = {"updated_after": iso(start), "order_by": "updated_at", "sort": "asc", **(extra or {})}
        items = [item for page in self._pages(path, params) for item in page]
        return items, max_iso(cursor, *(i.get("updated_at") for i in items))

    @staticmethod
    def _pid(project: str) -> str:
        return urllib.parse.quote(project, safe="")

    def deployments(self, store: RawStore, project: str) -> tuple[Batch, str | None]:
        items, cursor = self._listing(
            store, f"deployments:{project}", f"projects/{self._pid(project)}/deployments"
        )
        batch = Batch(SOURCE)
        for d in items:
            batch.add("deployments", str(d.get("id")), project, d)
        return batch, cursor

    def pipelines(self, store: RawStore, project: str) -> tuple[Batch, str | None]:
        pid = self._pid(project)
        items, cursor = self._listing(store, f"pipelines:{project}", f"projects/{pid}/pipelines")
        stored = store.payloads(SOURCE, "pipelines", [str(p.get("id")) for p in items])
        changed = [
            p
            for p in items
            if p.get("id") is not None
            and (str(p["id"]) not in stored or stored[str(p["id"])].get("updated_at") != p.get("updated_at"))
        ]
        batch = Batch(SOURCE)
        for detail in parallel(
            lambda p: self.client.get_json(f"projects/{pid}/pipelines/{p['id']}"), changed
        ):
            batch.add("pipelines", str(detail.get("id")), project, detail)
        return batch, cursor

    def merge_requests(self, store: RawStore, project: str) -> tuple[Batch, str | None]:
        pid = self._pid(project)
        items, cursor = self._listing(
            store, f"merge_requests:{project}", f"projects/{pid}/merge_requests", {"state": "merged"}
        )
        stored = store.payloads(SOURCE, "merge_requests", [str(m.get("id")) for m in items])
        changed = [
            m
            for m in items
            if m.get("iid") is not None
            and (
                str(m.get("id")) not in stored
                or stored[str(m.get("id"))].get("updated_at") != m.get("updated_at")
            )
        ]

        def commits(mr: dict) -> tuple[str, list]:
            out = [
                c
                for page in self._pages(f"projects/{pid}/merge_requests/{mr['iid']}/commits", {})
                for c in page
            ]
            return str(mr.get("id")), out

        flow = bool(self.source_config.options.get("pr_flow", True))

        def review(mr: dict) -> tuple[str, dict | None, list]:
            base = f"projects/{pid}/merge_requests/{mr['iid']}"
            # approvals are a Premium feature: GitLab Free answers 403 or 404; the notes still tell
            # (GitLab's rate limit is a 429, so a 403 here is never a limit to wait out)
            answer = self.client.get(f"{base}/approvals", accept=(403, 404))
            approvals = answer.json() if answer.status_code == 200 else None
            notes = [
                n
                for page in self._pages(f"{base}/notes", {"sort": "asc", "order_by": "created_at"})
                for n in page
            ]
            return str(mr.get("id")), approvals, notes

        batch = Batch(SOURCE)
        for mr in items:
            batch.add("merge_requests", str(mr.get("id")), project, mr)
        for key, cs in parallel(commits, changed):
            batch.add("merge_request_commits", key, project, cs)
        if flow:
            for key, approvals, notes in parallel(review, changed):
                if approvals is not None:
                    batch.add("merge_request_approvals", key, project, approvals)
                batch.add("merge_request_notes", key, project, notes)
        return batch, cursor


CONNECTOR = GitLabConnector
