"""PagerDuty REST v2: incidents of the configured services, with their resolve times.

One stream, ``incidents``: ``GET /incidents`` by ``since``/``until`` (creation time) in windows of at
most 30 days (the API allows 6 months), ``sort_by=created_at:asc``, ``offset``/``limit`` pages while
``more`` is true. ``offset + limit`` may not pass 10,000, so a window holding more incidents than that
(``total=true`` says) is split in half. Incidents stored while still open are read again one by one
(``GET /incidents/{id}``) until resolved, however old the cursor.
"""

from __future__ import annotations

import datetime as dt

from connectors.base import Connector, iso, max_iso, parallel, token_client
from connectors.http import ApiClient, HttpPolicy
from platform_kpi.raw import Batch, RawStore
from platform_kpi.sources_config import SourcesConfig

SOURCE = "pagerduty"
LIMIT = 100
OFFSET_CAP = 10_000


def make_client(config: SourcesConfig, env=None, policy: HttpPolicy | None = None) -> ApiClient:
    return token_client(
        config,
        SOURCE,
        lambda token: {
            "Authorization": f"Token token={token}",
            "Accept": "application/vnd.pagerduty+json;version=2",
            "Content-Type": "application/json",
        },
        env,
        policy,
    )


class PagerDutyConnector(Connector):
    source = SOURCE

    @property
    def limit(self) -> int:
        return int(self.source_config.options.get("limit", LIMIT))

    def streams(self):
        return [("incidents", self.incidents)]

    def incidents(self, store: RawStore) -> tuple[Batch, str | None]:
        cursor, start = self.cutoff(store, "incidents")
        found: dict[str, dict] = {}
        window = dt.timedelta(days=float(self.source_config.options.get("window_days", 30)))
        lo = start
        end = self.now + dt.timedelta(seconds=1)
        while lo < end:
            hi = min(lo + window, end)
            for incident in self._between(lo, hi):
                found[str(incident.get("id"))] = incident
            lo = hi
        open_ids = [
            row[0]
            for row in store.query(
                f"select key from raw.{SOURCE}__incidents where coalesce(payload->>'status', '') <> 'resolved' "
                "and try_cast(payload->>'created_at' as timestamptz) >= ?",
                [self.recheck_after],
            )
            if row[0] not in found
        ]
        for body in parallel(lambda key: self.client.get_json(f"incidents/{key}"), open_ids):
            incident = body.get("incident", {})
            found[str(incident.get("id"))] = incident
        batch = Batch(SOURCE)
        for key, incident in found.items():
            batch.add("incidents", key, str((incident.get("service") or {}).get("id")), incident)
        return batch, max_iso(cursor, *(i.get("created_at") for i in found.values()))

    def _between(self, lo: dt.datetime, hi: dt.datetime) -> list[dict]:
        params: dict = {
            "since": iso(lo),
            "until": iso(hi),
            "sort_by": "created_at:asc",
            "limit": self.limit,
            "offset": 0,
            "total": "true",
            "time_zone": "UTC",
            "service_ids[]": list(self.source_config.scopes),
        }
        body = self.client.get_json("incidents", params)
        total = body.get("total") or 0
        if total > OFFSET_CAP and hi - lo > dt.timedelta(minutes=2):
            mid = (lo + (hi - lo) / 2).replace(microsecond=0)
            return self._between(lo, mid) + self._between(mid, hi)
        out = list(body.get("incidents", []))
        offset = 0
        while body.get("more"):
            offset += self.limit
            if offset + self.limit > OFFSET_CAP:
                raise RuntimeError(
                    f"{SOURCE}: more than {OFFSET_CAP} incidents between {iso(lo)} and {iso(hi)}"
                )
            body = self.client.get_json("incidents", {**params, "offset": offset, "total": "false"})
            out.extend(body.get("incidents", []))
        return out


CONNECTOR = PagerDutyConnector
