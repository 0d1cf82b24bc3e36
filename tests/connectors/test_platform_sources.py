"""The platform adoption connectors against the local simulator (platform_kpi/simulator/platform.py) on
127.0.0.1: the Backstage catalog, GitHub and GitLab repository scans (CI configuration and TechDocs
commits) and Confluence Cloud pages. Each is tested for pagination, an incremental re-sync that
requests only what changed, and a fault each (429, 5xx, truncated page) that ends with exactly the rows
of a clean sync. Payloads are the vendors' documented shapes; each builder says where its shape is from.
"""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
import yaml

from platform_kpi.simulator.platform import CONFLUENCE_USER, Commit, PlatformData, PlatformSimulator
from platform_kpi.simulator.server import Fault
from tests.connectors.api_helpers import FAST_HTTP, NOW, build, rows, sync

ENV = {
    "TEST_BACKSTAGE_TOKEN": "backstage-sim-token",
    "TEST_GITHUB_TOKEN": "ghp_sim_token",
    "TEST_GITLAB_TOKEN": "glpat-sim-token",
    "TEST_CONFLUENCE_TOKEN": "atlassian-sim-token",
    "TEST_CONFLUENCE_USER": CONFLUENCE_USER,
}
LATER = NOW + dt.timedelta(days=3)


def z(t: dt.datetime) -> str:
    return t.replace(microsecond=0).isoformat() + "Z"


# -- Backstage ---------------------------------------------------------------------------------------
# An entity as GET /entities/by-uid/{uid} returns it: the descriptor format
# (backstage.io/docs/features/software-catalog/descriptor-format, the artist-web Component example)
# with the fields the catalog adds on read (metadata.uid, metadata.etag, relations) from the catalog
# backend's openapi.yaml (Entity, EntityMeta, EntityRelation). Annotations are the well-known ones
# (backstage.io/docs/features/software-catalog/well-known-annotations).


def component(
    name: str,
    uid: str,
    etag: str = "1",
    *,
    owner: str = "payments",
    lifecycle: str = "production",
    type_: str = "service",
    repo: str | None = None,
    template: str | None = None,
    pagerduty: str | None = None,
    runbook: str | None = None,
) -> dict:
    annotations = {
        "backstage.io/managed-by-location": f"url:https://github.com/{repo or 'acme/catalog'}/blob/main/catalog-info.yaml",
        "backstage.io/managed-by-origin-location": "url:https://github.com/acme/catalog/blob/main/all.yaml",
        "backstage.io/techdocs-ref": "dir:.",
    }
    if repo:
        annotations["github.com/project-slug"] = repo
    if template:
        annotations["backstage.io/source-template"] = template
    if pagerduty:
        annotations["pagerduty.com/service-id"] = pagerduty
    links = [
        {
            "url": "https://admin.example-org.com",
            "title": "Admin Dashboard",
            "icon": "dashboard",
            "type": "admin-dashboard",
        }
    ]
    if runbook:
        links.append({"url": runbook, "title": "Runbook", "icon": "docs"})
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "namespace": "default",
            "annotations": annotations,
            "name": name,
            "description": "The place to be, for great artists",
            "labels": {"example.com/custom": "custom_label_value"},
            "tags": ["java", "data"],
            "links": links,
            "uid": uid,
            "etag": etag,
        },
        "spec": {
            "type": type_,
            "lifecycle": lifecycle,
            "owner": f"group:default/{owner}",
            "system": "artist-engagement-portal",
        },
        "relations": [
            {
                "type": "ownedBy",
                "targetRef": f"group:default/{owner}",
                "target": {"kind": "group", "namespace": "default", "name": owner},
            },
            {"type": "partOf", "targetRef": "system:default/artist-engagement-portal"},
        ],
    }


def group(name: str, uid: str) -> dict:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {
            "namespace": "default",
            "name": name,
            "description": "The infra business unit",
            "uid": uid,
            "etag": "1",
        },
        "spec": {"type": "business-unit", "profile": {"displayName": name}, "children": []},
        "relations": [],
    }


def _catalog() -> list[dict]:
    return [
        component("api", "u-1", repo="acme/api", template="template:default/go-service", pagerduty="PABC123"),
        component("web", "u-2", repo="acme/web", runbook="https://wiki.example.com/web-runbook"),
        component("legacy", "u-3", repo="acme/legacy", lifecycle="deprecated"),
        component("shared-lib", "u-4", type_="library"),
        group("payments", "u-5"),
    ]


def _sources(tmp_path, sim, sources: dict, services: list | None = None, name: str = "s.yaml"):
    token_env = {
        "backstage_catalog": "TEST_BACKSTAGE_TOKEN",
        "github_repo_scans": "TEST_GITHUB_TOKEN",
        "gitlab_repo_scans": "TEST_GITLAB_TOKEN",
        "confluence_pages": "TEST_CONFLUENCE_TOKEN",
    }
    url = {
        "backstage_catalog": sim.url("backstage"),
        "github_repo_scans": sim.url("github"),
        "gitlab_repo_scans": sim.url("gitlab"),
        "confluence_pages": sim.url("confluence"),
    }
    data: dict = {"history_days": 400, "lookback_hours": 0, "http": dict(FAST_HTTP)}
    for source, cfg in sources.items():
        data[source] = {"base_url": url[source], "token_env": token_env[source], **cfg}
    data["services"] = services or []
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def clean_run(module_tmp):
    """``clean_run(fn)``: the result of ``fn`` (a fault-free run below), computed once per module."""
    cache: dict = {}

    def get(fn):
        if fn not in cache:
            folder = module_tmp / fn.__name__.strip("_")
            folder.mkdir()
            cache[fn] = fn(folder)
        return cache[fn]

    return get


def _backstage_run(tmp_path, faults=()):
    with PlatformSimulator(PlatformData(backstage=_catalog())) as sim:
        for f in faults:
            sim.add_fault(f)
        cfg = _sources(tmp_path, sim, {"backstage_catalog": {"limit": 2}})
        wh = tmp_path / "wh.duckdb"
        result = sync(wh, cfg, ENV)["backstage_catalog"]
        first = list(sim.requests())
        # one entity changes (its etag with it): the re-sync lists the catalog and reads only that one
        sim.platform.backstage[0] = component(
            "api", "u-1", "2", repo="acme/api", template="template:default/go-service", lifecycle="deprecated"
        )
        sim.reset_log()
        sync(wh, cfg, ENV, now=LATER)
        second = list(sim.requests())
        build(wh, cfg)
    return wh, result, first, second


def test_backstage_catalog_pages_by_cursor_and_resyncs_only_changed_entities(clean_run):
    wh, result, first, second = clean_run(_backstage_run)
    assert result.error is None
    # 5 entities, 2 a page: 3 listing pages (the 2nd and 3rd by cursor alone), then each entity whole
    listing = [r for r in first if r[1].endswith("/by-query")]
    assert len(listing) == 3
    assert listing[0][2]["filter"] == ["kind=component", "kind=system", "kind=group"]
    assert "cursor" in listing[1][2] and "filter" not in listing[1][2]
    assert sorted(r[1].rsplit("/", 1)[1] for r in first if "/by-uid/" in r[1]) == [
        "u-1",
        "u-2",
        "u-3",
        "u-4",
        "u-5",
    ]
    # re-sync: the same 3 listing pages, and only the changed entity is read
    assert len([r for r in second if r[1].endswith("/by-query")]) == 3
    assert [r[1].rsplit("/", 1)[1] for r in second if "/by-uid/" in r[1]] == ["u-1"]

    got = rows(
        wh,
        "select snapshot_at, name, kind, type, lifecycle, owner, repo, source_template, techdocs_ref, "
        "pagerduty_service, runbook_url, source from core.catalog_entities where name in ('api', 'web', 'payments') "
        "order by snapshot_at, name",
    )
    first_at, later_at = NOW.replace(microsecond=0), LATER.replace(microsecond=0)
    assert [(r["snapshot_at"], r["name"], r["lifecycle"]) for r in got] == [
        (first_at, "api", "production"),
        (first_at, "payments", None),
        (first_at, "web", "production"),
        (later_at, "api", "deprecated"),
        (later_at, "payments", None),
        (later_at, "web", "production"),
    ]
    api = got[0]
    assert (
        api["kind"],
        api["type"],
        api["owner"],
        api["repo"],
        api["source_template"],
        api["techdocs_ref"],
    ) == (
        "component",
        "service",
        "payments",
        "acme/api",
        "template:default/go-service",
        "dir:.",
    )
    assert api["pagerduty_service"] == "PABC123" and api["source"] == "backstage"
    assert got[2]["runbook_url"] == "https://wiki.example.com/web-runbook"
    # the catalog is a source of services: its services with an owner, the file / sources.yaml winning
    services = rows(wh, "select service, team, source from core.services order by service")
    assert services == [
        {"service": "api", "team": "payments", "source": "catalog"},
        {"service": "legacy", "team": "payments", "source": "catalog"},
        {"service": "web", "team": "payments", "source": "catalog"},
    ]


@pytest.mark.parametrize(
    "fault",
    [
        Fault(r"/backstage/entities/by-query", "429", skip=1, retry_after=0),
        Fault(r"/backstage/entities/by-uid/", "503", times=2),
        Fault(r"/backstage/entities/by-query", "truncate", skip=2),
    ],
    ids=["429", "5xx", "truncated"],
)
def test_backstage_faults_end_with_the_rows_of_a_clean_sync(tmp_path, fault, clean_run):
    clean, *_ = clean_run(_backstage_run)
    faulty, result, first, _ = _backstage_run(tmp_path, [fault])
    assert result.error is None and fault.fired == fault.times
    sql = "select snapshot_at, entity_ref, lifecycle, owner, repo from core.catalog_entities order by all"
    assert rows(faulty, sql) == rows(clean, sql)
    assert rows(faulty, "select count(*) as n from raw.backstage_catalog__entities") == [{"n": 6}]


# -- GitHub repository scans ---------------------------------------------------------------------------
# Shapes (built by the simulator): "Get a tree" (docs.github.com/rest/git/trees#get-a-tree: sha, url,
# tree[{path, mode, type, sha, size, url}], truncated), "Get repository content" for a file
# (docs.github.com/rest/repos/contents: type, encoding base64, size, name, path, content, sha, url,
# git_url, html_url, download_url, _links) and "List commits" (docs.github.com/rest/commits/commits:
# sha, node_id, commit{author, committer{date}, message, tree, url, comment_count, verification},
# url, html_url, comments_url, author, committer, parents).

WORKFLOW = """name: CI
on:
  push:
    branches: [main]
jobs:
  build:
    uses: acme/platform-workflows/.github/workflows/build.yml@v3
    secrets: inherit
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make lint
"""
JENKINSFILE = "@Library('platform-pipeline-library@v4') _\npipelineDefaults()\n"
BROKEN = "jobs:\n  build:\n    uses: [unclosed\n"


def _github_data() -> PlatformData:
    return PlatformData(
        github_files={
            "acme/api": {
                ".github/workflows/ci.yml": WORKFLOW,
                "Jenkinsfile": JENKINSFILE,
                "src/main.go": "package main\n",
                "docs/index.md": "# API\n",
                "mkdocs.yml": "site_name: API\n",
            },
            "acme/bad": {".github/workflows/ci.yml": BROKEN, "README.md": "# bad\n"},
        },
        github_commits={
            "acme/api": [
                Commit("a" * 40, z(NOW - dt.timedelta(days=30)), ("mkdocs.yml", "docs/index.md")),
                Commit("b" * 40, z(NOW - dt.timedelta(days=20)), ("docs/index.md",)),
                Commit("c" * 40, z(NOW - dt.timedelta(days=10)), ("docs/guide.md",)),
                Commit("d" * 40, z(NOW - dt.timedelta(days=5)), ("src/main.go",)),
            ]
        },
    )


SERVICES = [
    {"service": "api", "team": "payments", "repo": "acme/api"},
    {"service": "bad", "team": "search", "repo": "acme/bad"},
]


def _github_run(tmp_path, faults=()):
    with PlatformSimulator(_github_data()) as sim:
        for f in faults:
            sim.add_fault(f)
        cfg = _sources(
            tmp_path, sim, {"github_repo_scans": {"repos": ["acme/api", "acme/bad"], "per_page": 2}}, SERVICES
        )
        wh = tmp_path / "wh.duckdb"
        result = sync(wh, cfg, ENV)["github_repo_scans"]
        first = list(sim.requests())
        # later: the workflow moves to v4 and the docs get one more commit
        sim.platform.github_files["acme/api"][".github/workflows/ci.yml"] = WORKFLOW.replace("@v3", "@v4")
        sim.platform.github_commits["acme/api"].append(
            Commit("e" * 40, z(LATER - dt.timedelta(days=1)), ("docs/index.md",))
        )
        sim.reset_log()
        sync(wh, cfg, ENV, now=LATER)
        second = list(sim.requests())
        build(wh, cfg)
    return wh, result, first, second


def test_github_scans_read_only_changed_ci_files_and_new_docs_commits(clean_run):
    wh, result, first, second = clean_run(_github_run)
    assert result.error is None
    # one tree per repository; contents only of the CI files (not src/, docs/, README)
    assert len(_requests_in(first, "/git/trees/")) == 2
    assert sorted(r[1] for r in _requests_in(first, "/contents/")) == [
        "/github/repos/acme/api/contents/.github/workflows/ci.yml",
        "/github/repos/acme/api/contents/Jenkinsfile",
        "/github/repos/acme/bad/contents/.github/workflows/ci.yml",
    ]
    # TechDocs: commits by path, 2 a page (docs: b and c on one page; mkdocs.yml: a), Link pages followed
    docs = [r for r in _requests_in(first, "acme/api/commits") if r[2]["path"] == ["docs"]]
    assert len(docs) == 2 and docs[1][2]["page"] == ["2"]
    # re-scan: trees again, only the changed workflow's content, docs commits since the cursor only
    assert len(_requests_in(second, "/git/trees/")) == 2
    assert [r[1] for r in _requests_in(second, "/contents/")] == [
        "/github/repos/acme/api/contents/.github/workflows/ci.yml"
    ]
    since = {r[2]["since"][0] for r in _requests_in(second, "/commits")}
    assert since == {z(NOW - dt.timedelta(days=10))}  # the newest docs commit seen (c), look-back 0

    refs = rows(
        wh,
        "select scanned_at, path, kind, reference, version from core.ci_template_refs where repo = 'acme/api' "
        "order by scanned_at, path, reference",
    )
    t1, t2 = NOW.replace(microsecond=0), LATER.replace(microsecond=0)
    assert [(r["scanned_at"], r["path"], r["reference"], r["version"]) for r in refs] == [
        (t1, ".github/workflows/ci.yml", "acme/platform-workflows/.github/workflows/build.yml", "v3"),
        (t1, ".github/workflows/ci.yml", "actions/checkout", "v4"),
        (t1, "Jenkinsfile", "platform-pipeline-library", "v4"),
        (t2, ".github/workflows/ci.yml", "acme/platform-workflows/.github/workflows/build.yml", "v4"),
        (t2, ".github/workflows/ci.yml", "actions/checkout", "v4"),
        (t2, "Jenkinsfile", "platform-pipeline-library", "v4"),
    ]
    # the unreadable workflow is quarantined with the parser's message, naming repository and path
    bad = rows(
        wh, "select source, entity, record_key, reason from ops.quarantine where record_key = 'acme/bad'"
    )
    assert len(bad) == 2 and {r["source"] for r in bad} == {"github_repo_scans"}
    assert bad[0]["reason"].startswith(
        "could not read .github/workflows/ci.yml: .github/workflows/ci.yml is not valid YAML"
    )
    # TechDocs edits of acme/api (service api): a, b, c and e; d touched no docs path
    edits = rows(wh, "select updated_at from core.documents where service = 'api' order by updated_at")
    assert [r["updated_at"] for r in edits] == [
        (NOW - dt.timedelta(days=d)).replace(microsecond=0) for d in (30, 20, 10)
    ] + [(LATER - dt.timedelta(days=1)).replace(microsecond=0)]


def _requests_in(log, part):
    return [r for r in log if part in r[1]]


@pytest.mark.parametrize(
    "fault",
    [
        Fault(r"/github/repos/acme/api/contents/", "429", retry_after=0),
        Fault(r"/github/repos/acme/.*/git/trees/", "502", times=2),
        Fault(r"/github/repos/acme/api/commits", "truncate", skip=1),
    ],
    ids=["429", "5xx", "truncated"],
)
def test_github_scan_faults_end_with_the_rows_of_a_clean_sync(tmp_path, fault, clean_run):
    clean, *_ = clean_run(_github_run)
    faulty, result, *_ = _github_run(tmp_path, [fault])
    assert result.error is None and fault.fired == fault.times
    for sql in (
        "select repo, scanned_at, path, reference, version from core.ci_template_refs order by all",
        "select document_id, updated_at from core.documents order by all",
    ):
        assert rows(faulty, sql) == rows(clean, sql)


# -- GitLab repository scans ---------------------------------------------------------------------------
# Shapes (built by the simulator): "Get file from repository" (docs.gitlab.com/api/repository_files:
# file_name, file_path, size, encoding, content_sha256, ref, blob_id, commit_id, last_commit_id,
# execute_filemode, content) and "List repository commits" (docs.gitlab.com/api/commits: id, short_id,
# created_at, parent_ids, title, message, author_*, authored_date, committer_*, committed_date,
# trailers, extended_trailers, web_url).

GITLAB_CI = """include:
  - project: platform/ci-templates
    ref: v2
    file:
      - /python.yml
  - template: Security/SAST.gitlab-ci.yml
  - component: gitlab.example.com/platform/components/deploy@1.4.0
test:
  script: !reference [.setup, script]
"""


def _gitlab_data() -> PlatformData:
    return PlatformData(
        gitlab_files={
            "search/indexer": {".gitlab-ci.yml": GITLAB_CI, "docs/index.md": "# Indexer\n"},
            "search/empty": {},
        },
        gitlab_commits={
            "search/indexer": [
                Commit("1" * 40, z(NOW - dt.timedelta(days=40)), (".gitlab-ci.yml",)),
                Commit("2" * 40, z(NOW - dt.timedelta(days=9)), ("docs/index.md",)),
                Commit("3" * 40, z(NOW - dt.timedelta(days=8)), ("docs/index.md",)),
                Commit("4" * 40, z(NOW - dt.timedelta(days=7)), ("mkdocs.yml",)),
            ]
        },
    )


def _gitlab_run(tmp_path, faults=(), change_ci=True):
    services = [{"service": "indexer", "team": "search", "repo": "search/indexer"}]
    with PlatformSimulator(_gitlab_data()) as sim:
        for f in faults:
            sim.add_fault(f)
        cfg = _sources(
            tmp_path,
            sim,
            {"gitlab_repo_scans": {"projects": ["search/indexer", "search/empty"], "per_page": 1}},
            services,
        )
        wh = tmp_path / "wh.duckdb"
        result = sync(wh, cfg, ENV)["gitlab_repo_scans"]
        first = list(sim.requests())
        sim.reset_log()
        sync(wh, cfg, ENV, now=NOW + dt.timedelta(days=1))  # nothing changed
        unchanged = list(sim.requests())
        if change_ci:
            sim.platform.gitlab_files["search/indexer"][".gitlab-ci.yml"] = GITLAB_CI.replace(
                "ref: v2", "ref: v4"
            )
            sim.platform.gitlab_commits["search/indexer"].append(
                Commit("5" * 40, z(NOW + dt.timedelta(days=2)), (".gitlab-ci.yml",))
            )
        sim.reset_log()
        sync(wh, cfg, ENV, now=LATER)
        changed = list(sim.requests())
        build(wh, cfg)
    return wh, result, first, unchanged, changed


def test_gitlab_scans_fetch_the_ci_file_only_when_a_commit_touched_it(clean_run):
    wh, result, first, unchanged, changed = clean_run(_gitlab_run)
    assert result.error is None
    files = "/repository/files/"
    assert len(_requests_in(first, files)) == 2  # search/empty answers 404: a project without CI
    assert _requests_in(unchanged, files) == []  # the commits check said nothing changed
    checks = [r for r in _requests_in(unchanged, "/repository/commits") if r[2]["path"] == [".gitlab-ci.yml"]]
    assert len(checks) == 2 and checks[0][2]["since"] == [z(NOW)]
    assert [r[1] for r in _requests_in(changed, files)] == [
        "/gitlab/api/v4/projects/search%2Findexer/repository/files/.gitlab-ci.yml"
    ]
    # docs commits, one a page (x-next-page): docs has 2 commits -> 2 pages + the last empty check
    docs = [
        r
        for r in _requests_in(first, "/repository/commits")
        if r[2]["path"] == ["docs"] and "indexer" in r[1]
    ]
    assert [r[2]["page"] for r in docs] == [["1"], ["2"]]

    refs = rows(
        wh,
        "select repo, scanned_at, kind, reference, version from core.ci_template_refs order by all",
    )
    t0, t1, t2 = (t.replace(microsecond=0) for t in (NOW, NOW + dt.timedelta(days=1), LATER))
    indexer = [
        (r["scanned_at"], r["kind"], r["reference"], r["version"])
        for r in refs
        if r["repo"] == "search/indexer"
    ]
    expected = [
        ("gitlab_include_component", "gitlab.example.com/platform/components/deploy", "1.4.0"),
        ("gitlab_include_project", "platform/ci-templates/python.yml", "v2"),
        ("gitlab_include_template", "Security/SAST.gitlab-ci.yml", None),
    ]
    assert indexer == [(t, *e) for t in (t0, t1) for e in expected] + [
        (t2, *e) if e[1] != "platform/ci-templates/python.yml" else (t2, e[0], e[1], "v4") for e in expected
    ]
    # the project without a CI file is scanned: one row with no path and no reference per scan
    assert [(r["scanned_at"], r["reference"]) for r in refs if r["repo"] == "search/empty"] == [
        (t0, None),
        (t1, None),
        (t2, None),
    ]
    edits = rows(wh, "select count(*) as n from core.documents where service = 'indexer'")
    assert edits == [{"n": 3}]  # commits 2, 3 (docs) and 4 (mkdocs.yml)


@pytest.mark.parametrize(
    "fault",
    [
        Fault(r"/repository/files/", "429-gitlab", retry_after=0),
        Fault(r"/repository/commits", "500", times=2),
        Fault(r"/repository/files/", "truncate"),
    ],
    ids=["429", "5xx", "truncated"],
)
def test_gitlab_scan_faults_end_with_the_rows_of_a_clean_sync(tmp_path, fault, clean_run):
    clean, *_ = clean_run(_gitlab_run)
    faulty, result, *_ = _gitlab_run(tmp_path, [fault])
    assert result.error is None and fault.fired == fault.times
    for sql in (
        "select repo, scanned_at, path, reference, version from core.ci_template_refs order by all",
        "select document_id, updated_at from core.documents order by all",
    ):
        assert rows(faulty, sql) == rows(clean, sql)


# -- Confluence Cloud ----------------------------------------------------------------------------------
# "Get pages in space" (developer.atlassian.com/cloud/confluence/rest/v2/api-group-page: results of
# PageBulk {id, status, title, spaceId, parentId, parentType, position, authorId, ownerId, lastOwnerId,
# createdAt, version{createdAt, message, number, minorEdit, authorId}, body, _links{webui, editui,
# tinyui}}, _links{next, base}) and "Get labels for page" (api-group-label: results{id, name, prefix}).


def page(page_id: str, title: str, created: dt.datetime, edited: dt.datetime, number: int = 1) -> dict:
    return {
        "id": page_id,
        "status": "current",
        "title": title,
        "spaceId": "98304",
        "parentId": "98305",
        "parentType": "page",
        "position": 57,
        "authorId": "5b10a2844c20165700ede21g",
        "ownerId": "5b10a2844c20165700ede21g",
        "lastOwnerId": None,
        "createdAt": z(created).replace("Z", ".000Z"),
        "version": {
            "createdAt": z(edited).replace("Z", ".000Z"),
            "message": "",
            "number": number,
            "minorEdit": False,
            "authorId": "5b10a2844c20165700ede21g",
        },
        "body": {},
        "_links": {
            "webui": f"/spaces/ENG/pages/{page_id}/{title.replace(' ', '+')}",
            "editui": f"/pages/resumedraft.action?draftId={page_id}",
            "tinyui": "/x/AQAB",
        },
    }


def label(name: str, label_id: str) -> dict:
    return {"id": label_id, "name": name, "prefix": "global"}


def _confluence_data() -> PlatformData:
    d = lambda days: NOW - dt.timedelta(days=days)  # noqa: E731
    return PlatformData(
        confluence_pages={
            "98304": [
                page("1001", "API runbook", d(400), d(200)),
                page("1002", "Web on-call", d(300), d(20)),
                page("1003", "Team lunch", d(100), d(10)),
                page("1004", "Web design notes", d(500), d(250)),
                page("1005", "Web README", d(600), d(300)),
            ]
        },
        confluence_labels={
            "1001": [label("runbook", "11"), label("service-api", "12")],
            "1002": [label("runbook", "11")],
            "1003": [],
            "1004": [label("design", "13")],
            "1005": [],
        },
    )


def _confluence_run(tmp_path, faults=()):
    services = [
        {"service": "api", "team": "payments"},
        {"service": "web", "team": "payments", "confluence_spaces": ["98304"]},
    ]
    with PlatformSimulator(_confluence_data()) as sim:
        for f in faults:
            sim.add_fault(f)
        cfg = _sources(
            tmp_path,
            sim,
            {"confluence_pages": {"spaces": ["98304"], "limit": 2, "user_env": "TEST_CONFLUENCE_USER"}},
            services,
        )
        wh = tmp_path / "wh.duckdb"
        result = sync(wh, cfg, ENV)["confluence_pages"]
        first = list(sim.requests())
        # the old runbook is edited (version 2): the re-sync stops at the first page edited before the cursor
        sim.platform.confluence_pages["98304"][0] = page(
            "1001", "API runbook", NOW - dt.timedelta(days=400), LATER - dt.timedelta(days=1), 2
        )
        sim.reset_log()
        sync(wh, cfg, ENV, now=LATER)
        second = list(sim.requests())
        build(wh, cfg)
    return wh, result, first, second


def test_confluence_pages_follow_links_next_and_resync_only_edited_pages(clean_run):
    wh, result, first, second = clean_run(_confluence_run)
    assert result.error is None
    listing = _requests_in(first, "/pages") and [r for r in first if r[1].endswith("/pages")]
    # 5 pages, 2 a request: 3 requests, the 2nd and 3rd by the _links.next URL (with its cursor)
    assert len(listing) == 3 and "cursor" in listing[1][2] and "cursor" in listing[2][2]
    assert len([r for r in first if r[1].endswith("/labels")]) == 5
    # re-sync (cursor: the newest edit seen, 1003's): newest first 1001 (edited), 1003 | 1002 (before the
    # cursor: stop). 2 of the 3 listing requests, and labels of the edited page only.
    assert len([r for r in second if r[1].endswith("/pages")]) == 2
    assert [r[1] for r in second if r[1].endswith("/labels")] == ["/wiki/api/v2/pages/1001/labels"]
    docs = rows(
        wh,
        "select document_id, service, kind, labels, updated_at, url from core.documents order by document_id, updated_at",
    )
    assert [(r["document_id"], r["service"], r["kind"], r["updated_at"]) for r in docs] == [
        ("confluence:doc:1001", "api", "runbook", (NOW - dt.timedelta(days=200)).replace(microsecond=0)),
        ("confluence:doc:1001", "api", "runbook", (LATER - dt.timedelta(days=1)).replace(microsecond=0)),
        ("confluence:doc:1002", "web", "runbook", (NOW - dt.timedelta(days=20)).replace(microsecond=0)),
        ("confluence:doc:1003", "web", "page", (NOW - dt.timedelta(days=10)).replace(microsecond=0)),
        ("confluence:doc:1004", "web", "page", (NOW - dt.timedelta(days=250)).replace(microsecond=0)),
        ("confluence:doc:1005", "web", "page", (NOW - dt.timedelta(days=300)).replace(microsecond=0)),
    ]
    assert docs[0]["labels"] == "runbook;service-api"
    assert docs[0]["url"].endswith("/wiki/spaces/ENG/pages/1001/API+runbook")


def test_confluence_page_without_a_service_is_quarantined(tmp_path):
    with PlatformSimulator(_confluence_data()) as sim:
        cfg = _sources(
            tmp_path, sim, {"confluence_pages": {"spaces": ["98304"], "user_env": "TEST_CONFLUENCE_USER"}}
        )
        wh = tmp_path / "wh.duckdb"
        sync(wh, cfg, ENV)
        build(wh, cfg)
    got = rows(
        wh,
        "select record_key, reason from ops.quarantine where source = 'confluence_pages' order by record_key",
    )
    assert [r["record_key"] for r in got] == ["1002", "1003", "1004", "1005"]
    assert got[0]["reason"] == (
        "no service for page 1002 (label it service-<name>, or map space 98304 in sources.yaml "
        "services[].confluence_spaces)"
    )


@pytest.mark.parametrize(
    "fault",
    [
        Fault(r"/wiki/api/v2/spaces/98304/pages", "429", skip=1, retry_after=0),
        Fault(r"/wiki/api/v2/pages/.*/labels", "503", times=2),
        Fault(r"/wiki/api/v2/spaces/98304/pages", "truncate", skip=1),
    ],
    ids=["429", "5xx", "truncated"],
)
def test_confluence_faults_end_with_the_rows_of_a_clean_sync(tmp_path, fault, clean_run):
    clean, *_ = clean_run(_confluence_run)
    faulty, result, *_ = _confluence_run(tmp_path, [fault])
    assert result.error is None and fault.fired == fault.times
    sql = "select document_id, service, kind, labels, updated_at from core.documents order by all"
    assert rows(faulty, sql) == rows(clean, sql)


def test_tokens_stay_out_of_raw_payloads(clean_run):
    wh, *_ = clean_run(_confluence_run)
    text = json.dumps(rows(wh, "select payload from raw.confluence_pages__pages"))
    basic = base64.b64encode(f"{CONFLUENCE_USER}:{ENV['TEST_CONFLUENCE_TOKEN']}".encode()).decode()
    assert ENV["TEST_CONFLUENCE_TOKEN"] not in text and basic not in text
