"""Jira Cloud (REST v3): platform support tickets and architecture reviews, with their status history.

One stream per configured entity (sources.yaml ``jira.entities``: ``tickets`` and/or ``reviews``, each a
JQL filter). Each sync searches ``GET /rest/api/3/search/jql`` with

    (<the entity's JQL>) AND updated >= "<cursor minus look-back>" ORDER BY updated ASC, key ASC

asking for the fields the staging models read and ``expand=changelog``, and follows ``nextPageToken``
until ``isLast`` (the old ``/rest/api/3/search`` with ``startAt``/``total`` answers 410 Gone since 2025).
JQL compares times in the time zone of the account that calls it, so the bound is written in that
zone: one ``GET /rest/api/3/myself`` per sync reads it. A search embeds only an issue's recent
changelog; when an issue's ``changelog.total`` says more exist, the whole history is read from
``GET /rest/api/3/issue/{key}/changelog`` (``startAt``/``maxResults`` pages until ``isLast``).

Raw: ``jira__tickets`` / ``jira__reviews``, one row per issue (key = the issue key, scope = the entity),
payload = the issue as the search returned it, with ``changelog.histories`` complete. The cursor is the
latest ``fields.updated`` seen. Shapes: Atlassian's Jira platform OpenAPI spec (``SearchAndReconcileResults``,
``PageBeanChangelog``); facts: shared notes, Jira Cloud REST v3.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.base import Connector, basic_client, max_iso, parallel
from connectors.http import ApiClient, HttpPolicy
from platform_kpi.raw import Batch, RawStore
from platform_kpi.sources_config import SourcesConfig

SOURCE = "jira"
MAX_RESULTS = 100
CHANGELOG_PAGE = 100
#: what the staging models read; the search returns ids only unless fields are named
FIELDS = (
    "summary",
    "status",
    "issuetype",
    "priority",
    "resolution",
    "created",
    "updated",
    "resolutiondate",
    "statuscategorychangedate",
    "labels",
    "components",
    "project",
)


def make_client(config: SourcesConfig, env=None, policy: HttpPolicy | None = None) -> ApiClient:
    return basic_client(
        config, SOURCE, "JIRA_USER", env, policy, what="Atlassian account email of the API token"
    )


def jql_time(value: dt.datetime, zone: str | None) -> str:
    """A naive UTC time as a JQL date-time literal in the calling account's time zone (minutes: JQL's
    finest unit, so the bound is rounded down and never skips an update)."""
    try:
        tz = ZoneInfo(zone) if zone else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    local = value.replace(tzinfo=dt.UTC).astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M")


class JiraConnector(Connector):
    source = SOURCE

    @property
    def max_results(self) -> int:
        return int(self.source_config.options.get("max_results") or MAX_RESULTS)

    def streams(self):
        entities = self.source_config.options.get("entities") or {}
        return [(name, self._stream(name, spec["jql"])) for name, spec in entities.items()]

    def _fields(self) -> list[str]:
        extra = [
            self.source_config.options.get("team_field"),
            self.source_config.options.get("service_field"),
        ]
        return [*FIELDS, *(f for f in extra if f and f not in FIELDS)]

    def _zone(self) -> str | None:
        if not hasattr(self, "_account_zone"):
            self._account_zone = self.client.get_json("rest/api/3/myself").get("timeZone")
        return self._account_zone

    def _stream(self, entity: str, jql: str):
        def fetch(store: RawStore) -> tuple[Batch, str | None]:
            cursor, start = self.cutoff(store, entity)
            bounded = (
                f'({jql}) AND updated >= "{jql_time(start, self._zone())}" ORDER BY updated ASC, key ASC'
            )
            params: dict = {
                "jql": bounded,
                "fields": ",".join(self._fields()),
                "expand": "changelog",
                "maxResults": self.max_results,
            }
            issues: list[dict] = []
            while True:
                body = self.client.get_json("rest/api/3/search/jql", params)
                issues.extend(body.get("issues") or [])
                token = body.get("nextPageToken")
                # the last page may omit nextPageToken instead of sending null (JRACLOUD-92184)
                if body.get("isLast", token is None) or not token:
                    break
                params = {**params, "nextPageToken": token}
            partial = [i for i in issues if _changelog_incomplete(i)]
            for issue, histories in zip(
                partial, parallel(self._changelog, [i["key"] for i in partial]), strict=True
            ):
                issue["changelog"] = {
                    "startAt": 0,
                    "maxResults": len(histories),
                    "total": len(histories),
                    "histories": histories,
                }
            batch = Batch(SOURCE)
            for issue in issues:
                batch.add(entity, str(issue.get("key")), entity, issue)
            return batch, max_iso(cursor, *((i.get("fields") or {}).get("updated") for i in issues))

        return fetch

    def _changelog(self, key: str) -> list[dict]:
        """An issue's whole status history, oldest first."""
        out: list[dict] = []
        start = 0
        while True:
            body = self.client.get_json(
                f"rest/api/3/issue/{key}/changelog", {"startAt": start, "maxResults": CHANGELOG_PAGE}
            )
            values = body.get("values") or []
            out.extend(values)
            if body.get("isLast", True) or not values:
                return out
            start += len(values)


def _changelog_incomplete(issue: dict) -> bool:
    log = issue.get("changelog") or {}
    return int(log.get("total") or 0) > len(log.get("histories") or [])


CONNECTOR = JiraConnector
