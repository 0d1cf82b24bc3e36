"""HCP Terraform / Terraform Enterprise (API v2, JSON:API): each workspace's current health assessment.

One stream, ``assessments``: ``GET /organizations/{org}/workspaces?include=current-assessment-result``
page by page (``page[number]``/``page[size]``, following ``links.next``), keeping the configured
workspaces (all when none is listed). A workspace's assessment result (``included[]``, type
``assessment-results``: ``drifted``, ``succeeded``, ``created-at``) not stored yet is read once more as
its plan JSON (``GET /assessment-results/{id}/json-output``, a ``terraform show -json`` document; it
needs a user or team token, organisation tokens are refused): managed resources and the drifted ones
(``resource_drift``, any module depth) are counted from it, as for a saved plan file. When the plan is
refused, the result's ``resources-drifted``/``resources-undrifted`` counts are used when present.
Results are immutable: a re-sync fetches only new ones.

Shapes: hashicorp terraform-docs-common ``cloud-docs/api-docs/assessment-results.mdx`` and
``workspaces.mdx`` (JSON:API, ``links.next``, ``meta.pagination``).
"""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, max_iso, token_client
from connectors.http import ApiClient, HttpPolicy, SourceError
from connectors.security_files import BadRecord, plan_row
from platform_kpi.raw import Batch, RawStore
from platform_kpi.sources_config import SourcesConfig

SOURCE = "hcp_terraform"


def make_client(config: SourcesConfig, env=None, policy: HttpPolicy | None = None) -> ApiClient:
    return token_client(
        config,
        SOURCE,
        lambda token: {"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.api+json"},
        env,
        policy,
    )


def plan_summary(plan: Any) -> dict[str, Any]:
    """Managed and drifted resources of a plan JSON (BadRecord when it is not one)."""
    row = plan_row(plan, "", "", "1970-01-01")
    return {
        "managed_resources": row["managed_resources"],
        "drifted_resources": row["drifted_resources"],
        "drifted_addresses": row["drifted_addresses"],
    }


class HcpTerraformConnector(Connector):
    source = SOURCE
    default_per_page = 100

    def streams(self):
        return [("assessments", self.assessments)]

    def _workspaces(self) -> list[tuple[dict, dict | None]]:
        """(workspace, its current assessment result or None) for every workspace of the organisation."""
        org = self.source_config.options["organization"]
        path: str | None = f"organizations/{org}/workspaces"
        params: dict | None = {
            "include": "current-assessment-result",
            "page[number]": 1,
            "page[size]": self.per_page,
        }
        out: list[tuple[dict, dict | None]] = []
        while path:
            body = self.client.get_json(path, params)
            included = {
                (i.get("type"), i.get("id")): i for i in body.get("included") or [] if isinstance(i, dict)
            }
            for ws in body.get("data") or []:
                rel = ((ws.get("relationships") or {}).get("current-assessment-result") or {}).get(
                    "data"
                ) or {}
                result = included.get(("assessment-results", rel.get("id"))) if rel.get("id") else None
                if rel.get("id") and result is None:
                    result = self.client.get_json(f"assessment-results/{rel['id']}").get("data")
                out.append((ws, result))
            nxt = (body.get("links") or {}).get("next")
            path, params = (nxt, None) if nxt else (None, None)
        return out

    def assessments(self, store: RawStore) -> tuple[Batch, str | None]:
        cursor, _ = self.cutoff(store, "assessments")
        wanted = set(self.source_config.scopes)
        listed = [
            (ws, result)
            for ws, result in self._workspaces()
            if result is not None and (not wanted or (ws.get("attributes") or {}).get("name") in wanted)
        ]
        stored = store.payloads(SOURCE, "assessment_results", [str(r.get("id")) for _, r in listed])
        batch = Batch(SOURCE)
        for ws, result in listed:
            key = str(result.get("id"))
            if key in stored:
                continue  # an assessment result never changes
            summary: dict[str, Any] | None = None
            try:
                response = self.client.get(f"assessment-results/{key}/json-output", accept=(401, 403, 404))
                if response.status_code == 200:
                    summary = plan_summary(response.json())
            except (SourceError, BadRecord):
                summary = None  # staging falls back to the result's own counts, or quarantines it
            name = (ws.get("attributes") or {}).get("name") or ws.get("id")
            batch.add("assessment_results", key, name, {"assessment": result, "plan": summary})
        created = [(r.get("attributes") or {}).get("created-at") for _, r in listed]
        return batch, max_iso(cursor, *created)


CONNECTOR = HcpTerraformConnector
