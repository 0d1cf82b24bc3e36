"""GitLab repository scans: each project's ``.gitlab-ci.yml`` includes, and its TechDocs edits.

Two streams, as connectors.github_repo_scans.

``ci_config``: a project already scanned is checked with ``GET /projects/:id/repository/commits
?path=.gitlab-ci.yml&since=<last scan>&per_page=1``; only when a commit touched the file since (or on the
first scan) is it read with ``GET /projects/:id/repository/files/.gitlab-ci.yml?ref=`` (404: the project
has no CI file). Every sync stores a scan per project (key ``project@scanned_at``).

``techdocs``: ``GET /projects/:id/repository/commits?path=<p>&since=<cursor - look-back>`` per docs path,
paged by ``x-next-page`` (``Link`` as the fallback).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator

from connectors.base import Connector, iso, max_iso, token_client
from connectors.ci_config_refs import GITLAB_CI
from connectors.github_repo_scans import DEFAULT_DOCS_PATHS, decoded, scanned_file
from connectors.http import ApiClient, HttpPolicy
from platform_kpi.raw import Batch, RawStore
from platform_kpi.sources_config import SourcesConfig

SOURCE = "gitlab_repo_scans"


def make_client(config: SourcesConfig, env=None, policy: HttpPolicy | None = None) -> ApiClient:
    return token_client(config, SOURCE, lambda token: {"PRIVATE-TOKEN": token}, env, policy)


def _project(project: str) -> str:
    return "projects/" + urllib.parse.quote(project, safe="")


class GitlabRepoScansConnector(Connector):
    source = SOURCE

    @property
    def ref(self) -> str:
        return str(self.source_config.options.get("ref") or "main")

    @property
    def docs_paths(self) -> tuple[str, ...]:
        return tuple(self.source_config.options.get("docs_paths") or DEFAULT_DOCS_PATHS)

    def streams(self):
        return [("ci_config", self.ci_config), ("techdocs", self.techdocs)]

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

    def ci_config(self, store: RawStore) -> tuple[Batch, str | None]:
        scanned_at = iso(self.now)
        batch = Batch(SOURCE)
        for project in self.source_config.scopes:
            last = store.query(
                f"select payload from raw.{SOURCE}__ci_scans where scope = ? order by key desc limit 1",
                [project],
            )
            previous = json.loads(last[0][0]) if last else None
            if previous is not None:
                changed = self.client.get_json(
                    f"{_project(project)}/repository/commits",
                    {"path": GITLAB_CI, "since": previous["scanned_at"], "ref_name": self.ref, "per_page": 1},
                )
                if not changed:
                    files = previous["files"]
                    batch.add(
                        "ci_scans", f"{project}@{scanned_at}", project, {**previous, "scanned_at": scanned_at}
                    )
                    continue
            response = self.client.get(
                f"{_project(project)}/repository/files/{urllib.parse.quote(GITLAB_CI, safe='')}",
                {"ref": self.ref},
                accept=(404,),
            )
            files = []
            if response.status_code != 404:
                payload = response.json()
                key = f"{project}:{GITLAB_CI}@{payload.get('blob_id')}"
                batch.add("ci_files", key, project, payload)
                files.append(scanned_file(GITLAB_CI, str(payload.get("blob_id")), decoded(payload)))
            batch.add(
                "ci_scans",
                f"{project}@{scanned_at}",
                project,
                {"repo": project, "scanned_at": scanned_at, "ref": self.ref, "files": files},
            )
        return batch, scanned_at

    def techdocs(self, store: RawStore) -> tuple[Batch, str | None]:
        cursor, start = self.cutoff(store, "techdocs")
        batch = Batch(SOURCE)
        latest = cursor
        for project in self.source_config.scopes:
            for path in self.docs_paths:
                params = {"path": path, "since": iso(start), "ref_name": self.ref}
                for page in self._pages(f"{_project(project)}/repository/commits", params):
                    for commit in page:
                        batch.add(
                            "docs_commits",
                            f"{project}:{path}@{commit['id']}",
                            project,
                            {"repo": project, "path": path, "commit": commit},
                        )
                        latest = max_iso(latest, commit.get("committed_date"))
        return batch, latest or iso(start)


CONNECTOR = GitlabRepoScansConnector
