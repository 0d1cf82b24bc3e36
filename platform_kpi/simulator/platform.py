"""The platform adoption APIs on the local simulator: the Backstage catalog, repository files and
commits on GitHub and GitLab, and Confluence Cloud pages (REST v2).

``PlatformSimulator`` is the :class:`~platform_kpi.simulator.server.Simulator` (same faults, request
log and GitHub/GitLab routes) with these routes added:

* ``/backstage/entities/by-query`` (``filter`` on kind, ``fields``, ``limit``, opaque ``cursor`` with
  ``pageInfo.nextCursor``) and ``/backstage/entities/by-uid/{uid}``; Bearer token;
* GitHub ``/repos/{o}/{r}/git/trees/{ref}?recursive=1``, ``/contents/{path}`` (base64 content, git blob
  sha) and ``/commits?path=&since=`` (Link pages);
* GitLab ``/projects/:id/repository/files/:path?ref=`` and ``/repository/commits?path=&since=``;
* Confluence at the site root as Atlassian serves it: ``/wiki/api/v2/spaces/{id}/pages``
  (``sort=-modified-date``, ``limit``, ``cursor``; the next page in ``_links.next`` and ``Link``) and
  ``/wiki/api/v2/pages/{id}/labels``; HTTP Basic email:token.

Shapes follow the vendors' documented examples (see tests/connectors/test_platform_sources.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from platform_kpi.simulator.server import DEFAULT_TOKENS, Simulator, _Reply, _ts

PLATFORM_TOKENS = {
    "backstage": "backstage-sim-token",
    "confluence": "atlassian-sim-token",
    "github_repo_scans": DEFAULT_TOKENS["github"],
    "gitlab_repo_scans": DEFAULT_TOKENS["gitlab"],
}
CONFLUENCE_USER = "kpi-bot@example.com"


@dataclass
class Commit:
    """A commit of a simulated repository: when, which paths it touched, and the files it left."""

    sha: str
    at: str  # ISO time (committer date)
    paths: tuple[str, ...]
    message: str = "Update docs"


@dataclass
class PlatformData:
    #: full Backstage entities (metadata.uid and metadata.etag set)
    backstage: list[dict] = field(default_factory=list)
    #: repo -> path -> file text (the default branch's tip)
    github_files: dict[str, dict[str, str]] = field(default_factory=dict)
    github_commits: dict[str, list[Commit]] = field(default_factory=dict)
    gitlab_files: dict[str, dict[str, str]] = field(default_factory=dict)
    gitlab_commits: dict[str, list[Commit]] = field(default_factory=dict)
    #: space id -> pages (the v2 page objects, version included)
    confluence_pages: dict[str, list[dict]] = field(default_factory=dict)
    #: page id -> label objects ({id, name, prefix})
    confluence_labels: dict[str, list[dict]] = field(default_factory=dict)


def git_blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(cursor: str) -> int:
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"])
    except (ValueError, KeyError, TypeError):
        raise _Reply(
            400,
            {"error": {"name": "InputError", "message": "Malformed cursor"}, "response": {"statusCode": 400}},
        ) from None


def _prune(entity: dict, fields: list[str]) -> dict:
    """Backstage's ``fields``: keep only the listed (dotted) paths."""
    out: dict = {}
    for f in fields:
        src, dst = entity, out
        parts = f.split(".")
        for i, part in enumerate(parts):
            if not isinstance(src, dict) or part not in src:
                break
            if i == len(parts) - 1:
                dst[part] = src[part]
            else:
                src = src[part]
                dst = dst.setdefault(part, {})
    return out


class PlatformSimulator(Simulator):
    """The simulator with the platform adoption routes (``sim.url('backstage')``, ``sim.url('confluence')``)."""

    def __init__(self, platform: PlatformData | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.platform = platform or PlatformData()
        self.tokens = {**PLATFORM_TOKENS, **self.tokens}

    def url(self, vendor: str) -> str:
        if vendor == "confluence":  # Atlassian sites serve the API under /wiki at the site root
            return f"http://127.0.0.1:{self.port}"
        return super().url(vendor)

    def handle(
        self, path: str, query: dict[str, list[str]], headers, body: Any = None
    ) -> tuple[int, Any, dict[str, str]]:
        vendor = path.strip("/").split("/")[0]
        try:
            if vendor == "backstage":
                if headers.get("Authorization", "") != f"Bearer {self.tokens['backstage']}":
                    raise _Reply(
                        401,
                        {
                            "error": {"name": "AuthenticationError", "message": "Missing credentials"},
                            "response": {"statusCode": 401},
                        },
                    )
                return 200, *self._backstage(path[len("/backstage") :], query)
            if vendor == "wiki":
                basic = base64.b64encode(f"{CONFLUENCE_USER}:{self.tokens['confluence']}".encode()).decode()
                if headers.get("Authorization", "") != f"Basic {basic}":
                    raise _Reply(401, {"code": 401, "message": "Unauthorized; scope does not match"})
                return 200, *self._wiki(path, query)
        except _Reply as reply:
            return reply.status, reply.body, reply.headers
        return super().handle(path, query, headers, body)

    # -- Backstage -----------------------------------------------------------------------------------

    def _backstage(self, path: str, query: dict) -> tuple[Any, dict]:
        entities = sorted(
            self.platform.backstage, key=lambda e: e["metadata"]["uid"]
        )  # by uid (default order)
        if path == "/entities/by-query":
            fields = [f for v in query.get("fields", []) for f in v.split(",") if f]
            limit = int(query.get("limit", ["20"])[0])
            if "cursor" in query:
                state = json.loads(base64.urlsafe_b64decode(query["cursor"][0].encode()))
                offset, filters = _offset(query["cursor"][0]), state.get("filter", [])
            else:
                offset, filters = 0, query.get("filter", [])
            if filters:
                kinds = {f.split("=", 1)[1].lower() for f in filters if f.lower().startswith("kind=")}
                entities = [e for e in entities if e["kind"].lower() in kinds]
            chunk = entities[offset : offset + limit]
            page_info: dict[str, str] = {}
            if offset + limit < len(entities):
                page_info["nextCursor"] = base64.urlsafe_b64encode(
                    json.dumps({"offset": offset + limit, "filter": filters}).encode()
                ).decode()
            if offset > 0:
                page_info["prevCursor"] = _cursor(max(0, offset - limit))
            items = [_prune(e, fields) for e in chunk] if fields else chunk
            return {"items": items, "totalItems": len(entities), "pageInfo": page_info}, {}
        if m := re.fullmatch(r"/entities/by-uid/([^/]+)", path):
            for e in entities:
                if e["metadata"]["uid"] == m.group(1):
                    return e, {}
            raise _Reply(
                404,
                {
                    "error": {"name": "NotFoundError", "message": f"No entity with uid {m.group(1)}"},
                    "request": {"method": "GET", "url": f"/api/catalog/entities/by-uid/{m.group(1)}"},
                    "response": {"statusCode": 404},
                },
            )
        raise _Reply(
            404, {"error": {"name": "NotFoundError", "message": "Not found"}, "response": {"statusCode": 404}}
        )

    # -- GitHub and GitLab repository files and commits ---------------------------------------------

    def _github(self, path: str, query: dict) -> tuple[Any, dict]:
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/(git/trees/[^/]+|contents/.+|commits)", path)
        if not m:
            return super()._github(path, query)
        repo, rest = m.groups()
        files = self.platform.github_files.get(repo)
        if files is None:
            raise _Reply(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        rate = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-reset": str(int(time.time()) + 3600),
        }
        base = f"http://127.0.0.1:{self.port}/github{path}"
        if rest.startswith("git/trees/"):
            tree: list[dict] = []
            dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
            for d in dirs:
                tree.append(
                    {
                        "path": d,
                        "mode": "040000",
                        "type": "tree",
                        "sha": hashlib.sha1(d.encode(), usedforsecurity=False).hexdigest(),
                        "url": f"{base}",
                    }
                )
            for p, text in sorted(files.items()):
                sha = git_blob_sha(text)
                tree.append(
                    {
                        "path": p,
                        "mode": "100644",
                        "type": "blob",
                        "sha": sha,
                        "size": len(text.encode()),
                        "url": f"https://api.github.com/repos/{repo}/git/blobs/{sha}",
                    }
                )
            tree.sort(key=lambda e: e["path"])
            return {
                "sha": hashlib.sha1(repr(sorted(files.items())).encode(), usedforsecurity=False).hexdigest(),
                "url": base,
                "tree": tree,
                "truncated": False,
            }, rate
        if rest.startswith("contents/"):
            p = urllib.parse.unquote(rest[len("contents/") :])
            if p not in files:
                raise _Reply(
                    404,
                    {
                        "message": "Not Found",
                        "documentation_url": "https://docs.github.com/rest/repos/contents#get-repository-content",
                    },
                )
            text = files[p]
            sha = git_blob_sha(text)
            encoded = base64.encodebytes(text.encode()).decode()  # GitHub wraps the base64 at 60 columns
            html = f"https://github.com/{repo}/blob/main/{p}"
            return {
                "type": "file",
                "encoding": "base64",
                "size": len(text.encode()),
                "name": p.rsplit("/", 1)[-1],
                "path": p,
                "content": encoded,
                "sha": sha,
                "url": f"https://api.github.com/repos/{repo}/contents/{p}?ref=main",
                "git_url": f"https://api.github.com/repos/{repo}/git/blobs/{sha}",
                "html_url": html,
                "download_url": f"https://raw.githubusercontent.com/{repo}/main/{p}",
                "_links": {
                    "git": f"https://api.github.com/repos/{repo}/git/blobs/{sha}",
                    "self": f"https://api.github.com/repos/{repo}/contents/{p}?ref=main",
                    "html": html,
                },
            }, rate
        commits = self._commits(self.platform.github_commits.get(repo, []), query, "since")
        chunk, headers = self._page([self._github_commit(repo, c) for c in commits], query, base)
        return chunk, {**rate, **headers}

    @staticmethod
    def _commits(commits: list[Commit], query: dict, since_key: str) -> list[Commit]:
        wanted = query.get("path", [None])[0]
        since = _ts(query.get(since_key, [None])[0])
        out = [
            c
            for c in commits
            if (wanted is None or any(p == wanted or p.startswith(wanted.rstrip("/") + "/") for p in c.paths))
            and (since is None or _ts(c.at) >= since)
        ]
        return sorted(out, key=lambda c: c.at, reverse=True)  # newest first

    @staticmethod
    def _github_commit(repo: str, c: Commit) -> dict:
        person = {"name": "Dev", "email": "dev@example.com", "date": c.at}
        return {
            "sha": c.sha,
            "node_id": "C_" + c.sha[:10],
            "commit": {
                "author": person,
                "committer": person,
                "message": c.message,
                "tree": {
                    "sha": c.sha[::-1],
                    "url": f"https://api.github.com/repos/{repo}/git/trees/{c.sha[::-1]}",
                },
                "url": f"https://api.github.com/repos/{repo}/git/commits/{c.sha}",
                "comment_count": 0,
                "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
            },
            "url": f"https://api.github.com/repos/{repo}/commits/{c.sha}",
            "html_url": f"https://github.com/{repo}/commit/{c.sha}",
            "comments_url": f"https://api.github.com/repos/{repo}/commits/{c.sha}/comments",
            "author": {"login": "dev", "id": 1, "type": "User"},
            "committer": {"login": "dev", "id": 1, "type": "User"},
            "parents": [],
        }

    def _gitlab(self, path: str, query: dict) -> tuple[Any, dict]:
        m = re.fullmatch(r"/projects/([^/]+)/repository/(files/[^/]+|commits)", path)
        if not m:
            return super()._gitlab(path, query)
        project = urllib.parse.unquote(m.group(1))
        files = self.platform.gitlab_files.get(project)
        if files is None:
            raise _Reply(404, {"message": "404 Project Not Found"})
        rate = {
            "RateLimit-Limit": "2000",
            "RateLimit-Remaining": "1999",
            "RateLimit-Reset": str(int(time.time()) + 60),
        }
        if m.group(2).startswith("files/"):
            p = urllib.parse.unquote(m.group(2)[len("files/") :])
            if p not in files:
                raise _Reply(404, {"message": "404 File Not Found"})
            text = files[p]
            last = next(
                (
                    c.sha
                    for c in self._commits(
                        self.platform.gitlab_commits.get(project, []), {"path": [p]}, "since"
                    )
                ),
                "0" * 40,
            )
            return {
                "file_name": p.rsplit("/", 1)[-1],
                "file_path": p,
                "size": len(text.encode()),
                "encoding": "base64",
                "content_sha256": hashlib.sha256(text.encode()).hexdigest(),
                "ref": query.get("ref", ["main"])[0],
                "blob_id": git_blob_sha(text),
                "commit_id": last,
                "last_commit_id": last,
                "execute_filemode": False,
                "content": base64.b64encode(text.encode()).decode(),
            }, rate
        base = f"http://127.0.0.1:{self.port}/gitlab/api/v4{path}"
        commits = self._commits(self.platform.gitlab_commits.get(project, []), query, "since")
        items = [
            {
                "id": c.sha,
                "short_id": c.sha[:8],
                "created_at": c.at,
                "parent_ids": [],
                "title": c.message,
                "message": c.message,
                "author_name": "Dev",
                "author_email": "dev@example.com",
                "authored_date": c.at,
                "committer_name": "Dev",
                "committer_email": "dev@example.com",
                "committed_date": c.at,
                "trailers": {},
                "extended_trailers": {},
                "web_url": f"https://gitlab.example.com/{project}/-/commit/{c.sha}",
            }
            for c in commits
        ]
        chunk, headers = self._page(items, query, base)
        per_page = min(int(query.get("per_page", ["20"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        pages = max(1, -(-len(items) // per_page))
        return chunk, {
            **rate,
            **headers,
            "x-next-page": str(page + 1) if page < pages else "",
            "x-page": str(page),
            "x-per-page": str(per_page),
        }

    # -- Confluence Cloud REST v2 ----------------------------------------------------------------------

    def _wiki(self, path: str, query: dict) -> tuple[Any, dict]:
        site = f"http://127.0.0.1:{self.port}"
        if m := re.fullmatch(r"/wiki/api/v2/spaces/([^/]+)/pages", path):
            pages = list(self.platform.confluence_pages.get(m.group(1), []))
            sort = query.get("sort", ["id"])[0]
            if sort.lstrip("-") == "modified-date":
                pages.sort(key=lambda p: (p["version"]["createdAt"], p["id"]), reverse=sort.startswith("-"))
            else:
                pages.sort(key=lambda p: int(p["id"]))
            limit = min(int(query.get("limit", ["25"])[0]), 250)
            offset = _offset(query["cursor"][0]) if "cursor" in query else 0
            chunk = pages[offset : offset + limit]
            links: dict[str, str] = {"base": f"{site}/wiki"}
            headers: dict[str, str] = {}
            if offset + limit < len(pages):
                q = {k: v for k, v in query.items() if k != "cursor"}
                q["cursor"] = [_cursor(offset + limit)]
                nxt = f"{path}?{urllib.parse.urlencode(q, doseq=True)}"
                links["next"] = nxt
                headers["Link"] = f'<{nxt}>; rel="next", <{site}/wiki>; rel="base"'
            return {"results": chunk, "_links": links}, headers
        if m := re.fullmatch(r"/wiki/api/v2/pages/([^/]+)/labels", path):
            return {
                "results": self.platform.confluence_labels.get(m.group(1), []),
                "_links": {"base": f"{site}/wiki"},
            }, {}
        raise _Reply(
            404, {"errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not Found", "detail": None}]}
        )
