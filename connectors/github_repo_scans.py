"""GitHub repository scans: the CI configuration of each repository, and its TechDocs edits.

Two streams.

``ci_config``: per repository, ``GET /repos/{o}/{r}/git/trees/{ref}?recursive=1`` lists every file with
its blob sha; each CI file (``.github/workflows/*.yml``, ``Jenkinsfile``) whose blob is not stored yet is
read with ``GET /repos/{o}/{r}/contents/{path}?ref=`` (base64 content), so a re-scan of unchanged
repositories costs one request each. Every sync stores a scan per repository (key ``repo@scanned_at``)
with the template references of each CI file (connectors.ci_config_refs), so the history of what CI
used is the scans as they were, not re-derived later. A file that is not valid YAML is kept in the scan
with its error (it is quarantined downstream, naming repository and path).

``techdocs``: ``GET /repos/{o}/{r}/commits?path=<p>&since=<cursor - look-back>`` for each configured docs
path (default ``mkdocs.yml`` and ``docs``), Link pages: every commit is an edit of the repository's
TechDocs, so the last edit before a month's end is known for every month.
"""

from __future__ import annotations

import base64
import urllib.parse

from connectors.base import Connector, iso, max_iso, token_client
from connectors.ci_config_refs import CiConfigError, is_ci_file, refs_of
from connectors.http import ApiClient, HttpPolicy
from platform_kpi.raw import Batch, RawStore
from platform_kpi.sources_config import SourcesConfig

SOURCE = "github_repo_scans"
DEFAULT_DOCS_PATHS = ("mkdocs.yml", "docs")


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


def scanned_file(path: str, sha: str, text: str | None) -> dict:
    """One CI file of a scan: its path, blob and template references (or why they could not be read)."""
    if text is None:
        return {"path": path, "sha": sha, "refs": [], "error": "no content"}
    try:
        return {"path": path, "sha": sha, "refs": refs_of(path, text), "error": None}
    except CiConfigError as exc:
        return {"path": path, "sha": sha, "refs": [], "error": str(exc)}


def decoded(payload: dict) -> str | None:
    """The text of a contents/files API answer (base64, possibly wrapped in lines)."""
    content = payload.get("content")
    if content is None or payload.get("encoding") not in (None, "base64"):
        return None
    return base64.b64decode(content).decode("utf-8", errors="replace")


class GithubRepoScansConnector(Connector):
    source = SOURCE

    @property
    def ref(self) -> str:
        return str(self.source_config.options.get("ref") or "HEAD")

    @property
    def docs_paths(self) -> tuple[str, ...]:
        return tuple(self.source_config.options.get("docs_paths") or DEFAULT_DOCS_PATHS)

    def streams(self):
        return [("ci_config", self.ci_config), ("techdocs", self.techdocs)]

    def ci_config(self, store: RawStore) -> tuple[Batch, str | None]:
        scanned_at = iso(self.now)
        stored = {row[0] for row in store.query(f"select key from raw.{SOURCE}__ci_files")}
        batch = Batch(SOURCE)
        for repo in self.source_config.scopes:
            tree = self.client.get_json(
                f"repos/{repo}/git/trees/{urllib.parse.quote(self.ref, safe='')}", {"recursive": "1"}
            )
            files = []
            for entry in tree.get("tree") or []:
                if entry.get("type") != "blob" or not is_ci_file(str(entry.get("path"))):
                    continue
                path, sha = str(entry["path"]), str(entry.get("sha"))
                key = f"{repo}:{path}@{sha}"
                if key in stored:
                    payload = store.payloads(SOURCE, "ci_files", [key])[key]
                else:
                    payload = self.client.get_json(
                        f"repos/{repo}/contents/{urllib.parse.quote(path)}", {"ref": self.ref}
                    )
                    batch.add("ci_files", key, repo, payload)
                files.append(scanned_file(path, sha, decoded(payload)))
            batch.add(
                "ci_scans",
                f"{repo}@{scanned_at}",
                repo,
                {
                    "repo": repo,
                    "scanned_at": scanned_at,
                    "ref": self.ref,
                    "tree_sha": tree.get("sha"),
                    "truncated": bool(tree.get("truncated")),
                    "files": files,
                },
            )
        return batch, scanned_at

    def techdocs(self, store: RawStore) -> tuple[Batch, str | None]:
        cursor, start = self.cutoff(store, "techdocs")
        batch = Batch(SOURCE)
        latest = cursor
        for repo in self.source_config.scopes:
            for path in self.docs_paths:
                params = {"path": path, "since": iso(start), "per_page": self.per_page}
                for response in self.client.link_pages(f"repos/{repo}/commits", params):
                    for commit in response.json():
                        batch.add(
                            "docs_commits",
                            f"{repo}:{path}@{commit['sha']}",
                            repo,
                            {"repo": repo, "path": path, "commit": commit},
                        )
                        latest = max_iso(
                            latest, ((commit.get("commit") or {}).get("committer") or {}).get("date")
                        )
        return batch, latest or iso(start)


CONNECTOR = GithubRepoScansConnector
