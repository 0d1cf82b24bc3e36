"""Local Jira Cloud and ServiceNow Table API servers for the service-desk connector tests.

Shapes follow the vendors' own documentation:
- Jira: Atlassian's Jira platform REST v3 OpenAPI spec — ``GET /rest/api/3/search/jql`` answers
  ``SearchAndReconcileResults`` ``{issues[], nextPageToken, isLast}`` (issues as ``IssueBean``: ``expand, id,
  self, key, fields, changelog{startAt, maxResults, total, histories[]}``); ``GET
  /rest/api/3/issue/{key}/changelog`` answers ``PageBeanChangelog`` ``{self, nextPage, maxResults,
  startAt, total, isLast, values[]{id, author, created, items[]{field, fieldtype, fieldId, from,
  fromString, to, toString}}}``; ``GET /rest/api/3/myself`` a ``User`` with ``timeZone``. Times are
  written ``2026-03-02T09:00:00.000+1100`` as Jira does.
- ServiceNow: Table API ``GET /api/now/table/{tableName}`` (docs.servicenow.com) answers
  ``{"result": [...]}`` with a ``Link`` header (``rel="first"``, ``"next"``, ``"last"`` built from
  ``sysparm_offset``) and ``X-Total-Count``; with ``sysparm_display_value=all`` every field is
  ``{"display_value", "value"}`` (KB0534905: values in UTC, display values in the user's zone).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import urllib.parse
from zoneinfo import ZoneInfo

from tests.security.helpers import LocalApi

JIRA_USER = "platform-kpi@acme.example"
JIRA_TOKEN = "jira-token-ATATT3xFfGF0-test"
SN_USER = "kpi.integration"
SN_PASSWORD = "sn-password-Zx9-test"


def _basic_ok(headers, user: str, secret: str) -> bool:
    expected = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
    return headers.get("Authorization") == expected


def _json(status: int, body, extra: dict | None = None) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json", **(extra or {})}, json.dumps(body).encode()


# --- Jira -------------------------------------------------------------------------------------------


def jira_time(text: str, zone: str = "Australia/Sydney") -> str:
    """'2026-03-02 09:00' UTC as Jira writes it in ``zone``: 2026-03-02T20:00:00.000+1100."""
    moment = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000%z")


STATUS = {
    "open": ("Open", "1", {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"}),
    "progress": (
        "In Progress",
        "3",
        {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    ),
    "done": ("Done", "10001", {"id": 3, "key": "done", "colorName": "green", "name": "Done"}),
}


def jira_issue(
    site: str,
    key: str,
    *,
    created: str,
    updated: str,
    status: str,
    resolution: str | None = None,
    resolved: str | None = None,
    category_changed: str | None = None,
    components: tuple[str, ...] = (),
    team: str | None = None,
    issuetype: str = "Service Request",
    summary: str = "Please help",
    histories: list[dict] | None = None,
) -> dict:
    """An IssueBean as the search returns it with the fields asked for and ``expand=changelog``."""
    name, status_id, category = STATUS[status]
    number = re.sub(r"\D", "", key)
    histories = histories or []
    return {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": str(10000 + int(number)),
        "self": f"{site}/rest/api/3/issue/{10000 + int(number)}",
        "key": key,
        "fields": {
            "summary": summary,
            "status": {
                "self": f"{site}/rest/api/3/status/{status_id}",
                "description": "",
                "iconUrl": f"{site}/images/icons/statuses/generic.png",
                "name": name,
                "id": status_id,
                "statusCategory": {"self": f"{site}/rest/api/3/statuscategory/{category['id']}", **category},
            },
            "issuetype": {
                "self": f"{site}/rest/api/3/issuetype/10005",
                "id": "10005",
                "name": issuetype,
                "subtask": False,
                "hierarchyLevel": 0,
            },
            "priority": {"self": f"{site}/rest/api/3/priority/3", "iconUrl": "", "name": "Medium", "id": "3"},
            "resolution": (
                {
                    "self": f"{site}/rest/api/3/resolution/10000",
                    "id": "10000",
                    "description": "",
                    "name": resolution,
                }
                if resolution
                else None
            ),
            "created": jira_time(created),
            "updated": jira_time(updated),
            "resolutiondate": jira_time(resolved) if resolved else None,
            "statuscategorychangedate": jira_time(category_changed or resolved or created),
            "labels": [],
            "components": [
                {"self": f"{site}/rest/api/3/component/1{i}", "id": f"1{i}", "name": c}
                for i, c in enumerate(components)
            ],
            "project": {
                "self": f"{site}/rest/api/3/project/10000",
                "id": "10000",
                "key": key.split("-")[0],
                "name": "Platform support",
            },
            "customfield_10001": (
                {"id": "36885b3c-1bf0-4f85-a357-c5b858c31de4", "name": team, "title": team, "isShared": True}
                if team
                else None
            ),
        },
        "changelog": {
            "startAt": 0,
            "maxResults": len(histories),
            "total": len(histories),
            "histories": histories,
        },
    }


def history(
    hid: int, created: str, *items: tuple[str, str | None, str | None, str | None, str | None]
) -> dict:
    """A changelog entry: items are (field, from, fromString, to, toString)."""
    return {
        "id": str(hid),
        "author": {
            "self": "https://your-domain.atlassian.net/rest/api/3/user?accountId=5b10a2844c20165700ede21g",
            "accountId": "5b10a2844c20165700ede21g",
            "displayName": "Mia Krystof",
            "active": True,
            "accountType": "atlassian",
        },
        "created": jira_time(created),
        "items": [
            {
                "field": f,
                "fieldtype": "jira",
                "fieldId": f,
                "from": a,
                "fromString": b,
                "to": c,
                "toString": d,
            }
            for f, a, b, c, d in items
        ],
    }


class JiraApi(LocalApi):
    """Jira Cloud on 127.0.0.1: JQL search with nextPageToken, paged changelogs, the caller's zone.
    The search embeds at most ``embed`` histories per issue (with the real total), as Jira's
    ``expand=changelog`` does for long histories. ``faults``: (path fragment, 429|500), used once."""

    def __init__(self, zone: str = "Australia/Sydney", embed: int = 2) -> None:
        super().__init__()
        self.zone = zone
        self.embed = embed
        self.issues: dict[str, dict] = {}

    def put(self, issue: dict) -> None:
        self.issues[issue["key"]] = issue

    def answer(self, raw_path: str, headers) -> tuple[int, dict, bytes]:
        if not _basic_ok(headers, JIRA_USER, JIRA_TOKEN):
            return _json(
                401,
                {"errorMessages": ["Client must be authenticated to access this resource."], "errors": {}},
            )
        url = urllib.parse.urlsplit(raw_path)
        q = urllib.parse.parse_qs(url.query)
        for i, (fragment, kind) in enumerate(self.faults):
            if fragment in url.path:
                del self.faults[i]
                if kind == "429":
                    return _json(429, {"errorMessages": ["Rate limit exceeded."]}, {"Retry-After": "0"})
                return _json(500, {"errorMessages": ["Internal server error"]})
        if url.path == "/rest/api/3/myself":
            return _json(
                200,
                {
                    "accountId": "5b10a2844c20165700ede21g",
                    "emailAddress": JIRA_USER,
                    "timeZone": self.zone,
                    "active": True,
                },
            )
        if url.path == "/rest/api/3/search":  # removed in 2025
            return _json(
                410,
                {
                    "errorMessages": [
                        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."
                    ]
                },
            )
        if url.path == "/rest/api/3/search/jql":
            return _json(200, self._search(q))
        m = re.fullmatch(r"/rest/api/3/issue/([A-Z]+-\d+)/changelog", url.path)
        if m:
            histories = self.issues[m.group(1)]["changelog"]["histories"]
            start, size = int(q.get("startAt", ["0"])[0]), int(q.get("maxResults", ["100"])[0])
            page = histories[start : start + size]
            return _json(
                200,
                {
                    "self": raw_path,
                    "maxResults": size,
                    "startAt": start,
                    "total": len(histories),
                    "isLast": start + size >= len(histories),
                    "values": page,
                },
            )
        return _json(404, {"errorMessages": ["Not found"], "errors": {}})

    def _search(self, q: dict) -> dict:
        jql = q["jql"][0]
        bound = re.search(r'updated >= "(\d{4}-\d{2}-\d{2} \d{2}:\d{2})"', jql)
        since = (
            dt.datetime.strptime(bound.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(self.zone))
            if bound
            else None
        )
        project = re.search(r"project = (\w+)", jql)
        hits = [
            i
            for i in self.issues.values()
            if (
                since is None
                or dt.datetime.strptime(i["fields"]["updated"], "%Y-%m-%dT%H:%M:%S.%f%z") >= since
            )
            and (project is None or i["fields"]["project"]["key"] == project.group(1))
        ]
        hits.sort(
            key=lambda i: (dt.datetime.strptime(i["fields"]["updated"], "%Y-%m-%dT%H:%M:%S.%f%z"), i["key"])
        )
        start = int(base64.b64decode(q["nextPageToken"][0]).decode()) if "nextPageToken" in q else 0
        size = int(q.get("maxResults", ["50"])[0])
        page = []
        for issue in hits[start : start + size]:
            issue = json.loads(json.dumps(issue))
            full = issue["changelog"]["histories"]
            # recent histories only, newest first, with the real total
            issue["changelog"] = {
                "startAt": 0,
                "maxResults": self.embed,
                "total": len(full),
                "histories": full[::-1][: self.embed],
            }
            page.append(issue)
        body: dict = {"issues": page, "isLast": start + size >= len(hits)}
        if start + size < len(hits):
            body["nextPageToken"] = base64.b64encode(str(start + size).encode()).decode()
        return body


# --- ServiceNow -------------------------------------------------------------------------------------


def sn_field(value: str | None, display: str | None = None) -> dict:
    return {"display_value": display if display is not None else (value or ""), "value": value or ""}


def sn_time(utc: str | None, zone: str = "America/Los_Angeles") -> dict:
    """A date-time field with sysparm_display_value=all: the value in UTC, the display in the user's zone."""
    if not utc:
        return sn_field("", "")
    moment = dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC)
    return sn_field(
        moment.strftime("%Y-%m-%d %H:%M:%S"),
        moment.astimezone(ZoneInfo(zone)).strftime("%m/%d/%Y %I:%M:%S %p"),
    )


INCIDENT_STATES = {
    "1": "New",
    "2": "In Progress",
    "3": "On Hold",
    "6": "Resolved",
    "7": "Closed",
    "8": "Canceled",
}
ITEM_STATES = {
    "1": "Open",
    "2": "Work in Progress",
    "3": "Closed Complete",
    "4": "Closed Incomplete",
    "7": "Closed Skipped",
}


def sn_record(
    table: str,
    number: str,
    *,
    opened: str,
    updated: str,
    state: str,
    resolved: str | None = None,
    closed: str | None = None,
    ci: str | None = None,
    team: str | None = None,
    group: str = "Platform Support",
    priority: str = "3",
) -> dict:
    """A Table API record with sysparm_display_value=all and sysparm_exclude_reference_link=true."""
    states = INCIDENT_STATES if table == "incident" else ITEM_STATES
    sys_id = f"{abs(hash(number)) % 16**32:032x}"
    record = {
        "number": sn_field(number),
        "sys_id": sn_field(sys_id),
        "sys_class_name": sn_field(table, "Incident" if table == "incident" else "Requested Item"),
        "state": sn_field(state, states.get(state, state)),
        "active": sn_field("false" if state in ("3", "4", "6", "7", "8") else "true"),
        "priority": sn_field(
            priority, {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low"}[priority]
        ),
        "opened_at": sn_time(opened),
        "closed_at": sn_time(closed),
        "sys_created_on": sn_time(opened),
        "sys_updated_on": sn_time(updated),
        "assignment_group": sn_field("8a4dde73c6112278017a6a4baf547aa7", group),
        "cmdb_ci": sn_field(f"{abs(hash(ci)) % 16**32:032x}" if ci else "", ci or ""),
        "u_requesting_team": sn_field(f"{abs(hash(team)) % 16**32:032x}" if team else "", team or ""),
        "short_description": sn_field("Need a new pipeline"),
    }
    if table == "incident":
        record["resolved_at"] = sn_time(resolved)
    return record


class ServiceNowApi(LocalApi):
    """The Table API on 127.0.0.1: encoded queries on sys_updated_on and the display value of a
    reference (``field.name=...``), ORDERBY, offset paging with the ``Link`` and ``X-Total-Count``
    headers ServiceNow sends. ``faults``: (path fragment, 429|500), used once."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, dict]] = {}

    def put(self, table: str, record: dict) -> None:
        self.tables.setdefault(table, {})[record["number"]["value"]] = record

    def answer(self, raw_path: str, headers) -> tuple[int, dict, bytes]:
        if not _basic_ok(headers, SN_USER, SN_PASSWORD):
            return _json(
                401,
                {
                    "error": {
                        "message": "User Not Authenticated",
                        "detail": "Required to provide Auth information",
                    },
                    "status": "failure",
                },
            )
        url = urllib.parse.urlsplit(raw_path)
        for i, (fragment, kind) in enumerate(self.faults):
            if fragment in url.path:
                del self.faults[i]
                if kind == "429":
                    return _json(
                        429,
                        {"error": {"message": "Rate limit exceeded"}, "status": "failure"},
                        {"Retry-After": "0"},
                    )
                return _json(500, {"error": {"message": "Internal error"}, "status": "failure"})
        m = re.fullmatch(r"/api/now/table/(\w+)", url.path)
        if not m:
            return _json(400, {"error": {"message": "Invalid table"}, "status": "failure"})
        q = urllib.parse.parse_qs(url.query)
        rows = list(self.tables.get(m.group(1), {}).values())
        order = None
        for cond in q.get("sysparm_query", [""])[0].split("^"):
            if not cond:
                continue
            if cond.startswith("ORDERBY"):
                order = cond[len("ORDERBY") :]
            elif ">=" in cond:
                field, bound = cond.split(">=", 1)
                rows = [r for r in rows if r[field]["value"] >= bound]
            elif "=" in cond:
                field, want = cond.split("=", 1)
                name, _, sub = field.partition(".")
                rows = [r for r in rows if (r[name]["display_value"] if sub else r[name]["value"]) == want]
        if order:
            rows.sort(key=lambda r: r[order]["value"])
        limit, offset = int(q.get("sysparm_limit", ["10000"])[0]), int(q.get("sysparm_offset", ["0"])[0])
        page = rows[offset : offset + limit]
        base = f"{self.url}{url.path}"

        def link(off: int) -> str:
            params = {k: v[0] for k, v in q.items()} | {"sysparm_offset": str(off)}
            return f"{base}?{urllib.parse.urlencode(params)}"

        links = [f'<{link(0)}>;rel="first"']
        if offset + limit < len(rows):
            links.append(f'<{link(offset + limit)}>;rel="next"')
        links.append(f'<{link(max(0, (len(rows) - 1) // limit * limit))}>;rel="last"')
        return _json(200, {"result": page}, {"Link": ",".join(links), "X-Total-Count": str(len(rows))})
