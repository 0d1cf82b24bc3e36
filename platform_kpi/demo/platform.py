"""The demo organisation's paved road: its service catalog, CI configuration scans and documents.

Written beside the delivery files by :func:`platform_kpi.demo.org.generate_demo_org` as three canonical
files the file import reads:

* ``catalog_entities.csv`` - a catalog snapshot on the first day of every month (and today): every
  service as a Component owned by its team's group, plus one Group per team;
* ``ci_config_scans.csv``  - a scan of every repository on the same days: the template references of
  its CI file (GitHub Actions for the elite and high teams, GitLab CI for medium, Jenkins for low);
* ``docs_pages.csv``       - every edit of each service's runbook and TechDocs.

Adoption rises over the window, faster in better-performing teams: each service takes up each
golden-path criterion (created from an approved template, CI on a shared template, an owner, TechDocs,
a runbook / on-call) at its own month, so the golden-path share grows from about one in ten services to
about two in three. Before moving to the shared templates, repositories use an unapproved fork that
looks like them (``acme/platform-workflows-fork``), GitLab's Auto-DevOps template or a legacy Jenkins
library. The shared templates publish a release every six months (config/kpi.yaml's dates); repositories
bump their pin only now and then, so drift shows. Two services are deprecated along the way, one starts as experimental, and
the monorepo's services share one CI file. Deterministic for a seed, and cheap (a few thousand rows).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

CATALOG_COLUMNS = (
    "snapshot_at", "kind", "name", "namespace", "type", "lifecycle", "owner", "system", "repo",
    "source_template", "techdocs_ref", "pagerduty_service", "runbook_url", "tags", "url",
)  # fmt: skip
SCAN_COLUMNS = ("scanned_at", "repo", "path", "kind", "reference", "version")
DOCS_COLUMNS = ("doc_id", "service", "updated_at", "kind", "title", "labels", "url", "created_at")

CATALOG_URL = "https://backstage.acme.example/catalog/default/component/"
#: the shared templates' releases, oldest first, as config/kpi.yaml lists them (pipeline_templates)
RELEASES = (
    ("v1", dt.date(2024, 9, 1)),
    ("v2", dt.date(2025, 3, 1)),
    ("v3", dt.date(2025, 9, 1)),
    ("v4", dt.date(2026, 3, 1)),
)
NEVER = 10_000

# Per delivery tier (elite, high, medium, low): the month (from the window's start) by which half of
# the services have taken up a criterion, and the share that never do within the window.
_MEDIAN_MONTH = np.array([3.0, 8.0, 13.0, 20.0])
_NEVER_SHARE = np.array([0.03, 0.06, 0.12, 0.25])
# Criterion offsets in months: owners come first, scaffolding and shared CI later.
_OFFSET = {"owner": -12.0, "runbook": -4.0, "techdocs": -1.0, "ci_template": 1.0, "scaffolded": 2.0}
# Documentation edits per document per month, per tier, at the window's start and end.
_EDITS_START = np.array([0.30, 0.18, 0.10, 0.05])
_EDITS_END = np.array([0.60, 0.40, 0.25, 0.12])

_CI = {  # tier -> (path, kind, approved reference, unapproved reference)
    0: (".github/workflows/ci.yml", "github_uses", "acme/platform-workflows/.github/workflows/build.yml",
        "acme/platform-workflows-fork/.github/workflows/build.yml"),
    1: (".github/workflows/ci.yml", "github_uses", "acme/platform-workflows/.github/workflows/build.yml",
        "acme/platform-workflows-fork/.github/workflows/build.yml"),
    2: (".gitlab-ci.yml", "gitlab_include_project", "platform/ci-templates/build.yml", None),
    3: ("Jenkinsfile", "jenkins_library", "platform-pipeline-library", None),
}  # fmt: skip
_UNAPPROVED = {
    2: ("gitlab_include_template", "Auto-DevOps.gitlab-ci.yml"),
    3: ("jenkins_library", "legacy-pipeline-lib"),
}


def _months_between(first: dt.date, today: dt.date) -> list[dt.date]:
    out, d = [], first
    while d <= today:
        out.append(d)
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def _z(d: dt.date, hour: int = 6) -> str:
    return f"{d.isoformat()}T{hour:02d}:00:00Z"


def generate_platform_files(
    out: Path,
    *,
    services: Sequence[str],
    teams: Sequence[str],
    profiles: Sequence[int],
    repos: Sequence[str],
    first: dt.date,
    today: dt.date,
    seed: int,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write catalog_entities.csv, ci_config_scans.csv and docs_pages.csv for the demo's services
    (name, owning team, delivery tier 0-3 and repository each) from ``first`` (a month's first day)
    to ``today``. Returns the rows written per file."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 13]))
    n = len(services)
    months = _months_between(first, today)
    profile = np.asarray(profiles, dtype=np.int64)

    # The month each service takes up each criterion (NEVER: not within the window).
    uptake: dict[str, np.ndarray] = {}
    for criterion, offset in _OFFSET.items():
        month = rng.normal(_MEDIAN_MONTH[profile] + offset, 3.0)
        never = rng.random(n) < _NEVER_SHARE[profile]
        uptake[criterion] = np.where(never, NEVER, np.round(month)).astype(np.int64)
    # A monorepo's services share one CI file: they move to the shared template together.
    by_repo: dict[str, list[int]] = {}
    for i, repo in enumerate(repos):
        by_repo.setdefault(repo, []).append(i)
    for members in by_repo.values():
        uptake["ci_template"][members] = uptake["ci_template"][members].min()
    # Repositories bump their template pin now and then (from the release current at migration).
    bump_every = rng.integers(4, 14, size=n)
    # Lifecycles: two services are deprecated along the way, one starts experimental.
    order = rng.permutation(n)
    deprecated_at = np.full(n, NEVER)
    experimental_until = np.full(n, -1)
    if n >= 4:
        deprecated_at[order[0]] = len(months) // 3
        deprecated_at[order[1]] = (2 * len(months)) // 3
        experimental_until[order[2]] = len(months) // 4
    tier_name = [f"tier-{1 + i % 3}" for i in range(n)]

    def newest(day: dt.date) -> str:
        return next((v for v, released in reversed(RELEASES) if released <= day), RELEASES[0][0])

    def version(m: int, since: int, i: int) -> str:
        """The release a repository that moved at ``since`` pins at month ``m``: the newest one out when
        it last bumped its pin."""
        bumps = max(0, (m - max(since, 0)) // int(bump_every[i]))
        pinned_at = min(m, max(since, 0) + bumps * int(bump_every[i]))
        return newest(months[pinned_at])

    catalog, scans = [], []
    for m, month in enumerate(months):
        snapshot = _z(month) if month < today else _z(today, 0)
        for t in sorted(set(teams)):
            catalog.append([snapshot, "Group", t, "default", "team", "", "", "", "", "", "", "", "", "", ""])
        for i, service in enumerate(services):
            if m > deprecated_at[i] + 3:  # removed from the catalog a quarter after deprecation
                continue
            has = {c: m >= uptake[c][i] for c in _OFFSET}
            lifecycle = (
                "deprecated"
                if m >= deprecated_at[i]
                else "experimental"
                if m <= experimental_until[i]
                else "production"
            )
            catalog.append(
                [
                    snapshot,
                    "Component",
                    service,
                    "default",
                    "service",
                    lifecycle,
                    f"group:default/{teams[i]}" if has["owner"] else "",
                    f"{teams[i]}-platform",
                    repos[i],
                    f"template:default/{['go', 'python', 'java', 'node'][int(profile[i])]}-service"
                    if has["scaffolded"]
                    else "",
                    "dir:." if has["techdocs"] else "",
                    f"P{i:05d}" if has["runbook"] and tier_name[i] != "tier-3" else "",
                    f"https://wiki.acme.example/runbooks/{service}"
                    if has["runbook"] and tier_name[i] == "tier-3"
                    else "",
                    tier_name[i],
                    CATALOG_URL + service,
                ]
            )
        for repo, members in sorted(by_repo.items()):
            i = members[0]
            path, kind, approved, fork = _CI[int(profile[i])]
            since = int(uptake["ci_template"][i])
            if m >= since:
                scans.append([snapshot, repo, path, kind, approved, version(m, since, i)])
            elif fork is not None:
                scans.append([snapshot, repo, path, kind, fork, newest(month)])
            else:
                scans.append([snapshot, repo, path, *_UNAPPROVED[int(profile[i])], ""])
            if kind == "github_uses":
                scans.append([snapshot, repo, path, "github_uses", "actions/checkout", "v4"])

    # Documents: each service's runbook and TechDocs, created when it took up the criterion (or at the
    # window's start), edited at a rate that rises over the window.
    docs = []
    start = dt.datetime.combine(first, dt.time(), dt.UTC)
    span_days = (today - first).days
    for i, service in enumerate(services):
        for kind, criterion in (("runbook", "runbook"), ("techdocs", "techdocs")):
            born = max(0, int(uptake[criterion][i]))
            if born >= len(months):
                continue
            created = months[born]
            created_day = (created - first).days
            # an old document: written about a year before the window for early adopters
            created_text = _z(created - dt.timedelta(days=365) if born == 0 else created, 10)
            rate = _EDITS_START[profile[i]] + (
                _EDITS_END[profile[i]] - _EDITS_START[profile[i]]
            ) * np.linspace(0, 1, len(months))
            days = []
            for m in range(born, len(months)):
                for _ in range(int(rng.poisson(rate[m]))):
                    day = (months[m] - first).days + int(rng.integers(0, 28))
                    if created_day <= day < span_days:
                        days.append(day)
            title = f"{service} {'runbook' if kind == 'runbook' else 'documentation'}"
            url = (
                f"https://wiki.acme.example/spaces/OPS/pages/{1000 + i}"
                if kind == "runbook"
                else f"https://backstage.acme.example/docs/default/component/{service}"
            )
            labels = "runbook;ops" if kind == "runbook" else ""
            edits = sorted(set(days)) or [created_day]
            for day in edits:
                at = (start + dt.timedelta(days=day, hours=int(rng.integers(8, 18)))).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                )
                docs.append([f"{service}-{kind}", service, at, kind, title, labels, url, created_text])

    counts = {}
    for name, header, rows in (
        ("catalog_entities", CATALOG_COLUMNS, catalog),
        ("ci_config_scans", SCAN_COLUMNS, scans),
        ("docs_pages", DOCS_COLUMNS, docs),
    ):
        with (out / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        counts[name] = len(rows)
        if progress is not None:
            progress(f"{name}: wrote {len(rows):,} rows to {name}.csv")
    return counts
