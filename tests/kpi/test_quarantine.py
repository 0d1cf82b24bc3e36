"""Golden tests: bad rows go to ops.quarantine with file, line and reason, every good row is kept and
the KPIs count exactly the good rows.

Line numbers are the file's physical lines: in a CSV the header is line 1; in JSON Lines the first
record is line 1.
"""

from __future__ import annotations

from tests.conftest import bld, builds, changes, chg, dep, deployments, inc, incidents, kpi, query


def quarantine(wh) -> list[tuple[str, str, int, str]]:
    rows = query(wh, "select entity, file, line, reason from ops.quarantine order by entity, file, line")
    return [(r["entity"], r["file"], r["line"], r["reason"]) for r in rows]


def test_bad_deployments_are_quarantined_with_line_and_reason(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-01-02T00:00:00Z"),  # line 2: good
                dep("d2", "yesterday"),  # line 3: unparseable time
                dep("d3", "2024-01-03T00:00:00Z", status="exploded"),  # line 4: unknown status
                dep(
                    "d4", "2024-01-04T00:00:00Z", started_at="2024-01-04T01:00:00Z"
                ),  # line 5: finish < start
                dep("d1", "2024-01-05T00:00:00Z"),  # line 6: duplicate id (the first one is kept)
                dep("d5", "2024-01-06T00:00:00Z", service="ghost"),  # line 7: unknown service
                dep("d6", "2024-01-07T00:00:00+01:00"),  # line 8: good
                dep("d7", "2024-01-08T00:00:00Z") + ",extra,fields",  # line 9: too many fields
                dep("d8", "2024-01-09T00:00:00Z"),  # line 10: good, after the broken line
            )
        }
    )
    got = quarantine(wh)
    assert [(e, f, line) for e, f, line, _ in got] == [
        ("deployments", "deployments.csv", n) for n in (3, 4, 5, 6, 7, 9)
    ]
    reasons = {line: reason for _, _, line, reason in got}
    assert reasons[3] == "finished_at yesterday is not an ISO-8601 time"
    assert reasons[4] == "unknown status exploded"
    assert reasons[5] == "finished_at is before started_at"
    assert reasons[6] == "duplicate deployment_id d1"
    assert reasons[7] == "unknown service ghost (not in services)"
    assert reasons[9] == "has 10 fields; the header has 8"
    # Every good row is kept, with its own line.
    kept = query(
        wh,
        "select deployment_key, _line from staging.stg_files__deployments where quarantine_reason is null "
        "order by _line",
    )
    assert [(r["deployment_key"], r["_line"]) for r in kept] == [("d1", 2), ("d6", 8), ("d8", 10)]
    # The KPI counts exactly the good rows: d1, d6, d8 = 3 (the duplicate d1 is not counted twice).
    assert kpi(wh, "deployment_frequency", "2024-01")["value"] == 3
    # The duplicate keeps its key so it can be found again.
    [dup] = query(wh, "select record_key from ops.quarantine where line = 6")
    assert dup["record_key"] == "d1"


def test_bad_incidents_changes_and_builds_are_quarantined(warehouse_of):
    wh = warehouse_of(
        {
            "deployments.csv": deployments(
                dep("d1", "2024-01-02T00:00:00Z"),
                dep("d2", "2024-01-03T00:00:00Z", status="unknown-status"),  # line 3: quarantined
            ),
            "incidents.csv": incidents(
                inc("i1", "2024-01-02T01:00:00Z", "2024-01-02T03:00:00Z"),  # line 2: good, window-links d1
                inc("i2", "2024-01-02T01:00:00Z", "soon"),  # line 3: unparseable resolved_at
                inc("i3", "2024-01-02T05:00:00Z", "2024-01-02T04:00:00Z"),  # line 4: resolved < created
                inc("i4", "2024-01-02T06:00:00Z", cause="d404"),  # line 5: names no deployment
                inc("i5", "2024-01-02T07:00:00Z", cause="d2"),  # line 6: names a quarantined deployment
            ),
            "changes.csv": changes(
                chg("c1", "2024-01-01T00:00:00Z", "2024-01-01T12:00:00Z"),  # line 2: good
                chg("c2", "2024-01-01T12:00:00Z", "2024-01-01T00:00:00Z"),  # line 3: merged < first commit
                chg("c3", "2024-01-01T00:00:00Z", ""),  # line 4: merged_at blank
            ),
            "builds.csv": builds(
                bld("b1", "2024-01-02T00:00:00Z", "2024-01-02T00:10:00Z"),  # line 2: good
                bld("b2", "2024-01-02T00:00:00Z", "2024-01-02T00:10:00Z", status="exploded"),  # line 3
                bld("b3", "2024-01-02T00:10:00Z", "2024-01-02T00:00:00Z"),  # line 4: finish < start
                bld("b1", "2024-01-02T00:00:00Z", "2024-01-02T00:10:00Z"),  # line 5: duplicate
            ),
        }
    )
    got = quarantine(wh)
    assert got == [
        ("builds", "builds.csv", 3, "unknown status exploded"),
        ("builds", "builds.csv", 4, "finished_at is before started_at"),
        ("builds", "builds.csv", 5, "duplicate build_id b1"),
        ("changes", "changes.csv", 3, "merged_at is before first_commit_at"),
        ("changes", "changes.csv", 4, "merged_at is blank"),
        ("deployments", "deployments.csv", 3, "unknown status unknown-status"),
        ("incidents", "incidents.csv", 3, "resolved_at soon is not an ISO-8601 time"),
        ("incidents", "incidents.csv", 4, "resolved_at is before created_at"),
        ("incidents", "incidents.csv", 5, "caused_by_deployment_id d404 is not a valid deployment"),
        ("incidents", "incidents.csv", 6, "caused_by_deployment_id d2 is not a valid deployment"),
    ]
    # KPIs from the good rows only: d1 failed through i1 (window) -> CFR 1/1; MTTR = i1's 2 h.
    assert kpi(wh, "change_failure_rate", "2024-01")["value"] == 1.0
    mttr = kpi(wh, "mttr_hours", "2024-01")
    assert (mttr["value"], mttr["sample_size"]) == (2.0, 1)
    # c1 shipped by d1: 2024-01-01 00:00 -> 2024-01-02 00:00 = 24 h; the only lead time.
    lt = kpi(wh, "lead_time_for_changes_p50_hours", "2024-01")
    assert (lt["value"], lt["sample_size"]) == (24.0, 1)
    # b1 only: CI success 1/1, duration 600 s.
    assert kpi(wh, "ci_pipeline_success_rate", "2024-01")["sample_size"] == 1
    assert kpi(wh, "build_duration_p50_sec", "2024-01")["value"] == 600.0


def test_duplicate_service_and_rows_of_a_quarantined_service(warehouse_of):
    wh = warehouse_of(
        {
            "services.csv": "service,team\napi,payments\napi,search\nweb,\n",
            "deployments.csv": deployments(
                dep("d1", "2024-01-02T00:00:00Z"),
                dep("d2", "2024-01-03T00:00:00Z", service="web"),
            ),
        }
    )
    got = quarantine(wh)
    assert ("services", "services.csv", 3, "duplicate service api") in got
    assert ("services", "services.csv", 4, "team is blank") in got
    # web is not a valid service, so its deployment is quarantined too.
    assert ("deployments", "deployments.csv", 3, "unknown service web (not in services)") in got
    # api stays with its first team.
    assert kpi(wh, "deployment_frequency", "2024-01", "team", "payments")["value"] == 1
    teams = query(wh, "select distinct scope from marts.kpi_monthly where scope_type = 'team'")
    assert [r["scope"] for r in teams] == ["payments"]


def test_jsonl_line_that_is_not_json_is_reported_and_others_load(warehouse_of):
    wh = warehouse_of(
        {
            "incidents.jsonl": "\n".join(
                [
                    '{"incident_id": "i1", "service": "api", "created_at": "2024-01-02T00:00:00Z",'
                    ' "resolved_at": "2024-01-02T01:00:00Z"}',  # line 1: good, 1 h
                    "{not json",  # line 2
                    '["a", "list"]',  # line 3: JSON but not an object
                    '{"incident_id": "i2", "service": "api", "created_at": "2024-01-03T00:00:00Z",'
                    ' "resolved_at": "2024-01-03T03:00:00Z"}',  # line 4: good, 3 h
                    '{"incident_id": "i3", "service": "api", "created_at": "2024-01-04T00:00:00Z",'
                    ' "resolved_at": "later"}',  # line 5: bad time
                ]
            )
            + "\n"
        }
    )
    assert quarantine(wh) == [
        (
            "incidents",
            "incidents.jsonl",
            2,
            "not valid JSON: Malformed JSON at byte 1 of input: unexpected character.",
        ),
        ("incidents", "incidents.jsonl", 3, "not a JSON object (a JSON array; one object per line)"),
        ("incidents", "incidents.jsonl", 5, "resolved_at later is not an ISO-8601 time"),
    ]
    # i1 and i2: mean of 1 h and 3 h = 2 h.
    mttr = kpi(wh, "mttr_hours", "2024-01")
    assert (mttr["value"], mttr["sample_size"]) == (2.0, 2)


def test_duplicate_change_and_incident_ids_keep_the_first_row(warehouse_of):
    """Every row after an id's first (by file and line) is a duplicate, however many repeats there are;
    a change naming a deployment that does not exist is quarantined too."""
    wh = warehouse_of(
        {
            "deployments.csv": deployments(dep("d1", "2024-01-02T00:00:00Z")),
            "incidents.csv": incidents(
                inc("i1", "2024-01-03T00:00:00Z", "2024-01-03T01:00:00Z"),  # line 2: kept (1 h)
                inc("i2", "2024-01-03T00:00:00Z", "2024-01-03T03:00:00Z"),  # line 3: good (3 h)
                inc("i1", "2024-01-04T00:00:00Z", "2024-01-04T09:00:00Z"),  # line 4: duplicate
                inc("i1", "2024-01-05T00:00:00Z", "2024-01-05T09:00:00Z"),  # line 5: duplicate again
            ),
            "changes.csv": changes(
                chg("c1", "2024-01-01T00:00:00Z", "2024-01-01T12:00:00Z"),  # line 2: kept, shipped by d1
                chg("c1", "2023-12-01T00:00:00Z", "2024-01-01T12:00:00Z"),  # line 3: duplicate
                chg("c2", "2024-01-01T00:00:00Z", "2024-01-01T12:00:00Z", deployment_id="d9"),  # line 4
            ),
        }
    )
    assert quarantine(wh) == [
        ("changes", "changes.csv", 3, "duplicate change_id c1"),
        ("changes", "changes.csv", 4, "deployment_id d9 is not a valid deployment"),
        ("incidents", "incidents.csv", 4, "duplicate incident_id i1"),
        ("incidents", "incidents.csv", 5, "duplicate incident_id i1"),
    ]
    # MTTR over the kept rows only: (1 h + 3 h) / 2 = 2 h; the duplicates' 9 h never count.
    mttr = kpi(wh, "mttr_hours", "2024-01")
    assert (mttr["value"], mttr["sample_size"]) == (2.0, 2)
    # The first c1 (first commit 2024-01-01 00:00, deployed by d1 at 2024-01-02 00:00) = 24 h, not the
    # duplicate's 32 days.
    lt = kpi(wh, "lead_time_for_changes_p50_hours", "2024-01")
    assert (lt["value"], lt["sample_size"]) == (24.0, 1)
