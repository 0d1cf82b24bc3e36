"""Golden tests: the pull-request flow read from GitHub and GitLab, on payloads rebuilt from the vendors'
documented examples (tests/connectors/fixtures_documented.py) served by the simulator, through the real
connectors, staging, core and KPI marts. Self-reviews, bots (by user type, the ``[bot]`` suffix, GitLab's
access-token users and the configured logins), pending reviews and reviews after the merge are ignored; a
draft's pickup starts when it was marked ready; a force-push after the first review restarts nothing.

Every expected number is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from platform_kpi.settings import DEFAULT_CONFIG
from platform_kpi.simulator.server import SimData, Simulator
from tests.connectors import fixtures_api as fx
from tests.connectors import fixtures_documented as doc
from tests.connectors import test_gitlab
from tests.connectors.api_helpers import build, env_for, rows, sync, write_sources

T = dt.datetime
REPO = "acme/api"
GITHUB = {"repos": [REPO], "per_page": 100, "environments": {"production": ["production"]}}
SERVICES = [{"service": "api", "team": "payments", "repo": REPO}]


def _github_data() -> SimData:
    data = SimData()
    g = data.github
    # One production deployment ships every change below (inferred: first at/after each merge).
    fx.add_deployment(
        data,
        fx.deployment(1, REPO, "production", T(2026, 11, 12, 11, 50), sha="d" * 40),
        [("success", T(2026, 11, 12, 12))],
    )

    def pull(number, created, merged, commits, reviews, events=(), **size):
        g.pulls.setdefault(REPO, []).append(
            doc.github_pull(number, REPO, "alice", created, merged, f"{number:040d}", **size)
        )
        g.pull_commits[(REPO, number)] = [fx.commit(t, i) for i, t in enumerate(commits)]
        g.pull_reviews[(REPO, number)] = list(reviews)
        g.pull_events[(REPO, number)] = list(events)

    # #1 a draft: opened 09:00, marked ready 12:00. Before the first human review come a GitHub App
    # (dependabot[bot]), a user of type Bot without the suffix, the author herself, the configured bot
    # login renovate-bot, and a pending review (never submitted). bob's review at 14:00 is the first;
    # carol approves at 17:00; merged 18:00.
    pull(
        1,
        T(2026, 11, 2, 9),
        T(2026, 11, 2, 18),
        [T(2026, 11, 2, 8)],
        [
            doc.github_review(101, "dependabot[bot]", "COMMENTED", T(2026, 11, 2, 12, 30), user_type="Bot"),
            doc.github_review(102, "ci-helper", "COMMENTED", T(2026, 11, 2, 12, 45), user_type="Bot"),
            doc.github_review(103, "alice", "COMMENTED", T(2026, 11, 2, 13)),
            doc.github_review(104, "renovate-bot", "APPROVED", T(2026, 11, 2, 13, 10)),
            doc.github_review(105, "dave", "PENDING", None),
            doc.github_review(106, "bob", "CHANGES_REQUESTED", T(2026, 11, 2, 14)),
            doc.github_review(107, "carol", "APPROVED", T(2026, 11, 2, 17)),
        ],
        [doc.github_issue_event(201, "ready_for_review", T(2026, 11, 2, 12), "alice")],
        additions=40,
        deletions=10,
    )
    # #2 merged without review: only the author and a bot looked before the merge at 11:00; bob's
    # review at 12:00 came after the merge and reviewed nothing merged.
    pull(
        2,
        T(2026, 11, 3, 10),
        T(2026, 11, 3, 11),
        [T(2026, 11, 3, 8)],
        [
            doc.github_review(111, "alice", "COMMENTED", T(2026, 11, 3, 10, 30)),
            doc.github_review(
                112, "github-actions[bot]", "APPROVED", T(2026, 11, 3, 10, 40), user_type="Bot"
            ),
            doc.github_review(113, "bob", "APPROVED", T(2026, 11, 3, 12)),
        ],
        additions=200,
        deletions=100,
    )
    # #3 force-pushed after its first review: bob commented at 10:00 on commit a; alice then pushed
    # commit c (authored 11:00) and bob approved c at 12:00. The first review stays 10:00.
    pull(
        3,
        T(2026, 11, 4, 9),
        T(2026, 11, 4, 12, 30),
        [T(2026, 11, 4, 8), T(2026, 11, 4, 11)],
        [
            doc.github_review(121, "bob", "COMMENTED", T(2026, 11, 4, 10), commit_id="a" * 40),
            doc.github_review(122, "bob", "APPROVED", T(2026, 11, 4, 12), commit_id="c" * 40),
        ],
        [doc.github_issue_event(202, "head_ref_force_pushed", T(2026, 11, 4, 11), "alice")],
    )
    return data


def _stages(wh) -> dict[str, tuple]:
    return {
        r["change_id"].removeprefix("github:change:acme/api#"): tuple(
            None if r[k] is None else r[k] / 3600
            for k in ("coding_time_sec", "pickup_time_sec", "review_time_sec", "deploy_time_sec")
        )
        for r in rows(wh, "select * from core.change_lead_times")
    }


def test_github_stages_ignore_bots_self_reviews_and_post_merge_reviews(tmp_path):
    with Simulator(_github_data()) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"github": GITHUB}, SERVICES)
        wh = tmp_path / "wh.duckdb"
        assert sync(wh, cfg, env_for(sim))["github"].error is None
        # A second sync lists the same pull requests again: their stored detail (size) stays.
        assert sync(wh, cfg, env_for(sim), now=T(2026, 11, 15, 13))["github"].error is None
    config = tmp_path / "kpi.yaml"
    shipped = DEFAULT_CONFIG.read_text()
    assert "review_bot_logins: []" in shipped
    # matched case-insensitively
    config.write_text(shipped.replace("review_bot_logins: []", "review_bot_logins: [Renovate-Bot]"))
    build(wh, cfg, config=config)

    changes = {
        r["change_id"]: r
        for r in rows(wh, "select * from core.changes where source = 'github' order by change_id")
    }
    one = changes["github:change:acme/api#1"]
    assert (one["opened_at"], one["ready_at"]) == (T(2026, 11, 2, 9), T(2026, 11, 2, 12))
    assert (one["first_review_at"], one["approved_at"]) == (T(2026, 11, 2, 14), T(2026, 11, 2, 17))
    assert (one["additions"], one["deletions"], one["commits"]) == (40, 10, 3)
    assert one["url"] == "https://github.com/acme/api/pull/1" and one["pr_flow_known"]
    two = changes["github:change:acme/api#2"]
    assert (two["first_review_at"], two["approved_at"], two["pr_flow_known"]) == (None, None, True)

    assert _stages(wh) == {
        # coding 08:00 -> 09:00 = 1 h; pickup from ready 12:00 -> bob 14:00 = 2 h (not from opening: 5 h;
        # not the bots', author's or renovate-bot's earlier reviews); review 14:00 -> approval 17:00 = 3 h;
        # deploy 11-02 18:00 -> 11-12 12:00 = 9 d 18 h = 234 h.
        "1": (1.0, 2.0, 3.0, 234.0),
        # coding 08:00 -> 10:00 = 2 h; unreviewed; deploy 11-03 11:00 -> 11-12 12:00 = 9 d 1 h = 217 h.
        "2": (2.0, None, None, 217.0),
        # coding 1 h (first commit 08:00, the commit pushed after the review does not move it);
        # pickup 09:00 -> 10:00 = 1 h (the push at 11:00 does not restart it); review 10:00 -> 12:00 =
        # 2 h; deploy 11-04 12:30 -> 11-12 12:00 = 7 d 23.5 h = 191.5 h.
        "3": (1.0, 1.0, 2.0, 191.5),
    }

    def kpi(kpi_id):
        r = rows(
            wh,
            "select value, sample_size from marts.kpi_monthly where kpi_id = ? and scope_type = 'org' "
            "and month = '2026-11-01'",
            [kpi_id],
        )[0]
        return r["value"], r["sample_size"]

    assert kpi("coding_time_p50_hours") == (pytest.approx(1.0), 3)  # 1, 2, 1
    assert kpi("pickup_time_p50_hours") == (pytest.approx(1.5), 2)  # 2, 1
    assert kpi("review_time_p50_hours") == (pytest.approx(2.5), 2)  # 3, 2
    assert kpi("deploy_time_p50_hours") == (pytest.approx(217.0), 3)  # 191.5, 217, 234
    assert kpi("pr_size_p50_lines") == (pytest.approx(103.0), 3)  # 50, 300 and #3's documented 100 + 3
    assert kpi("unreviewed_merge_rate") == (pytest.approx(1 / 3), 3)  # #2 of three

    # Without renovate-bot configured its approval at 13:10 is #1's first review (and approval):
    # pickup 12:00 -> 13:10 = 70 min, review 13:10 -> 13:10 = 0.
    build(wh, cfg)
    assert _stages(wh)["1"][1:3] == (pytest.approx(70 / 60), 0.0)


def test_gitlab_notes_and_approvals_give_ready_first_review_and_approval(tmp_path):
    data = test_gitlab.data()
    g = data.gitlab
    P = test_gitlab.P
    sha = "8888888888888888888888888888888888888888"
    # !5, by the documented author `admin`: opened 11-10 09:00 as a draft, marked ready 10:00 (a system
    # note); the author's own comment, a project access-token bot's and a [bot]'s comments are not
    # reviews; DouweM's comment at 12:00 is the first review; axel.block approves at 15:00 (the
    # approvals endpoint names him, without a time in this documented version: the system note has it).
    g.merge_requests[P].append(doc.gitlab_merge_request(7105, 5, sha, T(2026, 11, 10, 9), T(2026, 11, 11, 9)))
    g.mr_commits[(P, 5)] = [doc.gitlab_mr_commit(sha, T(2026, 11, 10, 8))]
    g.mr_approvals[(P, 5)] = doc.gitlab_mr_approvals(7105, 5, ["axel.block"], T(2026, 11, 10, 9))
    g.mr_notes[(P, 5)] = [
        doc.gitlab_mr_note(
            1, 5, "admin", T(2026, 11, 10, 9, 5), "requested review from @DouweM", system=True
        ),
        doc.gitlab_mr_note(
            2, 5, "admin", T(2026, 11, 10, 10), "marked this merge request as **ready**", True
        ),
        doc.gitlab_mr_note(3, 5, "admin", T(2026, 11, 10, 10, 30), "Comment for MR"),
        doc.gitlab_mr_note(4, 5, "project_42_bot_3f9a", T(2026, 11, 10, 10, 40), "Pipeline passed"),
        doc.gitlab_mr_note(5, 5, "danger[bot]", T(2026, 11, 10, 10, 50), "Please add a changelog"),
        doc.gitlab_mr_note(6, 5, "DouweM", T(2026, 11, 10, 12), "Comment for MR"),
        doc.gitlab_mr_note(7, 5, "axel.block", T(2026, 11, 10, 15), "approved this merge request", True),
    ]
    # !6: no approvals (the endpoint answers 404, as on GitLab Free) and only the author's comment.
    g.merge_requests[P].append(
        doc.gitlab_merge_request(7106, 6, "7" * 40, T(2026, 11, 12, 9), T(2026, 11, 12, 11))
    )
    g.mr_commits[(P, 6)] = [doc.gitlab_mr_commit("7" * 40, T(2026, 11, 12, 8))]
    g.mr_notes[(P, 6)] = [doc.gitlab_mr_note(11, 6, "admin", T(2026, 11, 12, 10), "Comment for MR")]
    with Simulator(data) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"gitlab": test_gitlab.GITLAB}, test_gitlab.SERVICES)
        wh = tmp_path / "wh.duckdb"
        assert sync(wh, cfg, env_for(sim))["gitlab"].error is None
    build(wh, cfg)
    got = {
        r["change_id"].removeprefix("gitlab:change:acme/platform!"): (
            r["opened_at"],
            r["ready_at"],
            r["first_review_at"],
            r["approved_at"],
            r["commits"],
            r["pr_flow_known"],
        )
        for r in rows(wh, "select * from core.changes where change_id similar to 'gitlab:change:.*!(5|6)'")
    }
    assert got == {
        "5": (T(2026, 11, 10, 9), T(2026, 11, 10, 10), T(2026, 11, 10, 12), T(2026, 11, 10, 15), 1, True),
        "6": (T(2026, 11, 12, 9), None, None, None, 1, True),
    }
    url = rows(wh, "select url from core.changes where change_id = 'gitlab:change:acme/platform!5'")
    assert url == [{"url": "http://gitlab.example.com/my-group/my-project/merge_requests/1"}]  # as documented
    # Merged in November: the fixture's !1 and !2 (the simulator holds no notes for them: read, none
    # there, so merged without review), !5 reviewed and !6 not -> 3 of 4 merged without review.
    rate = rows(
        wh,
        "select value, sample_size from marts.kpi_monthly where kpi_id = 'unreviewed_merge_rate' "
        "and scope_type = 'org' and month = '2026-11-01'",
    )[0]
    assert (rate["value"], rate["sample_size"]) == (pytest.approx(3 / 4), 4)


def test_pr_flow_false_skips_the_extra_requests_and_claims_nothing_about_reviews(tmp_path):
    with Simulator(_github_data()) as sim:
        cfg = write_sources(tmp_path / "s.yaml", sim, {"github": {**GITHUB, "pr_flow": False}}, SERVICES)
        wh = tmp_path / "wh.duckdb"
        assert sync(wh, cfg, env_for(sim))["github"].error is None
        flow = sim.requests("github", r"/pulls/\d+$|/reviews$|/events$")
    assert flow == []
    build(wh, cfg)
    got = rows(wh, "select count(*) as n, count(*) filter (where pr_flow_known) as known from core.changes")
    assert got == [{"n": 3, "known": 0}]
    # the listing still gives the opening time: coding 08:00 -> 09:00; pickup and review unknown
    stages = rows(
        wh,
        "select coding_time_sec, pickup_time_sec, review_time_sec from core.change_lead_times "
        "where change_id = 'github:change:acme/api#1'",
    )
    assert stages == [{"coding_time_sec": 3600, "pickup_time_sec": None, "review_time_sec": None}]
