"""Jenkins connector against the simulator: folders and multibranch projects recursed, allBuilds read in
{M,N} ranges past the newest 100, a deployment job, running builds re-read, basic auth."""

from __future__ import annotations

import datetime as dt

from platform_kpi.simulator.server import SimData, Simulator
from tests.connectors.api_helpers import build, env_for, rows, sync, write_sources

START = dt.datetime(2026, 11, 1)
FOLDER = "com.cloudbees.hudson.plugins.folder.Folder"
MULTI = "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject"
JOB = "org.jenkinsci.plugins.workflow.job.WorkflowJob"
FREESTYLE = "hudson.model.FreeStyleProject"

SERVICES = [
    {"service": "api", "team": "payments", "jenkins_jobs": ["payments/api", "payments/deploy-prod"]},
    {"service": "indexer", "team": "search", "jenkins_jobs": ["search-indexer"]},
]
JENKINS = {
    "jobs": ["payments", "search-indexer"],
    "user_env": "TEST_JENKINS_USER",
    "deployment_jobs": {"payments/deploy-prod": "production"},
}


def ms(t: dt.datetime) -> int:
    return int(t.replace(tzinfo=dt.UTC).timestamp() * 1000)


def result(n: int) -> str:
    # by hand: every 10th build fails, every 15th (not 10th) is unstable, every 25th (neither) aborted
    return (
        "FAILURE" if n % 10 == 0 else "UNSTABLE" if n % 15 == 0 else "ABORTED" if n % 25 == 0 else "SUCCESS"
    )


def builds(count: int, hours: float, minutes: float, running_last: bool = False) -> list[dict]:
    out = []
    for n in range(1, count + 1):
        start = START + dt.timedelta(hours=hours * n)
        building = running_last and n == count
        out.append(
            {
                "number": n,
                "result": None if building else result(n),
                "timestamp": ms(start),
                "duration": 0 if building else int(minutes * 60_000),
                "url": f"http://jenkins/{n}/",
                "building": building,
            }
        )
    return out


def data() -> SimData:
    d = SimData()
    d.jenkins = {
        "payments": {
            "_class": FOLDER,
            "jobs": {
                "api": {
                    "_class": MULTI,
                    "jobs": {
                        "main": {"_class": JOB, "builds": builds(150, 1, 10, running_last=True)},
                        "feature-x": {"_class": JOB, "builds": builds(3, 5, 4)},
                    },
                },
                "deploy-prod": {"_class": JOB, "builds": builds(12, 24, 6)},
            },
        },
        "search-indexer": {"_class": FREESTYLE, "builds": builds(5, 12, 20)},
    }
    return d


def test_folders_ranges_deployment_job_and_incremental(tmp_path):
    with Simulator(data()) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"jenkins": JENKINS}, SERVICES)
        wh = tmp_path / "wh.duckdb"
        assert sync(wh, cfg, env_for(sim))["jenkins"].error is None
        # main has 150 builds: two ranges ({0,100} and {100,200}); the others fit in one
        trees = [q["tree"][0] for _, p, q, _ in sim.requests("jenkins", r"/job/main/api/json$")]
        assert [t for t in trees if "allBuilds" in t] == [
            "allBuilds[number,result,timestamp,duration,url,building,actions[lastBuiltRevision[SHA1]]]{0,100}",
            "allBuilds[number,result,timestamp,duration,url,building,actions[lastBuiltRevision[SHA1]]]{100,200}",
        ]
        build(wh, cfg)
        got = rows(
            wh,
            "select service, branch, status, count(*) as n, sum(duration_sec) as d from core.cicd_builds "
            "where source = 'jenkins' group by all order by all",
        )
        # main: 150 builds, the last still running. Of 1..149: 14 fail (10, 20, .., 140), 5 are unstable
        # (15, 45, 75, 105, 135; counted as failures), 2 aborted (25, 125): 149 - 14 - 5 - 2 = 128 succeed.
        assert got == [
            {"service": "api", "branch": "feature-x", "status": "SUCCESS", "n": 3, "d": 3 * 240},
            {"service": "api", "branch": "main", "status": "CANCELED", "n": 2, "d": 2 * 600},
            {"service": "api", "branch": "main", "status": "FAILURE", "n": 14 + 5, "d": 19 * 600},
            {"service": "api", "branch": "main", "status": "IN_PROGRESS", "n": 1, "d": None},
            {"service": "api", "branch": "main", "status": "SUCCESS", "n": 128, "d": 128 * 600},
            {"service": "indexer", "branch": "main", "status": "SUCCESS", "n": 5, "d": 5 * 1200},
        ]
        deps = rows(
            wh,
            "select deployment_id, service, environment, status, started_at, finished_at "
            "from core.deployments where source = 'jenkins' order by started_at",
        )
        assert len(deps) == 12 and {d["service"] for d in deps} == {"api"}
        assert deps[0] == {
            "deployment_id": "jenkins:deployment:payments/deploy-prod#1",
            "service": "api",
            "environment": "production",
            "status": "SUCCESS",
            "started_at": dt.datetime(2026, 11, 2),
            "finished_at": dt.datetime(2026, 11, 2, 0, 6),
        }
        assert deps[9]["status"] == "FAILURE"  # build 10

        # The running build finishes and one new build starts; search-indexer is unchanged.
        main = sim.data.jenkins["payments"]["jobs"]["api"]["jobs"]["main"]["builds"]
        main[-1].update(result="SUCCESS", building=False, duration=600_000)
        main.append({**builds(151, 1, 10)[-1]})
        sim.reset_log()
        result_ = sync(wh, cfg, env_for(sim))["jenkins"]
        assert result_.written == 2
        build_pages = [q["tree"][0] for _, _, q, _ in sim.requests("jenkins") if "allBuilds" in q["tree"][0]]
        assert len(build_pages) == 4  # one range per job, not the 150 builds again
    build(wh, cfg)
    assert rows(
        wh, "select count(*) as n from core.cicd_builds where source = 'jenkins' and status = 'IN_PROGRESS'"
    ) == [{"n": 0}]
    assert rows(wh, "select count(*) as n, count(distinct key) as k from raw.jenkins__builds") == [
        {"n": 171, "k": 171}
    ]
