"""Golden tests: the platform adoption KPIs from the file import (catalog_entities, ci_config_scans,
docs_pages) - golden path adoption and its criteria, pipeline template coverage and drift, documentation
freshness - with a deprecated service, a monorepo whose services share one CI file, an approved
template against an unapproved look-alike, a document edited on the boundary day and a catalog that
changed mid-month. Every expected number is worked out by hand below; the shipped config/kpi.yaml
rules apply (approved patterns 'acme/platform-workflows/.github/workflows/*', 'platform/ci-templates/*',
'platform-pipeline-library'; scaffolder templates 'template:default/*'; at most 1 release behind;
freshness 180 days; key kinds runbook, techdocs, readme and label runbook) with this file's template
releases (config_text).
"""

from __future__ import annotations

import pytest
import yaml

from platform_kpi.settings import DEFAULT_CONFIG
from tests.conftest import csv_text, kpi, query

# mono-b is payments' although it lives in search's monorepo: the monorepo's weight is split by team.
SERVICES = csv_text(
    "service,team",
    "api,payments",
    "web,payments",
    "legacy,payments",
    "indexer,search",
    "mono-a,search",
    "mono-b,payments",
)

CATALOG_HEADER = (
    "snapshot_at,kind,name,namespace,type,lifecycle,owner,system,repo,source_template,techdocs_ref,"
    "pagerduty_service,runbook_url,tags,url"
)


def entity(
    at: str,
    name: str,
    *,
    kind: str = "Component",
    type_: str = "service",
    lifecycle: str = "production",
    owner: str = "group:default/payments",
    repo: str = "",
    template: str = "template:default/go-service",
    techdocs: str = "dir:.",
    pagerduty: str = "",
    runbook: str = "",
) -> str:
    return ",".join(
        [
            at,
            kind,
            name,
            "default",
            type_,
            lifecycle,
            owner,
            "",
            repo,
            template,
            techdocs,
            pagerduty,
            runbook,
            "",
            f"https://backstage.example.com/catalog/default/component/{name}",
        ]
    )


S1 = "2024-03-01T00:00:00Z"
S2 = "2024-03-15T12:00:00Z"  # mid-March: legacy deprecated, indexer gains TechDocs
S3 = "2024-04-01T00:00:00Z"  # April's first instant: in force for April, not March; mono-b gains on-call


def snapshot(at: str) -> list[str]:
    mid = at != S1
    return [
        entity(at, "api", repo="acme/api", pagerduty="PABC123"),
        # not created from a template
        entity(at, "web", repo="acme/web", template="", runbook="https://wiki.example.com/web-runbook"),
        entity(
            at,
            "legacy",
            repo="acme/legacy",
            lifecycle="deprecated" if mid else "production",
            pagerduty="PLEG",
        ),
        entity(
            at,
            "indexer",
            owner="group:default/search",
            repo="acme/indexer",
            techdocs="dir:." if mid else "",
            pagerduty="PIDX",
        ),
        # the monorepo: mono-a has no owner, mono-b no on-call until S3
        entity(at, "mono-a", owner="", repo="acme/mono", pagerduty="PMONO"),
        entity(
            at,
            "mono-b",
            owner="group:default/search",
            repo="acme/mono",
            pagerduty="PMONOB" if at == S3 else "",
        ),
        # not services: a library component and a system
        entity(at, "shared-lib", type_="library", repo="acme/shared-lib"),
        entity(at, "search-platform", kind="System", type_="", repo=""),
    ]


CATALOG = csv_text(CATALOG_HEADER, *snapshot(S1), *snapshot(S2), *snapshot(S3))

SCANS = csv_text(
    "scanned_at,repo,path,kind,reference,version",
    # approved reusable workflow at the newest release, beside an action that is no template
    "2024-03-10T00:00:00Z,acme/api,.github/workflows/ci.yml,github_uses,acme/platform-workflows/.github/workflows/build.yml,v4",
    "2024-03-10T00:00:00Z,acme/api,.github/workflows/ci.yml,github_uses,actions/checkout,v4",
    # an unapproved look-alike of the approved workflow repository
    "2024-03-10T00:00:00Z,acme/web,.github/workflows/ci.yml,github_uses,acme/platform-workflows-fork/.github/workflows/build.yml,v4",
    "2024-03-10T00:00:00Z,acme/legacy,Jenkinsfile,jenkins_library,platform-pipeline-library,v4",
    # approved GitLab include pinned 3 releases back: drift
    "2024-03-10T00:00:00Z,acme/indexer,.gitlab-ci.yml,gitlab_include_project,platform/ci-templates/python.yml,v1",
    # the monorepo's one CI file, 1 release back (not drift)
    "2024-03-10T00:00:00Z,acme/mono,.github/workflows/ci.yml,github_uses,acme/platform-workflows/.github/workflows/deploy.yml,v3",
    # web moves to the approved workflow on 04-20, pinned 2 releases back: covered, drifting
    "2024-04-20T00:00:00Z,acme/web,.github/workflows/ci.yml,github_uses,acme/platform-workflows/.github/workflows/build.yml,v2",
)

DOCS = csv_text(
    "doc_id,service,updated_at,kind,title,labels,url,created_at",
    # March's window: 2024-04-01 - 180 days = 2023-10-04 00:00 (inclusive); April's: 2023-11-03 00:00.
    "d1,api,2023-10-04T00:00:00Z,runbook,API runbook,,,",  # on the boundary: fresh in March
    "d2,api,2023-10-03T23:59:59Z,readme,API README,,,",  # one second before: stale
    "d3,web,2024-03-20T00:00:00Z,page,Web on-call,runbook;ops,,",  # key by its label
    "d4,web,2024-03-01T00:00:00Z,page,Web design notes,design,,",  # not a key document
    "d5,legacy,2024-03-01T00:00:00Z,runbook,Legacy runbook,,,",  # deprecated service: excluded
    "d6,indexer,2023-01-01T00:00:00Z,techdocs,Indexer docs,,,",
    "d6,indexer,2024-04-10T00:00:00Z,techdocs,Indexer docs,,,",  # a second edit: fresh again in April
    "d7,mono-a,2024-04-15T00:00:00Z,techdocs,Mono A docs,,,2024-02-01T00:00:00Z",  # created Feb: fresh
)


def config_text() -> str:
    """The shipped config/kpi.yaml with these tests' template releases: the workflows' v5 came out on
    2024-04-15 (so it counts for drift from April on), the others carry no date (they count always)."""
    doc = yaml.safe_load(DEFAULT_CONFIG.read_text())
    undated = ["v4", "v3", "v2", "v1"]
    for template in doc["platform_adoption"]["pipeline_templates"]:
        template["releases"] = undated
    doc["platform_adoption"]["pipeline_templates"][0]["releases"] = [
        {"version": "v5", "released": "2024-04-15"},
        *undated,
    ]
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.fixture(scope="module")
def wh(module_tmp):
    from tests.conftest import build_warehouse

    return build_warehouse(
        module_tmp,
        {
            "services.csv": SERVICES,
            "catalog_entities.csv": CATALOG,
            "ci_config_scans.csv": SCANS,
            "docs_pages.csv": DOCS,
        },
        config_text(),
    )


def value(wh, kpi_id, month, scope_type="org", scope="all"):
    row = kpi(wh, kpi_id, month, scope_type, scope)
    return row["value"], row["sample_size"]


def test_golden_path_uses_the_snapshot_in_force_at_month_end(wh):
    # March: S2 (03-15) is in force, so legacy (deprecated mid-month) is out and indexer has TechDocs;
    # S3 (04-01 00:00) is April's. Counted: api, web, indexer, mono-a, mono-b (shared-lib is a library,
    # search-platform a system).
    #   scaffolded: all but web -> 4/5; CI template: all but web (look-alike) -> 4/5;
    #   owner: all but mono-a -> 4/5; TechDocs: 5/5; runbook/on-call: all but mono-b -> 4/5;
    #   every criterion: api, indexer -> 2/5.
    assert value(wh, "golden_path_adoption_rate", "2024-03") == (pytest.approx(0.4), 5)
    assert value(wh, "golden_path_scaffolded_rate", "2024-03") == (pytest.approx(0.8), 5)
    assert value(wh, "golden_path_ci_template_rate", "2024-03") == (pytest.approx(0.8), 5)
    assert value(wh, "golden_path_owner_rate", "2024-03") == (pytest.approx(0.8), 5)
    assert value(wh, "golden_path_techdocs_rate", "2024-03") == (pytest.approx(1.0), 5)
    assert value(wh, "golden_path_runbook_rate", "2024-03") == (pytest.approx(0.8), 5)
    # April: S3 gives mono-b on-call; web's CI is approved from 04-20 -> api, indexer, mono-b = 3/5,
    # which meets the 60% target.
    april = kpi(wh, "golden_path_adoption_rate", "2024-04")
    assert (april["value"], april["sample_size"]) == (pytest.approx(0.6), 5)
    assert april["target"] == pytest.approx(0.6) and april["target_met"] is True
    assert value(wh, "golden_path_ci_template_rate", "2024-04") == (pytest.approx(1.0), 5)
    # teams (services file): payments = api, web, mono-b: March api only -> 1/3; search = indexer, mono-a -> 1/2
    assert value(wh, "golden_path_adoption_rate", "2024-03", "team", "payments") == (pytest.approx(1 / 3), 3)
    assert value(wh, "golden_path_adoption_rate", "2024-03", "team", "search") == (pytest.approx(0.5), 2)
    # the deprecated service has no observation (sample 0, no value)
    assert value(wh, "golden_path_adoption_rate", "2024-03", "service", "legacy") == (None, 0)
    assert value(wh, "golden_path_adoption_rate", "2024-03", "service", "mono-b") == (pytest.approx(0.0), 1)


def test_failing_services_name_their_criteria(wh):
    rows = query(
        wh,
        "select service, failing_criteria, is_counted from marts.golden_path_services "
        "where month = '2024-03-01' order by service",
    )
    got = {r["service"]: (r["is_counted"], r["failing_criteria"]) for r in rows}
    assert got == {
        "api": (True, []),
        "indexer": (True, []),
        "legacy": (False, []),
        "mono-a": (True, ["owner"]),
        "mono-b": (True, ["runbook"]),
        "shared-lib": (False, ["ci_template", "runbook"]),  # not a service: not counted
        "web": (True, ["scaffolded", "ci_template"]),
    }


def test_template_coverage_counts_a_monorepo_once_and_rejects_a_look_alike(wh):
    # March repositories of counted services: acme/api (covered), acme/web (look-alike: not covered),
    # acme/indexer (covered), acme/mono (mono-a + mono-b, one CI file, covered) -> 3/4 = 0.75.
    # The sample is the 5 services with a repository.
    assert value(wh, "pipeline_template_coverage", "2024-03") == (pytest.approx(0.75), 5)
    # payments: api 1 + web 0 + mono-b's half of acme/mono -> 1.5 / 2.5 = 0.6; search: indexer 1 +
    # mono-a's half -> 1.5 / 1.5 = 1.
    assert value(wh, "pipeline_template_coverage", "2024-03", "team", "payments") == (pytest.approx(0.6), 3)
    assert value(wh, "pipeline_template_coverage", "2024-03", "team", "search") == (pytest.approx(1.0), 2)
    assert value(wh, "pipeline_template_coverage", "2024-03", "service", "mono-a") == (pytest.approx(1.0), 1)
    assert value(wh, "pipeline_template_coverage", "2024-03", "service", "web") == (pytest.approx(0.0), 1)
    # Drift (more than 1 release behind the newest out at the month's end) over covered repositories.
    # March (v5 not out yet): indexer's v1 is 3 behind v4 (drifts); api v4 is 0 and mono v3 1 behind (not)
    # -> 1/3 (sample: api, indexer, mono-a, mono-b). Were v5 counted in March, mono would drift: 2/3.
    assert value(wh, "pipeline_template_drift_rate", "2024-03") == (pytest.approx(1 / 3), 4)
    # April (v5 out on 04-15): api v4 1 behind (not); mono v3 2 behind, web v2 3 behind, indexer drift
    # -> mono (1) + web (1) + indexer (1) of 4 repositories = 0.75 (sample: the 5 services).
    assert value(wh, "pipeline_template_coverage", "2024-04") == (pytest.approx(1.0), 5)
    assert value(wh, "pipeline_template_drift_rate", "2024-04") == (pytest.approx(0.75), 5)


def test_documentation_freshness_boundary_day(wh):
    # March (window from 2023-10-04 00:00): d1 fresh (on the boundary), d2 stale (1 s before), d3
    # fresh (key by label), d6 stale (2023-01-01), d7 fresh (created 02-01); d4 not key; d5 excluded
    # (legacy deprecated) -> 3/5.
    assert value(wh, "documentation_freshness", "2024-03") == (pytest.approx(0.6), 5)
    assert value(wh, "documentation_freshness", "2024-03", "team", "payments") == (pytest.approx(2 / 3), 3)
    assert value(wh, "documentation_freshness", "2024-03", "team", "search") == (pytest.approx(0.5), 2)
    # April (window from 2023-11-03): d1 and d2 stale, d3 fresh, d6 fresh (04-10 edit), d7 fresh -> 3/5;
    # payments 1/3, search 2/2.
    assert value(wh, "documentation_freshness", "2024-04") == (pytest.approx(0.6), 5)
    assert value(wh, "documentation_freshness", "2024-04", "team", "payments") == (pytest.approx(1 / 3), 3)
    assert value(wh, "documentation_freshness", "2024-04", "team", "search") == (pytest.approx(1.0), 2)


def test_bad_rows_are_quarantined_with_a_reason(warehouse_of):
    wh = warehouse_of(
        {
            "services.csv": SERVICES,
            "catalog_entities.csv": csv_text(
                CATALOG_HEADER, entity(S1, "api", repo="acme/api"), entity(S1, "", repo="acme/x")
            ),
            "ci_config_scans.csv": csv_text(
                "scanned_at,repo,path,kind,reference,version",
                "2024-03-10T00:00:00Z,acme/api,.github/workflows/ci.yml,github_uses,acme/platform-workflows/.github/workflows/build.yml,v4",
                "2024-03-10T00:00:00Z,acme/api,Jenkinsfile,jenkins_libary,platform-pipeline-library,v4",
            ),
            "docs_pages.csv": csv_text(
                "doc_id,service,updated_at,kind",
                "d1,api,2024-03-01T00:00:00Z,runbook",
                "d2,nope,2024-03-01T00:00:00Z,runbook",
            ),
        }
    )
    rows = query(wh, "select entity, line, reason from ops.quarantine where source = 'files' order by entity")
    assert rows == [
        {"entity": "catalog_entities", "line": 3, "reason": "name is blank"},
        {
            "entity": "ci_config_scans",
            "line": 3,
            "reason": "unknown kind jenkins_libary (github_uses, gitlab_include_project, gitlab_include_template, "
            "gitlab_include_component, gitlab_include_remote, gitlab_include_local, jenkins_library)",
        },
        {
            "entity": "docs_pages",
            "line": 3,
            "reason": "unknown service nope (not in services or the catalog)",
        },
    ]
    balanced = query(
        wh,
        "select entity, loaded, quarantined, records_balanced from ops.file_accounting "
        "where entity in ('catalog_entities', 'ci_config_scans', 'docs_pages') order by entity",
    )
    assert [(r["entity"], r["loaded"], r["quarantined"], r["records_balanced"]) for r in balanced] == [
        ("catalog_entities", 1, 1, True),
        ("ci_config_scans", 1, 1, True),
        ("docs_pages", 1, 1, True),
    ]


def test_catalog_conflicts_with_the_services_file_are_listed(wh):
    # mono-b is payments' in services.csv but owned by search in the catalog (the file wins in every KPI);
    # mono-a has no owner in the catalog, which is no conflict; every repository agrees.
    rows = query(
        wh, "select service, declared_in, declared_team, catalog_owner, conflict from ops.catalog_conflicts"
    )
    assert rows == [
        {
            "service": "mono-b",
            "declared_in": "files",
            "declared_team": "payments",
            "catalog_owner": "search",
            "conflict": "the catalog says owner search, files says team payments",
        }
    ]
    assert query(wh, "select team, source from core.services where service = 'mono-b'") == [
        {"team": "payments", "source": "files"}
    ]
