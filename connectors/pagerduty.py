"""PagerDuty REST v2: incidents of the configured services, with their resolve times; their alerts; and
the incident log entries that say who acknowledged and how each incident was resolved.

One stream, ``incidents``: ``GET /incidents`` by ``since``/``until`` (creation time) in windows of at
most 30 days (the API allows 6 months), ``sort_by=created_at:asc``, ``offset``/``limit`` pages while
``more`` is true. ``offset + limit`` may not pass 10,000, so a window holding more incidents than that
(``total=true`` says) is split in half. Incidents stored while still open are read again one by one
(``GET /incidents/{id}``) until resolved, however old the cursor.

``alerts``: ``GET /incidents/{id}/alerts`` (``offset``/``limit`` pages while ``more``) for every stored
incident created since the stream's cursor (minus look-back), and again for any incident still open or
holding an alert still triggered (within the recheck window).

``log_entries``: ``GET /log_entries`` by ``since``/``until`` (creation time of the entry) in the same
windows and pages as incidents, keeping the entries that tell an incident's story (trigger,
acknowledge, unacknowledge, escalate, resolve) of the configured services' incidents; notifications
and notes are not kept.
"""

from __future__ import annotations

import datetime as dt

from connectors.base import Connector, iso, max_iso, parallel, parse_ts, token_client
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

    stream_workers = 1  # alerts read the incidents the incidents stream stored

    def streams(self):
        if self.source_config.options.get("alerts") is False:
            return [("incidents", self.incidents)]
        # alerts read the incidents just stored, so they come after them
        return [("incidents", self.incidents), ("alerts", self.alerts), ("log_entries", self.log_entries)]

    def incidents(self, store: RawStore) -> tuple[Batch, str | None]:
        cursor, start = self.cutoff(store, "incidents")
        found: dict[str, dict] = {}
        window = dt.timedelta(days=float(self.source_config.options.get("window_days", 30)))
        # Stored incidents not yet resolved (created within recheck_days) are read again: the listing
        # starts at the oldest of them, so they come back in the same pages as the new ones instead of
        # one GET /incidents/{id} each.
        still_open = store.query(
            f"select key, payload->>'created_at' from raw.{SOURCE}__incidents "
            "where coalesce(payload->>'status', '') <> 'resolved' "
            "and try_cast(payload->>'created_at' as timestamptz) >= ?",
            [self.recheck_after],
        )
        opened = [t for _k, created in still_open if (t := parse_ts(created)) is not None]
        lo = min([start, *opened])
        end = self.now + dt.timedelta(seconds=1)
        while lo < end:
            hi = min(lo + window, end)
            for incident in self._between(lo, hi):
                found[str(incident.get("id"))] = incident
            lo = hi
        open_ids = [key for key, _created in still_open if key not in found]  # moved or deleted
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

    # -- alerts and log entries (alert noise) ------------------------------------------------------

    def _pages(self, path: str, key: str, params: dict) -> list[dict]:
        """Every item of a classic offset-paginated listing (``limit``/``offset`` while ``more``)."""
        params = {**params, "limit": self.limit, "offset": 0}
        body = self.client.get_json(path, params)
        out = list(body.get(key, []))
        while body.get("more"):
            params["offset"] += self.limit
            if params["offset"] + self.limit > OFFSET_CAP:
                raise RuntimeError(f"{SOURCE}: more than {OFFSET_CAP} {key} at {path}")
            body = self.client.get_json(path, params)
            out.extend(body.get(key, []))
        return out

    def alerts(self, store: RawStore) -> tuple[Batch, str | None]:
        cursor, start = self.cutoff(store, "alerts")
        scopes = list(self.source_config.scopes)
        # An incident's alert_counts {all, triggered, resolved} (PagerDuty's Incident schema) says what
        # its alerts are: when the stored alerts match them, nothing changed and they are not read again
        # (an incident without alerts costs no request at all).
        incidents = store.query(
            f"with stored as (select payload->'incident'->>'id' as incident, count(*) as n, "
            "count(*) filter (where payload->>'status' = 'triggered') as triggered, "
            "count(*) filter (where payload->>'status' = 'resolved') as resolved "
            f"from raw.{SOURCE}__alerts group by all) "
            f"select i.key, i.scope, i.payload->>'created_at' from raw.{SOURCE}__incidents as i "
            "left join stored as s on s.incident = i.key "
            "where list_contains(?, i.scope) and (try_cast(i.payload->>'created_at' as timestamptz) >= ? "
            "or (try_cast(i.payload->>'created_at' as timestamptz) >= ? and (coalesce(i.payload->>'status', '') "
            "<> 'resolved' or coalesce(s.triggered, 0) > 0))) "
            "and coalesce(not (try_cast(i.payload->'alert_counts'->>'all' as bigint) = coalesce(s.n, 0) "
            "and try_cast(i.payload->'alert_counts'->>'triggered' as bigint) = coalesce(s.triggered, 0) "
            "and try_cast(i.payload->'alert_counts'->>'resolved' as bigint) = coalesce(s.resolved, 0)), true) "
            "order by i.key",
            [scopes, start, self.recheck_after],
        )
        pages = parallel(
            lambda row: self._pages(f"incidents/{row[0]}/alerts", "alerts", {"sort_by": "created_at:asc"}),
            incidents,
        )
        batch = Batch(SOURCE)
        for (_key, scope, _created), alerts in zip(incidents, pages, strict=True):
            for alert in alerts:
                batch.add(
                    "alerts",
                    str(alert.get("id")),
                    str((alert.get("service") or {}).get("id") or scope),
                    alert,
                )
        return batch, max_iso(cursor, *(created for _k, _s, created in incidents))

    #: the log entries that tell an incident's story (notifications and notes are not kept)
    STORY = ("trigger", "acknowledge", "unacknowledge", "escalate", "resolve")

    def log_entries(self, store: RawStore) -> tuple[Batch, str | None]:
        cursor, start = self.cutoff(store, "log_entries")
        window = dt.timedelta(days=float(self.source_config.options.get("window_days", 30)))
        wanted = {f"{t}_log_entry" for t in self.STORY}
        scopes = set(self.source_config.scopes)
        incident_scope = dict(store.query(f"select key, scope from raw.{SOURCE}__incidents"))
        found: dict[str, dict] = {}
        lo, end = start, self.now + dt.timedelta(seconds=1)
        while lo < end:
            hi = min(lo + window, end)
            for entry in self._log_entries_between(lo, hi):
                if entry.get("type") in wanted:
                    found[str(entry.get("id"))] = entry
            lo = hi
        batch = Batch(SOURCE)
        for key, entry in found.items():
            incident = str((entry.get("incident") or {}).get("id"))
            scope = (entry.get("service") or {}).get("id") or incident_scope.get(incident)
            if scope in scopes:
                batch.add("log_entries", key, str(scope), entry)
        return batch, max_iso(cursor, *(e.get("created_at") for e in found.values()))

    def _log_entries_between(self, lo: dt.datetime, hi: dt.datetime) -> list[dict]:
        """Every log entry created in [lo, hi); a window holding more than offset + limit may reach
        (``total=true`` says) is split in half, as for incidents."""
        params = {"since": iso(lo), "until": iso(hi), "time_zone": "UTC", "is_overview": "false"}
        first = self.client.get_json(
            "log_entries", {**params, "limit": self.limit, "offset": 0, "total": "true"}
        )
        if (first.get("total") or 0) > OFFSET_CAP and hi - lo > dt.timedelta(minutes=2):
            mid = (lo + (hi - lo) / 2).replace(microsecond=0)
            return self._log_entries_between(lo, mid) + self._log_entries_between(mid, hi)
        out, body, offset = list(first.get("log_entries", [])), first, 0
        while body.get("more"):
            offset += self.limit
            if offset + self.limit > OFFSET_CAP:
                raise RuntimeError(
                    f"{SOURCE}: more than {OFFSET_CAP} log entries between {iso(lo)} and {iso(hi)}"
                )
            body = self.client.get_json("log_entries", {**params, "limit": self.limit, "offset": offset})
            out.extend(body.get("log_entries", []))
        return out


CONNECTOR = PagerDutyConnector
