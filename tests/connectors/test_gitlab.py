"""GitLab connector against the simulator: offset pages (x-next-page), pipeline details for timings,
merge request commits, incremental by updated_after, the GitLab rate-limit reset."""

from __future__ import annotations

import datetime as dt

from platform_kpi.simulator.server import Fault, SimData, Simulator
from tests.connectors.api_helpers import build, env_for, rows, sync, write_sources

T = dt.datetime
P = "acme/platform"
SERVICES = [{"service": "platform-api", "team": "platform", "repo": P}]
GITLAB = {"projects": [P], "per_page": 2, "environments": {"production": ["production", "prod-eu"]}}


def z(t):
    return t.isoformat() + "Z"


def deployment(i, env, status, created, finished=None, sha=None):
    return {
        "id": i,
        "iid": i,
        "ref": "main",
        "sha": sha or f"{i:040d}",
        "status": status,
        "created_at": z(created),
        "updated_at": z(finished or created),
        "environment": {"id": 1, "name": env},
        "deployable": {
            "id": 100 + i,
            "status": status,
            "started_at": z(created),
            "finished_at": z(finished) if finished else None,
            "pipeline": {"id": 900 + i},
        },
    }


def pipeline(i, ref, status, created, started=None, finished=None):
    return {
        "id": i,
        "iid": i,
        "project_id": 7,
        "sha": f"{i:040d}",
        "ref": ref,
        "status": status,
        "source": "push",
        "created_at": z(created),
        "updated_at": z(finished or created),
        "started_at": z(started) if started else None,
        "finished_at": z(finished) if finished else None,
        "duration": int((finished - started).total_seconds()) if started and finished else None,
        "queued_duration": 1,
    }


def mr(iid, created, merged, sha):
    return {
        "id": 7000 + iid,
        "iid": iid,
        "project_id": 7,
        "state": "merged",
        "created_at": z(created),
        "updated_at": z(merged),
        "merged_at": z(merged),
        "merge_commit_sha": sha,
        "squash_commit_sha": None,
        "source_branch": f"feature/{iid}",
        "target_branch": "main",
    }


def commit(at):
    return {"id": at.isoformat(), "authored_date": z(at), "committed_date": z(at), "created_at": z(at)}


def data() -> SimData:
    d = SimData()
    g = d.gitlab
    g.deployments[P] = [
        deployment(1, "production", "success", T(2026, 11, 5, 10), T(2026, 11, 5, 10, 7), sha="e" * 40),
        deployment(2, "prod-eu", "failed", T(2026, 11, 6, 10), T(2026, 11, 6, 10, 3)),
        deployment(3, "staging", "running", T(2026, 11, 7, 10)),
    ]
    g.pipelines[P] = [
        pipeline(11, "main", "success", T(2026, 11, 5, 8, 59), T(2026, 11, 5, 9), T(2026, 11, 5, 9, 12)),
        pipeline(12, "feature/y", "failed", T(2026, 11, 6, 9), T(2026, 11, 6, 9), T(2026, 11, 6, 9, 4)),
        pipeline(13, "main", "manual", T(2026, 11, 7, 9)),
    ]
    g.merge_requests[P] = [
        mr(1, T(2026, 11, 4, 9), T(2026, 11, 5, 9, 30), "e" * 40),
        mr(2, T(2026, 11, 6, 9), T(2026, 11, 7, 9, 30), "f" * 40),
    ]
    g.mr_commits[(P, 1)] = [commit(T(2026, 11, 4, 12)), commit(T(2026, 11, 4, 10))]
    g.mr_commits[(P, 2)] = [commit(T(2026, 11, 7, 8))]
    return d


def _domain(wh):
    return (
        {
            r["deployment_id"]: (r["environment"], r["status"], r["finished_at"])
            for r in rows(wh, "select * from core.deployments where source = 'gitlab'")
        },
        {
            r["build_id"]: (r["branch"], r["status"], r["duration_sec"])
            for r in rows(wh, "select * from core.cicd_builds where source = 'gitlab'")
        },
        {
            r["change_id"]: (r["first_commit_at"], r["merged_at"], r["deployment_id"])
            for r in rows(wh, "select * from core.changes where source = 'gitlab'")
        },
    )


def test_multi_page_sync_incremental_and_rate_limit_reset(tmp_path):
    with Simulator(data()) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"gitlab": GITLAB}, SERVICES)
        wh = tmp_path / "wh.duckdb"
        sim.add_fault(Fault(r"/pipelines$", "429-gitlab", times=1, skip=1))  # RateLimit-Reset, no Retry-After
        assert sync(wh, cfg, env_for(sim))["gitlab"].error is None
        assert sim.faults[0].fired == 1
        # 3 deployments at 2 per page: two pages, the second named by x-next-page
        pages = [q.get("page") for _, _, q, _ in sim.requests("gitlab", r"/deployments$")]
        assert pages == [["1"], ["2"]]
        build(wh, cfg)
        deps, builds, changes = _domain(wh)
        assert deps == {
            "gitlab:deployment:1": ("production", "SUCCESS", T(2026, 11, 5, 10, 7)),
            "gitlab:deployment:2": ("production", "FAILURE", T(2026, 11, 6, 10, 3)),
            "gitlab:deployment:3": ("staging", "IN_PROGRESS", None),
        }
        assert builds == {
            "gitlab:build:11": ("main", "SUCCESS", 720),
            "gitlab:build:12": ("feature/y", "FAILURE", 240),
            "gitlab:build:13": ("main", "QUEUED", None),
        }
        assert changes == {
            "gitlab:change:acme/platform!1": (
                T(2026, 11, 4, 10),
                T(2026, 11, 5, 9, 30),
                "gitlab:deployment:1",
            ),
            "gitlab:change:acme/platform!2": (T(2026, 11, 7, 8), T(2026, 11, 7, 9, 30), None),
        }

        # Nothing changed upstream: one listing page per stream, nothing written.
        sim.reset_log()
        assert sync(wh, cfg, env_for(sim))["gitlab"].written == 0
        assert sorted(p for _, p, _, _ in sim.requests("gitlab")) == [
            "/gitlab/api/v4/projects/acme%2Fplatform/deployments",
            "/gitlab/api/v4/projects/acme%2Fplatform/merge_requests",
            "/gitlab/api/v4/projects/acme%2Fplatform/pipelines",
        ]
        # Deployment 3 finishes, pipeline 13 runs, a merge request is merged: only those are read again.
        g = sim.data.gitlab
        g.deployments[P][2] = deployment(3, "staging", "success", T(2026, 11, 7, 10), T(2026, 11, 15, 9))
        g.pipelines[P][2] = pipeline(
            13, "main", "success", T(2026, 11, 7, 9), T(2026, 11, 15, 8), T(2026, 11, 15, 8, 5)
        )
        g.merge_requests[P].append(mr(3, T(2026, 11, 14, 9), T(2026, 11, 15, 9), "9" * 40))
        g.mr_commits[(P, 3)] = [commit(T(2026, 11, 14, 8))]
        sim.reset_log()
        # written: the deployment, pipeline, merge request, its commits and its notes (its approvals
        # answer 404 here, as on GitLab Free: nothing to write)
        assert sync(wh, cfg, env_for(sim))["gitlab"].written == 5
        assert sorted(p for _, p, _, _ in sim.requests("gitlab")) == [
            "/gitlab/api/v4/projects/acme%2Fplatform/deployments",
            "/gitlab/api/v4/projects/acme%2Fplatform/merge_requests",
            "/gitlab/api/v4/projects/acme%2Fplatform/merge_requests/3/approvals",
            "/gitlab/api/v4/projects/acme%2Fplatform/merge_requests/3/commits",
            "/gitlab/api/v4/projects/acme%2Fplatform/merge_requests/3/notes",
            "/gitlab/api/v4/projects/acme%2Fplatform/pipelines",
            "/gitlab/api/v4/projects/acme%2Fplatform/pipelines/13",
        ]
    build(wh, cfg)
    deps, builds, changes = _domain(wh)
    assert deps["gitlab:deployment:3"] == ("staging", "SUCCESS", T(2026, 11, 15, 9))
    assert builds["gitlab:build:13"] == ("main", "SUCCESS", 300)
    assert changes["gitlab:change:acme/platform!3"] == (T(2026, 11, 14, 8), T(2026, 11, 15, 9), None)
    assert rows(wh, "select count(*) as n, count(distinct key) as k from raw.gitlab__pipelines") == [
        {"n": 3, "k": 3}
    ]
