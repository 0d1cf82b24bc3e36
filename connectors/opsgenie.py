"""Opsgenie: alerts (``GET /v2/alerts``) and incidents (``GET /v1/incidents``).

Both are searched with ``query=createdAt>=<epoch ms>`` (cursor - look-back), ``sort=createdAt``,
``order=asc``, ``limit`` ≤ 100 and followed through ``paging.next`` until it is absent. Offset and
limit together may not pass 20,000, so a long listing restarts from the last creation time it reached
(records read twice are stored once). Alerts not yet closed and incidents not yet resolved are read
again one by one until they are. Incidents become domain incidents (service from their impacted
services as mapped in sources.yaml); alerts are kept in raw and staging for alert-level analysis.
"""

from __future__ import annotations

from connectors.base import Connector, max_iso, parallel, parse_ts, token_client
from connectors.http import ApiClient, HttpPolicy
from platform_kpi.raw import Batch, RawStore
from platform_kpi.sources_config import SourcesConfig

SOURCE = "opsgenie"
LIMIT = 100
OFFSET_CAP = 20_000


def make_client(config: SourcesConfig, env=None, policy: HttpPolicy | None = None) -> ApiClient:
    return token_client(config, SOURCE, lambda token: {"Authorization": f"GenieKey {token}"}, env, policy)


def _ms(value) -> int:
    t = parse_ts(value)
    import datetime as dt

    return int(t.replace(tzinfo=dt.UTC).timestamp() * 1000) if t else 0


class OpsgenieConnector(Connector):
    source = SOURCE

    @property
    def limit(self) -> int:
        return int(self.source_config.options.get("limit", LIMIT))

    def streams(self):
        return [
            ("alerts", lambda store: self._stream(store, "alerts", "v2/alerts", open_status=("closed",))),
            (
                "incidents",
                lambda store: self._stream(
                    store, "incidents", "v1/incidents", open_status=("resolved", "closed")
                ),
            ),
        ]

    def _search(self, path: str, since_ms: int) -> list[dict]:
        out: list[dict] = []
        while True:
            params = {
                "query": f"createdAt>={since_ms}",
                "sort": "createdAt",
                "order": "asc",
                "limit": self.limit,
                "offset": 0,
            }
            body = self.client.get_json(path, params)
            page_items = list(body.get("data", []))
            offset = 0
            restart = False
            while True:
                out.extend(page_items)
                nxt = (body.get("paging") or {}).get("next")
                if not nxt:
                    break
                offset += self.limit
                if offset + self.limit > OFFSET_CAP:
                    restart = True
                    break
                body = self.client.get_json(nxt)
                page_items = list(body.get("data", []))
            if not restart:
                return out
            last = max(_ms(i.get("createdAt")) for i in out)
            if last <= since_ms:  # more than 20,000 records in one millisecond: cannot page further
                raise RuntimeError(f"{SOURCE}: more than {OFFSET_CAP} records created at {last} ms")
            since_ms = last

    def _stream(self, store: RawStore, entity: str, path: str, open_status: tuple[str, ...]):
        cursor, start = self.cutoff(store, entity)
        import datetime as dt

        found = {
            str(i.get("id")): i
            for i in self._search(path, int(start.replace(tzinfo=dt.UTC).timestamp() * 1000))
        }
        open_ids = [
            key
            for (key,) in store.query(
                f"select key from raw.{SOURCE}__{entity} where not list_contains(?, coalesce(payload->>'status', '')) "
                "and try_cast(payload->>'createdAt' as timestamptz) >= ?",
                [list(open_status), self.recheck_after],
            )
            if key not in found
        ]
        for body in parallel(lambda key: self.client.get_json(f"{path}/{key}"), open_ids):
            item = body.get("data") or {}
            found[str(item.get("id"))] = item
        batch = Batch(SOURCE)
        for key, item in found.items():
            batch.add(entity, key, entity, item)
        return batch, max_iso(cursor, *(i.get("createdAt") for i in found.values()))


CONNECTOR = OpsgenieConnector
