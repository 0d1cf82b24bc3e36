"""Backstage software catalog: components, systems and groups, kept as snapshots.

One stream, ``entities``. Each sync lists the catalog with ``GET /entities/by-query`` (``filter=kind=...``
per configured kind, ``fields`` = kind, namespace, name, uid and etag only, ``limit``), following
``pageInfo.nextCursor`` (a cursor request carries no filter: the cursor holds it). An entity whose
``uid@etag`` is not stored yet (new or changed since a previous sync) is then read whole with
``GET /entities/by-uid/{uid}``, so a re-sync of an unchanged catalog requests only the listing.

Raw tables: ``backstage_catalog__entities`` holds every version of every entity (key ``uid@etag``, the
entity as the API sent it); ``backstage_catalog__snapshots`` holds one row per sync (key = its time)
listing the ``uid``/``etag`` of every entity in the catalog then. Together they give the catalog as it
was at each sync: history is what was seen, not re-derived from today's catalog.
"""

from __future__ import annotations

import urllib.parse

from connectors.base import Connector, iso, parallel, token_client
from connectors.http import ApiClient, HttpPolicy
from platform_kpi.raw import Batch, RawStore
from platform_kpi.sources_config import SourcesConfig

SOURCE = "backstage_catalog"
LIMIT = 500
LIST_FIELDS = "kind,metadata.namespace,metadata.name,metadata.uid,metadata.etag"


def make_client(config: SourcesConfig, env=None, policy: HttpPolicy | None = None) -> ApiClient:
    return token_client(
        config,
        SOURCE,
        lambda token: {"Authorization": f"Bearer {token}", "Accept": "application/json"},
        env,
        policy,
    )


def version_key(entity: dict) -> str:
    meta = entity.get("metadata") or {}
    return f"{meta.get('uid')}@{meta.get('etag')}"


class BackstageCatalogConnector(Connector):
    source = SOURCE

    @property
    def limit(self) -> int:
        return int(self.source_config.options.get("limit", LIMIT))

    def streams(self):
        return [("entities", self.entities)]

    def listing(self) -> list[dict]:
        """Every entity of the configured kinds: kind, namespace, name, uid and etag only."""
        kinds = [str(k).lower() for k in self.source_config.scopes]
        params: dict = {"filter": [f"kind={k}" for k in kinds], "fields": LIST_FIELDS, "limit": self.limit}
        items: list[dict] = []
        while True:
            body = self.client.get_json("entities/by-query", params)
            items.extend(body.get("items") or [])
            cursor = (body.get("pageInfo") or {}).get("nextCursor")
            if not cursor:
                return items
            params = {"cursor": cursor, "fields": LIST_FIELDS, "limit": self.limit}

    def entities(self, store: RawStore) -> tuple[Batch, str | None]:
        listed = self.listing()
        stored = {row[0] for row in store.query(f"select key from raw.{SOURCE}__entities")}
        wanted = [e for e in listed if version_key(e) not in stored]
        fetched = parallel(
            lambda e: self.client.get_json(
                "entities/by-uid/" + urllib.parse.quote(str(e["metadata"]["uid"]), safe="")
            ),
            wanted,
        )
        batch = Batch(SOURCE)
        members = {e["metadata"]["uid"]: e for e in listed}
        for entity in fetched:
            members[entity["metadata"]["uid"]] = (
                entity  # read whole: its etag may be newer than the listing's
            )
            batch.add("entities", version_key(entity), str(entity.get("kind", "")).lower(), entity)
        snapshot_at = iso(self.now)
        batch.add(
            "snapshots",
            snapshot_at,
            "*",
            {
                "snapshot_at": snapshot_at,
                "entities": sorted(
                    (
                        {"uid": e["metadata"]["uid"], "etag": e["metadata"].get("etag")}
                        for e in members.values()
                    ),
                    key=lambda x: x["uid"],
                ),
            },
        )
        return batch, snapshot_at


CONNECTOR = BackstageCatalogConnector
