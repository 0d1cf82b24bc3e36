"""GitHub security signals over REST (2022-11-28): Dependabot and code-scanning alerts per repository,
and artifact attestations per digest, with the GitHub source's client (token, retries, rate limits).

* ``GET /repos/{o}/{r}/dependabot/alerts?sort=updated&direction=desc`` (cursor pagination: the
  ``after`` cursor comes in the ``Link`` header) and ``GET /repos/{o}/{r}/code-scanning/alerts?sort=
  updated&direction=desc`` (page pagination, ``Link`` too) are read newest change first until an alert
  last updated before the watermark (the latest ``updated_at`` already stored for the repository, less
  the source's look-back): a re-sync reads only what changed, and re-reading is harmless.
* ``GET /orgs/{org}/attestations/{subject_digest}`` answers ``{attestations: [...]}`` or 404 when none
  exists. A digest counts as attested when a signed SLSA provenance statement names it
  (connectors.security_files.provenance_digests).

Shapes: github/rest-api-description (``dependabot-alert``, ``code-scanning-alert-items``,
``/orgs/{org}/attestations/{subject_digest}``) as @octokit/openapi publishes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from connectors.base import parse_ts
from connectors.http import ApiClient
from connectors.security_files import BadRecord, alert_row, provenance_digests

TOOLS = {"dependabot": "dependabot/alerts", "code_scanning": "code-scanning/alerts"}


def alerts_since(
    client: ApiClient, repo: str, tool: str, since: dt.datetime | None, per_page: int = 100
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(page URL, position, alert) for every alert of ``repo`` updated at or after ``since`` (all when
    None), newest change first."""
    params = {"sort": "updated", "direction": "desc", "per_page": per_page, "state": None}
    params = {k: v for k, v in params.items() if v is not None}
    for n, page in enumerate(client.link_pages(f"repos/{repo}/{TOOLS[tool]}", params), start=1):
        older = False
        for i, alert in enumerate(page.json()):
            updated = parse_ts(alert.get("updated_at")) if isinstance(alert, dict) else None
            if since is not None and updated is not None and updated < since:
                older = True
                continue
            yield str(page.url.copy_with(query=None)), f"page {n} [{i}]", alert
        if older:
            return


def alert_rows(
    client: ApiClient, repo: str, tool: str, since: dt.datetime | None, per_page: int = 100
) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    """Raw rows of security__github_alerts, and (url, position, reason) of alerts that are unusable."""
    rows, bad = [], []
    for url, position, alert in alerts_since(client, repo, tool, since, per_page):
        try:
            rows.append(alert_row(alert, tool, url, position))
        except BadRecord as exc:
            bad.append((url, position, str(exc)))
    return rows, bad


def attested_digests(client: ApiClient, org: str, digest: str) -> set[str]:
    """The digests a signed SLSA provenance attestation found for ``digest`` in ``org`` proves (empty
    when GitHub has none: 404)."""
    response = client.get(f"orgs/{org}/attestations/{digest}", {"per_page": 100}, accept=(404,))
    if response.status_code == 404:
        return set()
    digests, _ = provenance_digests(response.json())
    return digests
