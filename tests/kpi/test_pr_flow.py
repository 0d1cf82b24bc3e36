"""Golden tests: the pull-request flow from the changes file - the lead time's stages (coding, pickup,
review, deploy) with a draft, an unreviewed change and a file row without the optional columns, the
pull request size, the share merged without review, and bad values quarantined.

The file holds the already-filtered first human review (self-reviews and bots are filtered by the API
connectors: see tests/connectors/test_pr_flow_api.py). Every expected number is worked out by hand.
"""

from __future__ import annotations

import pytest

from tests.conftest import csv_text, dep, deployments, kpi, query

FLOW_HEADER = (
    "change_id,service,first_commit_at,merged_at,deployment_id,opened_at,ready_at,first_review_at,"
    "approved_at,additions,deletions,commits,url"
)


def flow(
    change_id: str,
    first_commit_at: str,
    merged_at: str,
    *,
    opened: str = "",
    ready: str = "",
    review: str = "",
    approved: str = "",
    additions: str = "",
    deletions: str = "",
    commits: str = "",
    url: str = "",
    deployment_id: str = "d1",
) -> str:
    """One changes.csv line with the pull-request flow columns (FLOW_HEADER)."""
    return ",".join(
        [
            change_id,
            "api",
            first_commit_at,
            merged_at,
            deployment_id,
            opened,
            ready,
            review,
            approved,
            additions,
            deletions,
            commits,
            url,
        ]
    )


def stages(wh, change_id: str) -> tuple:
    row = query(
        wh,
        "select coding_time_sec, pickup_time_sec, review_time_sec, deploy_time_sec "
        "from core.change_lead_times where change_id = ?",
        ["files:change:" + change_id],
    )[0]
    return tuple(None if v is None else v / 3600 for v in row.values())


def test_stages_draft_unreviewed_and_file_without_flow_columns(warehouse_of):
    wh = warehouse_of(
        {
            # d1 ships every change: finished 2024-03-20 12:00.
            "deployments.csv": deployments(dep("d1", "2024-03-20T12:00:00Z")),
            "changes.csv": csv_text(
                FLOW_HEADER,
                # reviewed and approved: coding 00:00 -> 04:00 = 4 h, pickup 04:00 -> 06:00 = 2 h,
                # review 06:00 -> approval 10:00 = 4 h, deploy 03-02 00:00 -> 03-20 12:00 = 18.5 d = 444 h.
                flow(
                    "c1",
                    "2024-03-01T00:00:00Z",
                    "2024-03-02T00:00:00Z",
                    opened="2024-03-01T04:00:00Z",
                    review="2024-03-01T06:00:00Z",
                    approved="2024-03-01T10:00:00Z",
                    additions="100",
                    deletions="20",
                    commits="3",
                    url="https://github.com/acme/api/pull/1",
                ),
                # a draft: opened 03-05 01:00, ready 03-06 01:00, first review 03-06 04:00. Coding 1 h;
                # pickup counts from ready: 3 h (not the 27 h from opening); nobody approved, so review
                # runs to the merge at 10:00: 6 h; deploy 03-06 10:00 -> 03-20 12:00 = 14 d 2 h = 338 h.
                flow(
                    "c2",
                    "2024-03-05T00:00:00Z",
                    "2024-03-06T10:00:00Z",
                    opened="2024-03-05T01:00:00Z",
                    ready="2024-03-06T01:00:00Z",
                    review="2024-03-06T04:00:00Z",
                    additions="10",
                    deletions="0",
                ),
                # merged without review: coding 2 h, pickup and review NULL,
                # deploy 03-10 05:00 -> 03-20 12:00 = 10 d 7 h = 247 h.
                flow(
                    "c3",
                    "2024-03-10T00:00:00Z",
                    "2024-03-10T05:00:00Z",
                    opened="2024-03-10T02:00:00Z",
                    additions="300",
                    deletions="200",
                ),
                # no pull-request data (as an old file): coding runs first commit -> merge = 12 h;
                # it says nothing about reviews, so it is not in the unreviewed share, and has no size.
                # deploy 03-12 12:00 -> 03-20 12:00 = 192 h.
                flow("c4", "2024-03-12T00:00:00Z", "2024-03-12T12:00:00Z"),
            ),
        }
    )
    assert stages(wh, "c1") == (4.0, 2.0, 4.0, 444.0)
    assert stages(wh, "c2") == (1.0, 3.0, 6.0, 338.0)
    assert stages(wh, "c3") == (2.0, None, None, 247.0)
    assert stages(wh, "c4") == (12.0, None, None, 192.0)

    def value(kpi_id):
        row = kpi(wh, kpi_id, "2024-03")
        return row["value"], row["sample_size"]

    # coding 4, 1, 2, 12 -> sorted 1, 2, 4, 12: median (2 + 4) / 2 = 3 h
    assert value("coding_time_p50_hours") == (pytest.approx(3.0), 4)
    # pickup of the reviewed changes c1, c2: 2 and 3 -> 2.5 h
    assert value("pickup_time_p50_hours") == (pytest.approx(2.5), 2)
    # review 4 and 6 -> 5 h
    assert value("review_time_p50_hours") == (pytest.approx(5.0), 2)
    # deploy 444, 338, 247, 192 -> (247 + 338) / 2 = 292.5 h
    assert value("deploy_time_p50_hours") == (pytest.approx(292.5), 4)
    # size 100 + 20 = 120, 10 + 0 = 10, 300 + 200 = 500 (c4 has none) -> median 120 lines
    assert value("pr_size_p50_lines") == (pytest.approx(120.0), 3)
    # merged without review: c3 of c1, c2, c3 (c4 tells nothing) -> 1/3
    assert value("unreviewed_merge_rate") == (pytest.approx(1 / 3), 3)

    # The stage bar reads the same stages per month: the org row of each stage equals the KPI.
    bar = {
        r["stage"]: (r["p50_hours"], r["n"], r["stage_order"])
        for r in query(
            wh, "select * from marts.lead_time_stages where scope_type = 'org' and month = '2024-03-01'"
        )
    }
    assert bar == {
        "coding": (pytest.approx(3.0), 4, 1),
        "pickup": (pytest.approx(2.5), 2, 2),
        "review": (pytest.approx(5.0), 2, 3),
        "deploy": (pytest.approx(292.5), 4, 4),
        # lead times (first commit -> 03-20 12:00): 19.5 d = 468, 15.5 d = 372, 10.5 d = 252,
        # 8.5 d = 204 h -> (252 + 372) / 2 = 312 h
        "total": (pytest.approx(312.0), 4, 5),
    }
    url = query(wh, "select url from core.changes where change_id = 'files:change:c1'")[0]["url"]
    assert url == "https://github.com/acme/api/pull/1"


def test_review_during_draft_and_approval_without_first_review(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(dep("d1", "2024-03-20T12:00:00Z")),
            "changes.csv": csv_text(
                FLOW_HEADER,
                # reviewed at 02:00 while still a draft (ready at 05:00): pickup 0, not negative;
                # review 02:00 -> approval 08:00 = 6 h.
                flow(
                    "c1",
                    "2024-03-01T00:00:00Z",
                    "2024-03-01T09:00:00Z",
                    opened="2024-03-01T01:00:00Z",
                    ready="2024-03-01T05:00:00Z",
                    review="2024-03-01T02:00:00Z",
                    approved="2024-03-01T08:00:00Z",
                ),
                # an approval is a review: blank first_review_at with approved_at 03:00 -> the first
                # review is 03:00, pickup 01:00 -> 03:00 = 2 h, review 0 h.
                flow(
                    "c2",
                    "2024-03-01T00:00:00Z",
                    "2024-03-01T09:00:00Z",
                    opened="2024-03-01T01:00:00Z",
                    approved="2024-03-01T03:00:00Z",
                ),
            ),
        }
    )
    assert stages(wh, "c1")[1:3] == (0.0, 6.0)
    assert stages(wh, "c2")[1:3] == (2.0, 0.0)
    # both reviewed -> merged without review 0 of 2
    row = kpi(wh, "unreviewed_merge_rate", "2024-03")
    assert (row["value"], row["sample_size"]) == (0.0, 2)


def test_bad_flow_values_are_quarantined_naming_the_field(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(dep("d1", "2024-03-20T12:00:00Z")),
            "changes.csv": csv_text(
                FLOW_HEADER,
                # line 2: good
                flow("c1", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z", opened="2024-03-01T01:00:00Z"),
                # line 3: additions not a number
                flow(
                    "c2",
                    "2024-03-01T00:00:00Z",
                    "2024-03-02T00:00:00Z",
                    opened="2024-03-01T01:00:00Z",
                    additions="many",
                    deletions="-1",
                ),
                # line 4: a link the dashboard must never render
                flow("c3", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z", url="javascript:alert(1)"),
                # line 5: reviewed after the merge
                flow(
                    "c4",
                    "2024-03-01T00:00:00Z",
                    "2024-03-02T00:00:00Z",
                    opened="2024-03-01T01:00:00Z",
                    review="2024-03-03T00:00:00Z",
                ),
                # line 6: a review without opened_at
                flow("c5", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z", review="2024-03-01T05:00:00Z"),
                # line 7: opened_at not a time -> a load error naming the column
                flow("c6", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z", opened="soon"),
                # line 8: good, after the bad ones
                flow("c7", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z", commits="2"),
            ),
        }
    )
    got = {
        r["line"]: (r["source"], r["record_key"], r["reason"])
        for r in query(wh, "select * from ops.quarantine where entity = 'changes'")
    }
    assert sorted(got) == [3, 4, 5, 6, 7]
    assert got[3][:2] == ("files", "c2")
    assert "additions many is not a whole number >= 0" in got[3][2]
    assert "deletions -1 is not a whole number >= 0" in got[3][2]
    assert "url javascript:alert(1) is not an http(s) address" in got[4][2]
    assert "first_review_at is after merged_at" in got[5][2]
    assert "given without opened_at" in got[6][2]
    assert "opened_at soon is not an ISO-8601 time" in got[7][2]
    kept = [r["change_id"] for r in query(wh, "select change_id from core.changes order by 1")]
    assert kept == ["files:change:c1", "files:change:c7"]
