"""The ServiceNow Table API: platform support requests and incidents, as the instance stores them.

One stream per configured entity (sources.yaml ``servicenow.entities``: ``tickets`` and/or
``incidents``, each a table and an encoded query). Each sync reads

    GET /api/now/table/<table>?sysparm_query=<query>^sys_updated_on>=<since>^ORDERBYsys_updated_on
        &sysparm_display_value=all&sysparm_exclude_reference_link=true&sysparm_limit=<n>&sysparm_offset=0

and follows the ``Link: <...>; rel="next"`` pages the instance builds from ``sysparm_offset``.
``sysparm_display_value=all`` returns every field as ``{"display_value", "value"}``: the value is what
the database holds (UTC times ``YYYY-MM-DD HH:mm:ss``, numeric state codes, sys ids of references), the
display value what a person sees (times in the calling user's zone, "Resolved", the group's name). The
staging models read times and codes from ``value`` and names from ``display_value``, so a record resolved
just after midnight UTC on the 1st counts in that month whatever the API user's zone.

``since`` is the cursor (the latest ``sys_updated_on`` value stored) minus the look-back. An encoded
query compares times in the API user's zone, so keep ``lookback_hours`` at least that zone's offset
(the default 24 h is). Raw: ``servicenow__tickets`` / ``servicenow__incidents``, one row per record (key
= its ``number``, scope = the entity). Shapes: ServiceNow docs, Table API ``GET /now/table/{tableName}``;
Table API FAQ KB0534905 (UTC values, display values).
"""

from __future__ import annotations

import datetime as dt

from connectors.base import Connector, basic_client, token_client
from connectors.http import ApiClient, HttpPolicy
from platform_kpi.raw import Batch, RawStore
from platform_kpi.sources_config import SourcesConfig

SOURCE = "servicenow"
LIMIT = 1000


def make_client(config: SourcesConfig, env=None, policy: HttpPolicy | None = None) -> ApiClient:
    if config.sources[SOURCE].options.get("auth") == "bearer":
        return token_client(
            config,
            SOURCE,
            lambda token: {"Authorization": f"Bearer {token}", "Accept": "application/json"},
            env,
            policy,
        )
    return basic_client(config, SOURCE, "SERVICENOW_USER", env, policy, what="ServiceNow user name")


def value(field) -> str | None:
    """A field's stored value, whichever way the instance sent it (``{"value", ...}`` or plain)."""
    if isinstance(field, dict):
        field = field.get("value")
    return None if field in (None, "") else str(field)


def sn_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class ServiceNowConnector(Connector):
    source = SOURCE

    @property
    def limit(self) -> int:
        return int(self.source_config.options.get("limit") or LIMIT)

    def streams(self):
        entities = self.source_config.options.get("entities") or {}
        return [
            (name, self._stream(name, spec["table"], spec.get("query") or ""))
            for name, spec in entities.items()
        ]

    def _stream(self, entity: str, table: str, query: str):
        def fetch(store: RawStore) -> tuple[Batch, str | None]:
            cursor, start = self.cutoff(store, entity)
            encoded = "^".join(
                q for q in (query, f"sys_updated_on>={sn_time(start)}", "ORDERBYsys_updated_on") if q
            )
            params = {
                "sysparm_query": encoded,
                "sysparm_display_value": "all",
                "sysparm_exclude_reference_link": "true",
                "sysparm_limit": self.limit,
                "sysparm_offset": 0,
            }
            batch = Batch(SOURCE)
            latest = cursor
            for response in self.client.link_pages(f"api/now/table/{table}", params):
                for record in response.json().get("result") or []:
                    key = value(record.get("number")) or value(record.get("sys_id"))
                    batch.add(entity, str(key), entity, record)
                    updated = value(record.get("sys_updated_on"))
                    # 'YYYY-MM-DD HH:mm:ss' in UTC: the string order is the time order
                    if updated and (latest is None or updated > latest):
                        latest = updated
            return batch, latest

        return fetch


CONNECTOR = ServiceNowConnector
