"""Confluence Cloud pages (REST v2) of the configured spaces: each page's versions and labels.

One stream, ``pages``. Per space, ``GET /wiki/api/v2/spaces/{id}/pages?sort=-modified-date&limit=250``
lists pages most recently edited first; the next page of results is the ``_links.next`` URL (a path on
the site, with its ``cursor``). The first sync reads every page (an old page is exactly what
documentation freshness must see); later syncs stop at the first page last edited before the cursor
minus the look-back, so they request only what changed. Each page version not stored yet gets its
labels (``GET /wiki/api/v2/pages/{id}/labels``, ``_links.next`` pages).

Raw: ``confluence_pages__pages``, one row per page version (key ``<id>@<version>``), payload
``{"page": <as listed>, "labels": [<label objects>], "base": <the listing's _links.base>}``. A page belongs to a service by its labels
(``service-<name>``, see the staging model) or its space (sources.yaml ``services[].confluence_spaces``).
Auth: HTTP Basic with the Atlassian account email (``user_env``) and an API token.
"""

from __future__ import annotations

from connectors.base import Connector, basic_client, max_iso, parse_ts
from connectors.http import ApiClient, HttpPolicy
from platform_kpi.raw import Batch, RawStore
from platform_kpi.sources_config import SourcesConfig

SOURCE = "confluence_pages"
LIMIT = 250  # the v2 API's maximum page size


def make_client(config: SourcesConfig, env=None, policy: HttpPolicy | None = None) -> ApiClient:
    return basic_client(
        config, SOURCE, "CONFLUENCE_USER", env, policy, what="Atlassian account email of the API token"
    )


class ConfluencePagesConnector(Connector):
    source = SOURCE
    default_per_page = LIMIT

    @property
    def limit(self) -> int:
        return min(int(self.source_config.options.get("limit", LIMIT)), LIMIT)

    def streams(self):
        return [("pages", self.pages)]

    def _all(self, path: str, params: dict | None) -> list[dict]:
        """Every result of a v2 listing, following ``_links.next``."""
        out: list[dict] = []
        target: str = path
        while True:
            response = self.client.get(target, params)
            body = response.json()
            out.extend(body.get("results") or [])
            nxt = (body.get("_links") or {}).get("next")
            if not nxt:
                return out
            target, params = str(response.url.join(nxt)), None

    def pages(self, store: RawStore) -> tuple[Batch, str | None]:
        cursor, start = self.cutoff(store, "pages")
        stored = {row[0] for row in store.query(f"select key from raw.{SOURCE}__pages")}
        batch = Batch(SOURCE)
        latest = cursor
        for space in self.source_config.scopes:
            target: str = f"wiki/api/v2/spaces/{space}/pages"
            params: dict | None = {"sort": "-modified-date", "limit": self.limit, "status": "current"}
            done = False
            while not done:
                response = self.client.get(target, params)
                body = response.json()
                for page in body.get("results") or []:
                    edited = (page.get("version") or {}).get("createdAt")
                    if cursor is not None and (parse_ts(edited) or start) < start:
                        done = True  # sorted by last edit: everything after this is older still
                        break
                    latest = max_iso(latest, edited)
                    key = f"{page['id']}@{(page.get('version') or {}).get('number')}"
                    if key in stored:
                        continue
                    labels = self._all(f"wiki/api/v2/pages/{page['id']}/labels", {"limit": 250})
                    base = (body.get("_links") or {}).get("base")
                    batch.add("pages", key, str(space), {"page": page, "labels": labels, "base": base})
                nxt = (body.get("_links") or {}).get("next")
                if not nxt:
                    break
                target, params = str(response.url.join(nxt)), None
        return batch, latest


CONNECTOR = ConfluencePagesConnector
