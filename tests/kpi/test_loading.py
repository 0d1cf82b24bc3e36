"""Golden tests of loading: JSON Lines gives the same KPIs as CSV, a missing required column is a
clear error naming file and column, loading the same files twice gives the same warehouse, and line
numbers stay right around lines that are not records.
"""

from __future__ import annotations

import json

import pytest

from pipelines.execute import PipelineFailed
from platform_kpi.warehouse import read_connection
from tests.conftest import (
    bld,
    build_warehouse,
    builds,
    changes,
    chg,
    dep,
    deployments,
    inc,
    incidents,
    kpi,
    query,
)

# A small organisation touching every KPI: api deploys three times (d2 rolled back by d3), one change,
# one window-linked incident, two builds; times with offsets.
CSV_FILES = {
    "deployments.csv": deployments(
        dep("d1", "2024-01-31T23:00:00Z", started_at="2024-01-31T22:50:00Z"),
        dep("d2", "2024-02-01T10:00:00+02:00", hotfix=True),  # 08:00 UTC
        dep("d3", "2024-02-01T09:00:00Z", rollback=True),
        dep("d4", "2024-02-02T09:00:00Z", status="Failed"),
    ),
    "changes.csv": changes(chg("c1", "2024-01-31T20:00:00Z", "2024-01-31T21:00:00Z")),  # d1: 3 h
    "incidents.csv": incidents(inc("i1", "2024-02-01T08:30:00Z", "2024-02-01T09:30:00Z")),  # d2, 1 h
    "builds.csv": builds(
        bld("b1", "2024-02-01T00:00:00Z", "2024-02-01T00:05:00Z"),
        bld("b2", "2024-02-01T01:00:00Z", "2024-02-01T01:10:00Z", status="failure"),
    ),
}


def as_jsonl(csv_text: str) -> str:
    """The same records as JSON Lines; blank values left out, booleans as JSON booleans."""
    header, *lines = csv_text.strip().split("\n")
    names = header.split(",")
    out = []
    for line in lines:
        record = {}
        for name, value in zip(names, line.split(","), strict=True):
            if value in ("true", "false"):
                record[name] = value == "true"
            elif value:
                record[name] = value
        out.append(json.dumps(record))
    return "\n".join(out) + "\n"


KPI_TABLE = (
    "select month, scope_type, scope, kpi_id, value, sample_size, tier, target, target_met "
    "from marts.kpi_monthly order by all"
)


def test_jsonl_input_gives_the_same_kpis_as_csv(tmp_path):
    from_csv = build_warehouse(tmp_path, CSV_FILES, name="csv")
    jsonl_files = {name.replace(".csv", ".jsonl"): as_jsonl(text) for name, text in CSV_FILES.items()}
    jsonl_files["services.jsonl"] = (
        '{"service": "api", "team": "payments"}\n{"service": "web", "team": "payments"}\n'
        '{"service": "indexer", "team": "search"}\n'
    )
    from_jsonl = build_warehouse(tmp_path, jsonl_files, name="jsonl")
    csv_rows, jsonl_rows = query(from_csv, KPI_TABLE), query(from_jsonl, KPI_TABLE)
    assert csv_rows == jsonl_rows
    assert query(from_jsonl, "select count(*) as n from ops.quarantine") == [{"n": 0}]
    # Rates are fractions: no ratio outside [0, 1] at any month and scope.
    [bad] = query(
        from_jsonl,
        "select count(*) as n from marts.kpi_monthly where unit = 'ratio' and value not between 0 and 1",
    )
    assert bad == {"n": 0}
    # And the numbers are the expected ones. January: d1 only; d1 is followed by d2 (no rollback)
    # and no incident -> CFR 0/1; c1 lead time 20:00 -> 23:00 = 3 h.
    assert kpi(from_jsonl, "deployment_frequency", "2024-01")["value"] == 1
    assert kpi(from_jsonl, "lead_time_for_changes_p50_hours", "2024-01")["value"] == 3.0
    # February: d2 (08:00 UTC) and d3. d2 failed (i1 8:30 within the window, and d3 is a rollback)
    # -> CFR 1/2; recovered at the earlier of d3's finish (09:00, 1 h) and i1's resolution (09:30)
    # -> 1 h. Rework: d3 rollback; d2 is a hotfix made before i1 (no incident before it): 1/2.
    # Success rate: d2, d3 success, d4 failure -> 2/3.
    assert kpi(from_jsonl, "change_failure_rate", "2024-02")["value"] == 0.5
    assert kpi(from_jsonl, "failed_deployment_recovery_time_p50_hours", "2024-02")["value"] == 1.0
    assert kpi(from_jsonl, "rework_rate", "2024-02")["value"] == 0.5
    assert kpi(from_jsonl, "deployment_success_rate", "2024-02")["value"] == pytest.approx(2 / 3)
    # CI: b1 success, b2 failure -> 1/2; durations 300 s and 600 s -> median 450 s.
    assert kpi(from_jsonl, "ci_pipeline_success_rate", "2024-02")["value"] == 0.5
    assert kpi(from_jsonl, "build_duration_p50_sec", "2024-02")["value"] == 450.0


def test_loading_the_same_files_twice_gives_the_same_warehouse(tmp_path):
    files = dict(CSV_FILES)
    files["deployments.csv"] += "d9,api,prod,exploded,,2024-02-03T00:00:00Z,,\n"  # a quarantined row too
    first = build_warehouse(tmp_path, files)
    tables = [
        (r["table_schema"], r["table_name"])
        for r in query(
            first,
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw', 'staging', 'core', 'marts', 'ops') order by all",
        )
    ]
    assert ("marts", "kpi_monthly") in tables and ("ops", "quarantine") in tables

    def snapshot(wh):
        with read_connection(wh) as con:
            return {t: con.execute(f"select * from {t[0]}.{t[1]} order by all").fetchall() for t in tables}

    before = snapshot(first)
    again = build_warehouse(tmp_path, files)  # same files, same warehouse file
    assert again == first
    after = snapshot(again)
    assert after == before
    assert len(after[("raw", "files__deployments")]) == 5  # not 10
    assert len(after[("ops", "quarantine")]) == 1


def test_missing_required_column_is_an_error_naming_file_and_column(tmp_path):
    csv_without_status = "deployment_id,service,environment,finished_at\nd1,api,prod,2024-01-02T00:00:00Z\n"
    with pytest.raises(PipelineFailed, match=r"deployments\.csv.*'status'"):
        build_warehouse(tmp_path, {"deployments.csv": csv_without_status}, name="csv")
    jsonl_without_created = '{"incident_id": "i1", "service": "api"}\n'
    with pytest.raises(PipelineFailed, match=r"incidents\.jsonl.*'created_at'"):
        build_warehouse(tmp_path, {"incidents.jsonl": jsonl_without_created}, name="jsonl")


def test_header_case_optional_columns_and_status_spellings(warehouse_of):
    wh = warehouse_of(
        {
            # Header in another case, optional columns absent, values padded with spaces.
            "deployments.csv": (
                "Deployment_ID,SERVICE,Environment,Status,Finished_At\n"
                "d1, api , Production , Succeeded ,2024-01-02T00:00:00Z\n"
                "d2,api,prod-eu,CANCELLED,2024-01-03T00:00:00Z\n"
                "d3,api,prod,failed,2024-01-04T00:00:00Z\n"
            ),
        }
    )
    rows = query(
        wh,
        "select deployment_id, service, is_production, status, original_status, is_rollback "
        "from core.deployments order by deployment_id",
    )
    assert [
        (r["service"], r["is_production"], r["status"], r["original_status"], r["is_rollback"]) for r in rows
    ] == [
        ("api", True, "SUCCESS", "Succeeded", False),
        ("api", True, "CANCELED", "CANCELLED", False),
        ("api", True, "FAILURE", "failed", False),
    ]
    # 1 success, 1 failure (the canceled one excluded) -> 1/2.
    assert kpi(wh, "deployment_success_rate", "2024-01")["value"] == 0.5


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_line_numbers_survive_blank_lines_and_broken_lines(warehouse_of, newline):
    lines = [
        "deployment_id,service,environment,status,finished_at",  # line 1: header
        "d1,api,prod,success,2024-01-02T00:00:00Z",  # line 2
        "",  # line 3: blank
        "",  # line 4: blank
        "d2,api,prod,success,2024-01-03T00:00:00Z,extra",  # line 5: too many fields
        "d3,api,prod,exploded,2024-01-04T00:00:00Z",  # line 6: unknown status
        "",  # line 7: blank
        "d4,api,prod,success,2024-01-05T00:00:00Z",  # line 8
        "d5,api,prod,success,someday",  # line 9: not a time
        "d6,api,prod,success,2024-01-06T00:00:00Z",  # line 10
    ]
    wh = warehouse_of({"deployments.csv": newline.join(lines) + newline})
    got = query(wh, "select line, record_key, reason, record from ops.quarantine order by line")
    assert [(r["line"], r["record_key"]) for r in got] == [(5, "d2"), (6, "d3"), (9, "d5")]
    assert got[0]["reason"] == "has 6 fields; the header has 5"
    assert got[0]["record"].strip() == "d2,api,prod,success,2024-01-03T00:00:00Z,extra"
    assert got[1]["reason"] == "unknown status exploded"
    assert got[2]["reason"] == "finished_at someday is not an ISO-8601 time"
    kept = query(
        wh,
        "select deployment_key, _line from staging.stg_files__deployments "
        "where quarantine_reason is null order by _line",
    )
    assert [(r["deployment_key"], r["_line"]) for r in kept] == [("d1", 2), ("d4", 8), ("d6", 10)]
    # d1, d4, d6 are the successful production deployments of January: 3.
    assert kpi(wh, "deployment_frequency", "2024-01")["value"] == 3


def test_csv_and_jsonl_of_one_entity_are_read_together(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-01-02T00:00:00Z"),  # deployments.csv line 2
                dep("d2", "2024-01-03T00:00:00Z"),  # deployments.csv line 3
            ),
            "deployments.jsonl": (
                # line 1: d2 again -> duplicate (the CSV's row, first by file name, is kept)
                '{"deployment_id": "d2", "service": "api", "environment": "prod", "status": "success",'
                ' "finished_at": "2024-01-04T00:00:00Z"}\n'
                # line 2: d3, new
                '{"deployment_id": "d3", "service": "api", "environment": "prod", "status": "success",'
                ' "finished_at": "2024-01-05T00:00:00Z", "is_rollback": true}\n'
            ),
        }
    )
    got = query(wh, "select file, line, reason from ops.quarantine")
    assert got == [{"file": "deployments.jsonl", "line": 1, "reason": "duplicate deployment_id d2"}]
    # d1, d2 (CSV) and d3 (JSONL): 3 deployments; d3 rolls d2 back -> 1 rollback, CFR 1/3.
    assert kpi(wh, "deployment_frequency", "2024-01")["value"] == 3
    assert kpi(wh, "rollback_frequency", "2024-01")["value"] == 1
    assert kpi(wh, "change_failure_rate", "2024-01")["value"] == pytest.approx(1 / 3)


def test_a_rerun_reflects_the_files_as_they_are_now(tmp_path):
    two = {
        "deployments.csv": deployments(dep("d1", "2024-01-02T00:00:00Z"), dep("d2", "2024-01-03T00:00:00Z"))
    }
    wh = build_warehouse(tmp_path, two)
    assert kpi(wh, "deployment_frequency", "2024-01")["value"] == 2
    # d2 removed from the file: the re-run counts d1 only (raw tables are snapshots, not appends).
    one = {"deployments.csv": deployments(dep("d1", "2024-01-02T00:00:00Z"))}
    wh = build_warehouse(tmp_path, one)
    assert kpi(wh, "deployment_frequency", "2024-01")["value"] == 1
