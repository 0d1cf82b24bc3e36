"""The domain-table suites catch what they promise: GX on the recent rows, SQL over all of history."""

import duckdb
import pytest

from platform_kpi.validation import domain_suites, validate_table


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema core")
    con.execute(
        "create table core.services as select * from (values ('api', 'core'), ('web', 'front')) t(service, team)"
    )
    # b1/b1 duplicate long ago (outside the 35-day window); b9 recent and negative; b8 of an unknown service.
    con.execute(
        """create table core.cicd_builds as select * from (values
            ('b1', 'api', 'SUCCESS', timestamp '2025-01-01 10:00', timestamp '2025-01-01 10:05', 300),
            ('b1', 'api', 'FAILURE', timestamp '2025-01-02 10:00', timestamp '2025-01-02 10:05', 300),
            ('b2', 'web', 'SUCCESS', timestamp '2026-03-01 10:00', timestamp '2026-03-01 10:05', 300),
            ('b8', 'ghost', 'SUCCESS', timestamp '2026-03-02 10:00', timestamp '2026-03-02 10:05', 300),
            ('b9', 'web', 'BROKEN', timestamp '2026-03-03 10:00', timestamp '2026-03-03 09:00', -3600)
        ) t(build_id, service, status, started_at, finished_at, duration_sec)"""
    )
    return con


def _failed(outcomes, engine):
    return {
        (o.expectation.split(" (")[0], o.column): o.unexpected_count
        for o in outcomes
        if not o.success and engine in o.expectation
    }


def test_gx_sees_recent_problems_and_sql_sees_all_of_history(con):
    outcomes = validate_table(con, domain_suites(con)["core.cicd_builds"])
    gx = _failed(outcomes, "Great Expectations")
    sql = _failed(outcomes, "SQL")
    # The old duplicate is outside GX's window, so only the SQL count over all rows sees it.
    assert ("expect_column_values_to_be_unique", "build_id") not in gx
    assert sql[("expect_column_values_to_be_unique", "build_id")] == 1
    for found in (gx, sql):
        assert found[("expect_column_values_to_be_in_set", "status")] == 1  # BROKEN
        assert found[("expect_column_values_to_be_null", "unknown_service")] == 1  # ghost
        assert found[("expect_column_pair_values_a_to_be_greater_than_b", "finished_at >= started_at")] == 1
        assert found[("expect_column_values_to_be_between", "duration_sec")] == 1
    # GX names the bad values; the history count says how many.
    sample = next(
        o.sample for o in outcomes if "Great" in o.expectation and o.column == "status" and not o.success
    )
    assert "BROKEN" in sample
    unknown = next(o.sample for o in outcomes if "Great" in o.expectation and o.column == "unknown_service")
    assert "ghost" in unknown


def test_a_clean_table_passes_every_expectation(con):
    con.execute("delete from core.cicd_builds where build_id in ('b8', 'b9') or finished_at < '2025-01-02'")
    outcomes = validate_table(con, domain_suites(con)["core.cicd_builds"])
    assert outcomes and all(o.success for o in outcomes)
    assert {o.expectation.split(" (")[1] for o in outcomes} == {
        "last 35 days, Great Expectations)",
        "all rows, SQL)",
    }


@pytest.mark.parametrize("table", ["core.deployments", "core.cicd_builds"])
def test_a_null_status_fails_the_suite(con, table):
    """A deployment or build without a status is not a pass: both engines count it."""
    key = "deployment_id" if table == "core.deployments" else "build_id"
    con.execute(f"drop table if exists {table}")
    con.execute(
        f"""create table {table} as select * from (values
            ('d1', 'api', 'SUCCESS', timestamp '2026-03-01 10:00', timestamp '2026-03-01 10:05', 300),
            ('d2', 'api', null, timestamp '2026-03-02 10:00', null, null)
        ) t({key}, service, status, started_at, finished_at, duration_sec)"""
    )
    outcomes = validate_table(con, domain_suites(con)[table])
    for engine in ("Great Expectations", "SQL"):
        assert _failed(outcomes, engine) == {("expect_column_values_to_not_be_null", "status"): 1}, engine
