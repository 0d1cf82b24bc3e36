"""Real payload shapes, rebuilt from the vendors' documented examples (tests/connectors/fixtures_documented.py),
served by the simulator and read through the real connectors into the domain tables."""

from __future__ import annotations

import datetime as dt

from platform_kpi.settings import DEFAULT_CONFIG
from platform_kpi.simulator.server import SimData, Simulator
from tests.connectors import fixtures_api as fx
from tests.connectors import fixtures_documented as doc
from tests.connectors import test_gitlab, test_opsgenie
from tests.connectors.api_helpers import build, env_for, rows, sync, write_sources

T = dt.datetime


def _ms(t: dt.datetime) -> int:
    return int(t.replace(tzinfo=dt.UTC).timestamp() * 1000)


def _deployments(wh, source: str) -> dict:
    return {
        r["deployment_id"]: (r["service"], r["environment"], r["status"], r["started_at"], r["finished_at"])
        for r in rows(wh, "select * from core.deployments where source = ?", [source])
    }


# -- GitHub ------------------------------------------------------------------------------------------------


def test_workflow_runs_whose_path_carries_a_ref_are_deployments_with_and_without_the_suffix(tmp_path):
    """The documented run's `path` is `.github/workflows/build.yml@main`: it matches a deployment
    workflow configured as `.github/workflows/build.yml` as well as one configured with its `@ref`."""
    data = fx.org_data()
    data.github.runs["acme/api"] += [
        doc.github_workflow_run(
            401, T(2026, 11, 12, 14), status="completed", conclusion="success", minutes=9
        ),
        doc.github_workflow_run(402, T(2026, 11, 12, 15)),  # as documented: queued
        doc.github_workflow_run(
            403,
            T(2026, 11, 12, 16),
            path=".github/workflows/release.yml@main",
            status="completed",
            conclusion="failure",
            minutes=4,
        ),
        # release.yml is a deployment workflow only from main: run from v2 it is a build
        doc.github_workflow_run(
            404,
            T(2026, 11, 12, 17),
            path=".github/workflows/release.yml@v2",
            status="completed",
            conclusion="success",
            minutes=2,
        ),
    ]
    github = {
        **fx.GITHUB,
        "deployment_workflows": {
            ".github/workflows/build.yml": "production",
            ".github/workflows/release.yml@main": "production",
        },
    }
    with Simulator(data) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"github": github}, fx.SERVICES)
        wh = tmp_path / "wh.duckdb"
        assert sync(wh, cfg, env_for(sim))["github"].error is None
    build(wh, cfg)
    runs = {k: v for k, v in _deployments(wh, "github").items() if ":run-" in k}
    assert runs == {
        "github:deployment:run-401": (
            "api",
            "production",
            "SUCCESS",
            T(2026, 11, 12, 14),
            T(2026, 11, 12, 14, 9),
        ),
        "github:deployment:run-402": ("api", "production", "QUEUED", T(2026, 11, 12, 15), None),
        "github:deployment:run-403": (
            "api",
            "production",
            "FAILURE",
            T(2026, 11, 12, 16),
            T(2026, 11, 12, 16, 4),
        ),
    }
    builds = {
        r["build_id"]: (r["branch"], r["status"], r["duration_sec"])
        for r in rows(wh, "select * from core.cicd_builds where source = 'github'")
    }
    assert not {"github:build:401", "github:build:402", "github:build:403"} & set(builds)
    assert builds["github:build:404"] == ("master", "SUCCESS", 120)
    assert len(builds) == len(fx.EXPECTED_BUILDS) + 1


def test_a_deployment_without_statuses_is_queued_until_one_arrives(tmp_path):
    """The documented deployment before any status is posted: GitHub lists no statuses (`[]`). It is a
    queued deployment, never one with a NULL status; the documented `success` status then finishes it."""
    data = fx.org_data()
    dep = doc.github_deployment(60, "acme/api", T(2026, 11, 14, 11))
    data.github.deployments["acme/api"].append(dep)
    data.github.statuses[60] = []
    with Simulator(data) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"github": fx.GITHUB}, fx.SERVICES)
        wh = tmp_path / "wh.duckdb"
        assert sync(wh, cfg, env_for(sim))["github"].error is None
        build(wh, cfg)
        assert _deployments(wh, "github")["github:deployment:60"] == (
            "api",
            "production",
            "QUEUED",
            T(2026, 11, 14, 11),
            None,
        )
        assert rows(wh, "select count(*) as n from core.deployments where status is null") == [{"n": 0}]
        # the status arrives: the deployment, still open, is read again
        sim.data.github.statuses[60] = [
            doc.github_deployment_status(6001, 60, "success", T(2026, 11, 14, 11, 8))
        ]
        assert sync(wh, cfg, env_for(sim))["github"].error is None
    build(wh, cfg)
    assert _deployments(wh, "github")["github:deployment:60"] == (
        "api",
        "production",
        "SUCCESS",
        T(2026, 11, 14, 11),
        T(2026, 11, 14, 11, 8),
    )


# -- GitLab ------------------------------------------------------------------------------------------------

FF_SHA = "8888888888888888888888888888888888888888"


def _gitlab(tmp_path, data: SimData):
    with Simulator(data) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"gitlab": test_gitlab.GITLAB}, test_gitlab.SERVICES)
        wh = tmp_path / "wh.duckdb"
        assert sync(wh, cfg, env_for(sim))["gitlab"].error is None
    build(wh, cfg)
    return wh


def test_a_fast_forward_merge_request_is_linked_to_the_deployment_of_its_sha(tmp_path):
    """The documented merged merge request has `merge_commit_sha` and `squash_commit_sha` null (merged by
    fast-forward): the commit that landed is `sha`, and its production deployment shipped the change."""
    data = test_gitlab.data()
    g = data.gitlab
    g.merge_requests[test_gitlab.P].append(
        doc.gitlab_merge_request(7105, 5, FF_SHA, T(2026, 11, 10, 9), T(2026, 11, 11, 9))
    )
    g.mr_commits[(test_gitlab.P, 5)] = [doc.gitlab_mr_commit(FF_SHA, T(2026, 11, 10, 8))]
    g.deployments[test_gitlab.P].append(
        test_gitlab.deployment(
            9, "production", "success", T(2026, 11, 11, 10), T(2026, 11, 11, 10, 6), sha=FF_SHA
        )
    )
    wh = _gitlab(tmp_path, data)
    got = rows(
        wh,
        "select first_commit_at, merged_at, deployment_id from core.changes "
        "where change_id = 'gitlab:change:acme/platform!5'",
    )
    assert got == [
        {
            "first_commit_at": T(2026, 11, 10, 8),
            "merged_at": T(2026, 11, 11, 9),
            "deployment_id": "gitlab:deployment:9",
        }
    ]
    lead = rows(
        wh,
        "select link_type, lead_time_sec from core.change_lead_times "
        "where change_id = 'gitlab:change:acme/platform!5'",
    )
    assert lead == [
        {"link_type": "explicit", "lead_time_sec": 26 * 3600 + 6 * 60}
    ]  # Nov 10 08:00 -> Nov 11 10:06


def test_a_deployment_without_top_level_finish_time_takes_its_jobs_times(tmp_path):
    """The documented deployment has no top-level `finished_at`, and its job (`deployable`) has
    `started_at: null` and finished 0.3 s before the deployment record was created: it is a successful
    production deployment from the job's creation to the job's finish, not a quarantined row."""
    data = test_gitlab.data()
    data.gitlab.deployments[test_gitlab.P].append(doc.gitlab_deployment(42, FF_SHA, dt.date(2026, 11, 11)))
    wh = _gitlab(tmp_path, data)
    assert _deployments(wh, "gitlab")["gitlab:deployment:42"] == (
        "platform-api",
        "production",
        "SUCCESS",
        T(2026, 11, 11, 11, 32, 24, 456000),
        T(2026, 11, 11, 11, 32, 35, 145000),
    )
    assert rows(wh, "select count(*) as n from ops.quarantine where source = 'gitlab'") == [{"n": 0}]


# -- Jenkins -----------------------------------------------------------------------------------------------

JENKINS_SERVICES = [
    {
        "service": "api",
        "team": "payments",
        "repo": "acme/api",
        "jenkins_jobs": ["payments/api", "payments/deploy-prod"],
    }
]


def test_multibranch_job_names_are_decoded_so_slashed_default_branches_match(tmp_path):
    """A multibranch project names its branch jobs with `/` encoded as `%2F`; builds carry the real branch
    name, so `release/main` configured as a default branch matches."""
    start = T(2026, 11, 3, 9)
    branches = {"main": 2, "feature%2Fsearch-v2": 3, "release%2Fmain": 4}
    data = SimData()
    data.jenkins = {
        "payments": {
            "_class": "com.cloudbees.hudson.plugins.folder.Folder",
            "jobs": {
                "api": {
                    "_class": doc.MULTIBRANCH,
                    "jobs": {
                        name: {
                            "_class": doc.WORKFLOW_JOB,
                            "builds": [
                                doc.jenkins_build(n, "SUCCESS", _ms(start + dt.timedelta(hours=n)), 60_000)
                                for n in range(1, count + 1)
                            ],
                        }
                        for name, count in branches.items()
                    },
                },
            },
        }
    }
    kpi_config = tmp_path / "kpi.yaml"
    kpi_config.write_text(
        DEFAULT_CONFIG.read_text().replace(
            "default_branches: [main, master]", 'default_branches: [main, "release/main"]'
        )
    )
    assert "release/main" in kpi_config.read_text()
    with Simulator(data) as sim:
        cfg = write_sources(
            tmp_path / "s.yaml",
            sim,
            {"jenkins": {"jobs": ["payments"], "user_env": "TEST_JENKINS_USER"}},
            JENKINS_SERVICES,
        )
        wh = tmp_path / "wh.duckdb"
        assert sync(wh, cfg, env_for(sim))["jenkins"].error is None
    build(wh, cfg, config=kpi_config)
    got = rows(
        wh,
        "select branch, is_default_branch, count(*) as n from core.cicd_builds where source = 'jenkins' "
        "group by all order by all",
    )
    assert got == [
        {"branch": "feature/search-v2", "is_default_branch": False, "n": 3},
        {"branch": "main", "is_default_branch": True, "n": 2},
        {"branch": "release/main", "is_default_branch": True, "n": 4},
    ]


def test_a_jenkins_deployment_carrying_its_commit_ships_the_pull_request_of_that_commit(tmp_path):
    """A deployment job's build carries the commit it built (git plugin `lastBuiltRevision.SHA1` in
    `actions`): the merged pull request whose merge commit that is was shipped by that deployment."""
    data = (
        fx.org_data()
    )  # pull request acme/api#3: merge commit 'fff…', merged Nov 9 09:30, no GitHub deployment
    data.jenkins = {
        "payments": {
            "_class": "com.cloudbees.hudson.plugins.folder.Folder",
            "jobs": {
                "deploy-prod": {
                    "_class": doc.WORKFLOW_JOB,
                    "builds": [
                        doc.jenkins_build(1, "SUCCESS", _ms(T(2026, 11, 9, 8)), 120_000, sha="e" * 40),
                        doc.jenkins_build(2, "SUCCESS", _ms(T(2026, 11, 9, 12)), 300_000, sha="f" * 40),
                        doc.jenkins_build(3, "SUCCESS", _ms(T(2026, 11, 9, 13)), 300_000),  # no git checkout
                    ],
                },
            },
        }
    }
    jenkins = {
        "jobs": ["payments"],
        "user_env": "TEST_JENKINS_USER",
        "deployment_jobs": {"payments/deploy-prod": "production"},
    }
    with Simulator(data) as sim:
        cfg = write_sources(
            tmp_path / "s.yaml",
            sim,
            {"github": fx.GITHUB, "jenkins": jenkins},
            [JENKINS_SERVICES[0], *fx.SERVICES[1:]],
        )
        wh = tmp_path / "wh.duckdb"
        results = sync(wh, cfg, env_for(sim))
        assert results["github"].error is None and results["jenkins"].error is None
        trees = {q["tree"][0] for _, _, q, _ in sim.requests("jenkins", r"/job/deploy-prod/api/json$")}
    assert (
        "allBuilds[number,result,timestamp,duration,url,building,actions[lastBuiltRevision[SHA1]]]{0,100}"
        in trees
    )
    build(wh, cfg)
    shas = {
        r["deployment_id"]: r["commit_sha"]
        for r in rows(wh, "select deployment_id, commit_sha from core.deployments where source = 'jenkins'")
    }
    assert shas == {
        "jenkins:deployment:payments/deploy-prod#1": "e" * 40,
        "jenkins:deployment:payments/deploy-prod#2": "f" * 40,
        "jenkins:deployment:payments/deploy-prod#3": None,
    }
    got = rows(wh, "select deployment_id from core.changes where change_id = 'github:change:acme/api#3'")
    assert got == [{"deployment_id": "jenkins:deployment:payments/deploy-prod#2"}]
    lead = rows(
        wh,
        "select link_type, lead_time_sec from core.change_lead_times where change_id = 'github:change:acme/api#3'",
    )
    assert lead == [
        {"link_type": "explicit", "lead_time_sec": 27 * 3600 + 300}
    ]  # first commit Nov 8 09:00 -> Nov 9 12:05


# -- Opsgenie ----------------------------------------------------------------------------------------------


def test_an_opsgenie_incident_with_only_a_service_id_is_attributed(tmp_path):
    data = test_opsgenie.data()
    data.opsgenie_incidents.append(
        doc.opsgenie_incident("inc-9", "OG-API", T(2026, 11, 12, 10), T(2026, 11, 12, 11))
    )
    with Simulator(data) as sim:
        cfg = write_sources(
            tmp_path / "s.yaml", sim, {"opsgenie": test_opsgenie.OPSGENIE}, test_opsgenie.SERVICES
        )
        wh = tmp_path / "wh.duckdb"
        assert sync(wh, cfg, env_for(sim))["opsgenie"].error is None
    build(wh, cfg)
    got = rows(
        wh,
        "select service, severity, created_at, resolved_at from core.incidents "
        "where incident_id = 'opsgenie:incident:inc-9'",
    )
    assert got == [
        {
            "service": "api",
            "severity": "P1",
            "created_at": T(2026, 11, 12, 10),
            "resolved_at": T(2026, 11, 12, 11),
        }
    ]
