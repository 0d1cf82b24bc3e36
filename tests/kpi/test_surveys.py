"""Golden tests: developer satisfaction and developer NPS from a survey export, with the anonymity
minimum (a group of 4 respondents has no value, one of 5 does), free text never loaded, and bad rows
quarantined. Every expected number is worked out by hand."""

from __future__ import annotations

import pytest

from tests.conftest import build_warehouse, csv_text, kpi, query

HEADER = "response_id,submitted_at,team,survey,satisfaction,nps,comment"
SECRET_COMMENT = "the deploy tool makes me want to quit"


@pytest.fixture(scope="module")
def wh(module_tmp):
    rows = [
        # payments: 5 respondents. Satisfaction 4, 5, 3, 4, 4 -> mean 4.0.
        # NPS answers 10, 9, 9, 7, 2: 3 promoters, 1 passive, 1 detractor -> (3 - 1) / 5 = +40
        f"p1,2026-03-10T09:00:00Z,payments,2026-Q1,4,10,{SECRET_COMMENT}",
        "p2,2026-03-10T10:00:00Z,payments,2026-Q1,5,9,",
        "p3,2026-03-11T09:00:00Z,payments,2026-Q1,3,9,",
        "p4,2026-03-11T11:00:00Z,payments,2026-Q1,4,7,",
        "p5,2026-03-12T09:00:00Z,payments,2026-Q1,4,2,",
        # search: 4 respondents (below the minimum of 5). Satisfaction 2, 3, 2, 3; NPS 0, 5, 9, 7
        "s1,2026-03-10T09:00:00Z,search,2026-Q1,2,0,",
        "s2,2026-03-10T09:30:00Z,search,2026-Q1,3,5,",
        "s3,2026-03-11T09:00:00Z,search,2026-Q1,2,9,",
        "s4,2026-03-13T09:00:00Z,search,2026-Q1,3,7,",
        # quarantined: an NPS answer out of range, and a team that owns no service
        "x1,2026-03-13T09:00:00Z,search,2026-Q1,3,11,",
        "x2,2026-03-13T09:00:00Z,marketing,2026-Q1,3,8,",
    ]
    return build_warehouse(module_tmp, {"survey_responses.csv": csv_text(HEADER, *rows)})


def test_a_group_of_five_has_values(wh):
    satisfaction = kpi(wh, "developer_satisfaction", "2026-03", "team", "payments")
    assert (satisfaction["value"], satisfaction["sample_size"]) == (4.0, 5)
    nps = kpi(wh, "developer_nps", "2026-03", "team", "payments")
    assert nps["value"] == pytest.approx(40.0)


def test_a_group_of_four_has_no_value(wh):
    for kid in ("developer_satisfaction", "developer_nps"):
        row = kpi(wh, kid, "2026-03", "team", "search")
        assert row["value"] is None and row["sample_size"] == 4, kid


def test_the_organisation_counts_every_good_response(wh):
    # satisfaction (4+5+3+4+4 + 2+3+2+3) / 9 = 30 / 9; promoters 3 + 1 = 4, detractors 1 + 2 = 3 of 9
    assert kpi(wh, "developer_satisfaction", "2026-03")["value"] == pytest.approx(30 / 9)
    assert kpi(wh, "developer_nps", "2026-03")["value"] == pytest.approx((4 - 3) / 9 * 100)
    assert kpi(wh, "developer_nps", "2026-03")["sample_size"] == 9


def test_free_text_is_never_loaded(wh):
    columns = {
        r["column_name"]
        for r in query(wh, "select column_name from duckdb_columns() where table_name like '%survey%'")
    }
    assert "comment" not in columns
    assert SECRET_COMMENT.encode() not in wh.read_bytes()


def test_bad_responses_are_quarantined_with_their_reason(wh):
    bad = query(
        wh,
        "select record_key, reason from ops.quarantine where entity = 'survey_responses' order by record_key",
    )
    assert bad == [
        {"record_key": "x1", "reason": "nps 11 is not a whole number from 0 to 10"},
        {"record_key": "x2", "reason": "unknown team marketing (no service of the services file has it)"},
    ]
