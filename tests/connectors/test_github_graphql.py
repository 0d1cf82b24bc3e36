"""GitHub pull requests and deployments through GraphQL (issue #16): the same simulator data read through
GraphQL and through REST (``graphql: false``) gives the same staged and domain rows and KPIs, in far
fewer requests; the simulator's GraphQL endpoint refuses queries GitHub would refuse."""

from __future__ import annotations

import datetime as dt

import httpx
import yaml

from platform_kpi.demo.org import generate_demo_org
from platform_kpi.simulator.demo import TOKEN_ENVS, build_sim_data, write_demo_sources_yaml
from platform_kpi.simulator.server import Simulator
from tests.connectors.api_helpers import build, rows, sync

NOW = dt.datetime(2026, 11, 15, 6)


def _sources(path, files, sim, graphql: bool):
    path = write_demo_sources_yaml(path, files, {v: sim.url(v) for v in ("github", "pagerduty")})
    raw = yaml.safe_load(path.read_text())
    raw["github"]["graphql"] = graphql
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_graphql_and_rest_give_the_same_changes_and_kpis(tmp_path):
    files = tmp_path / "files"
    generate_demo_org(files, services=5, teams=3, months=2, seed=3, today=NOW.date())
    built = {}
    requests = {}
    with Simulator(build_sim_data(files)) as sim:
        env = {TOKEN_ENVS[v]: sim.tokens[v] for v in TOKEN_ENVS}
        for kind, graphql in (("rest", False), ("graphql", True)):
            cfg = _sources(tmp_path / f"{kind}.yaml", files, sim, graphql)
            sim.reset_log()
            results = sync(tmp_path / f"{kind}.duckdb", cfg, env, now=NOW)
            assert [r.error for r in results.values() if r.error] == []
            requests[kind] = {
                "pulls": len(sim.requests("github", r"/pulls|/issues/")),
                "deployments": len(sim.requests("github", r"/deployments")),
                "graphql": len(sim.requests("github", r"/graphql$")),
                "all": len(sim.requests("github")),
            }
            built[kind] = build(tmp_path / f"{kind}.duckdb", cfg)
    assert requests["rest"]["graphql"] == 0
    assert requests["graphql"]["pulls"] == requests["graphql"]["deployments"] == 0
    # REST: the listing plus 4-5 requests per merged pull request and one per deployment; GraphQL: a
    # page of 100 per request (the workflow runs stay REST in both)
    runs = len(sim.requests("github", r"/actions/runs"))
    assert (requests["graphql"]["all"] - runs) * 10 < requests["rest"]["pulls"] + requests["rest"][
        "deployments"
    ]

    def table(wh, sql):
        return rows(wh, sql)

    changes = "select * exclude (_record) from staging.stg_github__changes order by change_id"
    got, want = table(built["graphql"], changes), table(built["rest"], changes)
    assert len(want) > 50 and got == want
    # the flow fields are really there (not equal because both are empty)
    assert sum(r["first_review_at"] is not None for r in want) > 10
    assert sum(r["ready_at"] is not None for r in want) > 0
    assert sum(r["additions"] is not None for r in want) > 10
    core = "select * from core.changes order by change_id"
    assert table(built["graphql"], core) == table(built["rest"], core)
    deployments = "select * exclude (_record) from staging.stg_github__deployments order by deployment_id"
    want = table(built["rest"], deployments)
    assert len(want) > 50 and table(built["graphql"], deployments) == want
    assert {r["status"] for r in want} >= {"SUCCESS", "FAILURE"}
    core = "select * from core.deployments order by deployment_id"
    assert table(built["graphql"], core) == table(built["rest"], core)
    kpis = "select month, scope_type, scope, kpi_id, value, sample_size from marts.kpi_monthly order by all"
    got_kpis = table(built["graphql"], kpis)
    assert got_kpis and got_kpis == table(built["rest"], kpis)


QUERY_OK = 'query($o: String!) { rateLimit { cost remaining resetAt } repository(owner: $o, name: "api") { pullRequests(first: 2, states: [MERGED]) { pageInfo { hasNextPage endCursor } nodes { number } } } }'


def test_the_simulator_answers_graphql_as_github_does():
    from platform_kpi.simulator.server import SimData

    data = SimData()
    data.github.pulls["acme/api"] = [
        {
            "number": n,
            "id": n,
            "state": "closed",
            "merged_at": f"2026-11-0{n}T00:00:00Z",
            "created_at": "2026-11-01T00:00:00Z",
        }
        for n in (1, 2, 3)
    ]
    with Simulator(data) as sim:
        auth = {"Authorization": f"Bearer {sim.tokens['github']}"}

        def post(query, variables=None):
            return httpx.post(
                f"{sim.url('github')}/graphql",
                json={"query": query, "variables": variables or {}},
                headers=auth,
            )

        # shape from docs.github.com/graphql (pageInfo, nodes, rateLimit)
        answer = post(QUERY_OK, {"o": "acme"})
        assert answer.status_code == 200
        body = answer.json()
        page = body["data"]["repository"]["pullRequests"]
        assert [n["number"] for n in page["nodes"]] == [1, 2]
        assert page["pageInfo"]["hasNextPage"] is True and page["pageInfo"]["endCursor"]
        assert set(body["data"]["rateLimit"]) == {"cost", "remaining", "resetAt"}
        assert answer.headers["x-ratelimit-resource"] == "graphql"
        # an unknown field: HTTP 200 with errors[], as GitHub answers
        bad = post('{ repository(owner: "acme", name: "api") { pullRequests(first: 1) { nodes { nope } } } }')
        assert bad.status_code == 200
        assert bad.json()["errors"][0]["extensions"]["code"] == "undefinedField"
        assert "nope" in bad.json()["errors"][0]["message"]
        # a connection without first, or with more than 100
        for arg in ("", "(first: 101)"):
            q = '{ repository(owner: "acme", name: "api") { pullRequests' + arg + " { nodes { number } } } }"
            assert "errors" in post(q).json()
        # no token: 401
        assert (
            httpx.post(f"{sim.url('github')}/graphql", json={"query": "{ rateLimit { cost } }"}).status_code
            == 401
        )


def test_deployment_statuses_come_newest_first_whatever_order_graphql_gives():
    """REST lists a deployment's statuses newest first and staging reads the first as the latest; the
    GraphQL connection's order is not documented, so latestStatus decides it."""
    from connectors.github import statuses_from_graphql

    oldest_first = [
        {"state": "IN_PROGRESS", "createdAt": "2026-11-01T10:00:00Z"},
        {"state": "SUCCESS", "createdAt": "2026-11-01T10:05:00Z"},
    ]
    latest = {"state": "SUCCESS", "createdAt": "2026-11-01T10:05:00Z"}
    for order in (oldest_first, list(reversed(oldest_first))):
        node = {"latestStatus": latest, "statuses": {"nodes": order}}
        assert [s["state"] for s in statuses_from_graphql(node)] == ["success", "in_progress"]


def test_an_incremental_sync_with_nothing_new_costs_at_most_one_request_per_stream(tmp_path):
    """The demo organisation through the simulator (GitHub and PagerDuty), synced, then synced again an
    hour later with nothing new: no stream sends more than one request - open deployments and
    incidents come back in their listings' first page, unchanged incidents' alerts are not re-read."""
    from platform_kpi.demo.alerts import generate_alerts

    files = tmp_path / "files"
    generate_demo_org(files, services=6, teams=3, months=3, seed=5, today=NOW.date())
    generate_alerts(files, months=3, seed=5, today=NOW.date())
    data = build_sim_data(files)
    # something for the re-checks to do: the two newest incidents still open, the newest deployment of
    # each repository still in progress (its final status not there yet)
    for incident in sorted(data.pagerduty_incidents, key=lambda i: i["created_at"])[-2:]:
        incident.update(status="triggered", resolved_at=None, updated_at=incident["created_at"])
    for deployments in data.github.deployments.values():
        newest = max(deployments, key=lambda d: d["created_at"])
        data.github.statuses[newest["id"]] = data.github.statuses[newest["id"]][:1]
    assert data.pagerduty_alerts
    with Simulator(data) as sim:
        cfg = write_demo_sources_yaml(
            tmp_path / "s.yaml", files, {v: sim.url(v) for v in ("github", "pagerduty")}
        )
        env = {TOKEN_ENVS[v]: sim.tokens[v] for v in TOKEN_ENVS}
        sync(tmp_path / "w.duckdb", cfg, env, now=NOW)
        sim.reset_log()
        results = sync(tmp_path / "w.duckdb", cfg, env, now=NOW + dt.timedelta(hours=1))
        per_stream = {f"{r.source} {s.stream}": s.requests for r in results.values() for s in r.streams}
        assert len(per_stream) >= 9 and all(r.error is None for r in results.values())
        assert {k: n for k, n in per_stream.items() if n > 1} == {}
        assert sum(per_stream.values()) == len(sim.requests())
