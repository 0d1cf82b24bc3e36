"""The bad-input corpus: each broken file loads every good record it holds, puts every bad one in
ops.quarantine with its file, line and true reason, and adds up in ops.file_accounting (records read =
loaded + quarantined; lines = header + blank + lines of records).

Line numbers are the file's physical lines: in a CSV the header is line 1; in JSON Lines the first
record is line 1. Services come from tests.conftest.DEFAULT_SERVICES (api, web, indexer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from tests.conftest import query
from tests.imports.conftest import accounting, kept, quarantined

H = "deployment_id,service,environment,status,finished_at"


def row(deployment_id: str, day: int = 2, *, status: str = "success", finished_at: str | None = None) -> str:
    return f"{deployment_id},api,prod,{status},{finished_at or f'2024-01-{day:02d}T00:00:00Z'}"


def csv(*lines: str, newline: str = "\n") -> str:
    return newline.join((H, *lines)) + newline


def obj(deployment_id: str, day: int = 2, **extra) -> str:
    record = {
        "deployment_id": deployment_id,
        "service": "api",
        "environment": "prod",
        "status": "success",
        "finished_at": f"2024-01-{day:02d}T00:00:00Z",
    }
    record.update(extra)
    return json.dumps(record)


@dataclass
class Case:
    id: str
    files: dict[str, str | bytes]
    quarantine: list[tuple[int, str]]  # (line, text the reason contains) in the deployments file
    kept: list[tuple[str, int]]  # (deployment id, line) of the loaded rows
    file: str = "deployments.csv"
    accounting: dict = field(default_factory=dict)  # expected values of the file's accounting row


CASES = [
    Case(
        "stray quote near the top",
        {"deployments.csv": csv(row("d1"), '"' + row("d2", 3), row("d3", 4), row("d4", 5))},
        [(3, 'a quote (") opens a field on this line and never closes')],
        [("d1", 2), ("d3", 4), ("d4", 5)],
    ),
    Case(
        "stray quote near the end",
        {
            "deployments.csv": csv(
                row("d1"),
                row("d2", 3),
                row("d3", 4),
                'd4,api,prod,"success,2024-01-05T00:00:00Z',
                row("d5", 6),
            )
        },
        [(5, "never closes")],
        [("d1", 2), ("d2", 3), ("d3", 4), ("d5", 6)],
    ),
    Case(
        "two stray quotes: the rows between them are kept",
        {
            "deployments.csv": csv(
                row("d1"),
                '"' + row("d2", 3),
                row("d3", 4),
                row("d4", 5),
                'd5,api,prod,success",2024-01-06T00:00:00Z',
                row("d6", 7),
            )
        },
        [(3, "runs on to line 6 and gives 2 fields instead of 5"), (6, 'unknown status success"')],
        [("d1", 2), ("d3", 4), ("d4", 5), ("d6", 7)],
    ),
    Case(
        "a quoted field spanning lines in a column the entity does not use",
        {
            "deployments.csv": H
            + ",notes\n"
            + row("d1")
            + ",plain\n"
            + row("d2", 3)
            + ',"line one\nline two, with a comma"\n'
            + row("d3", 5)
            + ",\n"
        },
        [],
        [("d1", 2), ("d2", 3), ("d3", 5)],
        accounting={"lines": 5, "continuation_lines": 1, "records": 3, "ignored_columns": ["notes"]},
    ),
    Case(
        "a quoted line break inside an id, service, status or time column",
        {"deployments.csv": csv(row("d1"), 'd2,api,prod,"suc\ncess",2024-01-03T00:00:00Z', row("d3", 5))},
        [(3, "putting a line break into status"), (4, "has 2 field(s); the header has 5")],
        [("d1", 2), ("d3", 5)],
    ),
    Case(
        "a column name repeated among the columns no entity uses",
        {"deployments.csv": H + ",note,note\n" + row("d1") + ",a,b\n"},
        [],
        [("d1", 2)],
        accounting={"ignored_columns": ["note", "note"]},
    ),
    Case(
        "empty file",
        {"deployments.csv": ""},
        [],
        [],
        accounting={"status": "empty", "records": 0, "lines": 0, "note": "empty file (not even a header)"},
    ),
    Case(
        "header only",
        {"deployments.csv": H + "\n"},
        [],
        [],
        accounting={"status": "read", "records": 0, "lines": 1, "note": "header only: no records"},
    ),
    Case("byte order mark", {"deployments.csv": "\ufeff" + csv(row("d1"))}, [], [("d1", 2)]),
    Case(
        "CRLF line endings, blank lines and a line of spaces",
        {"deployments.csv": csv(row("d1"), "", row("d2", 3), "   ", "", row("d3", 4), newline="\r\n")},
        [],
        [("d1", 2), ("d2", 4), ("d3", 7)],
        accounting={"blank_lines": 3, "records": 3, "lines": 7},
    ),
    Case(
        "a line that is not UTF-8",
        {
            "deployments.csv": csv(row("d1")).encode()
            + "d2,api,caf\xe9,success,2024-01-03T00:00:00Z\n".encode("latin-1")
            + (row("d3", 4) + "\n").encode()
        },
        [(3, "not UTF-8 text (byte 0xE9 at byte 11 of the line): re-save the file as UTF-8")],
        [("d1", 2), ("d3", 4)],
    ),
    Case(
        "columns no entity uses",
        {"deployments.csv": H + ",owner,Notes\n" + row("d1") + ",ann,x\n"},
        [],
        [("d1", 2)],
        accounting={"ignored_columns": ["owner", "Notes"]},
    ),
    Case(
        "odd timestamp forms",
        {
            "deployments.csv": csv(
                row("d1", finished_at="2024-01-02 00:00:00"),  # 2: space separator: ISO-8601 allows it
                row("d2", finished_at="2024-01-02"),  # 3: a date: midnight UTC
                row("d3", finished_at="2024-01-02T05:30:00+05:30"),  # 4: offset: 00:00 UTC
                row("d4", finished_at="1704153600"),  # 5: epoch seconds
                row("d5", finished_at="infinity"),  # 6
                row("d6", finished_at="2024-02-30T00:00:00Z"),  # 7: no such day
                row("d7", finished_at="epoch"),  # 8: DuckDB's word for 1970-01-01
                row("d8", finished_at="2024-01-02T00:00:00.123456789Z"),  # 9: nanoseconds
                row("d9", finished_at="02/01/2024"),  # 10: not ISO-8601
            )
        },
        [
            (5, "finished_at 1704153600 is not an ISO-8601 time"),
            (6, "finished_at infinity is not an ISO-8601 time"),
            (7, "finished_at 2024-02-30T00:00:00Z is not an ISO-8601 time"),
            (8, "finished_at 1970-01-01 00:00:00 is before 2000-01-01 (earliest_event_date)"),
            (10, "finished_at 02/01/2024 is not an ISO-8601 time"),
        ],
        [("d1", 2), ("d2", 3), ("d3", 4), ("d8", 9)],
    ),
    Case(
        "SQL metacharacters and unicode in ids",
        {
            "deployments.csv": csv(
                row("d'1; drop table raw.files__deployments; --"),
                row("dépl-ü-🚀", 3),
                '"d,3",api,prod,success,2024-01-04T00:00:00Z',
                row("dépl-ü-🚀", 5),
            )
        },
        [(5, "duplicate deployment_id dépl-ü-🚀")],
        [("d'1; drop table raw.files__deployments; --", 2), ("dépl-ü-🚀", 3), ("d,3", 4)],
    ),
    Case(
        "a line of 50,000 fields",
        {"deployments.csv": csv(row("d1"), ",".join(["x"] * 50_000), row("d2", 4))},
        [(3, "has 50,000 fields; the header has 5")],
        [("d1", 2), ("d2", 4)],
        accounting={"repaired": True},
    ),
    Case(
        "a 5 MB field",
        {"deployments.csv": csv(row("d1"), row("d2", 3, status="x" * 5_000_000), row("d3", 4))},
        [(3, "the record is 5,000,033 bytes, over the 2,000,000-byte limit")],
        [("d1", 2), ("d3", 4)],
    ),
    Case(
        "a blank required time",
        {"deployments.csv": csv(row("d1"), "d2,api,prod,success,", row("d3", 4))},
        [(3, "finished_at is blank")],
        [("d1", 2), ("d3", 4)],
    ),
    Case(
        "a NUL byte",
        {"deployments.csv": csv(row("d1"), "d2,api,pr\x00od,success,2024-01-03T00:00:00Z", row("d3", 4))},
        [(3, "contains a NUL byte (0x00)")],
        [("d1", 2), ("d3", 4)],
    ),
    Case(
        "a carriage return inside a line",
        {"deployments.csv": csv(row("d1"), "d2,api,prod\rx,success,2024-01-03T00:00:00Z", row("d3", 4))},
        [(3, "contains a carriage return (\\r) inside the line")],
        [("d1", 2), ("d3", 4)],
    ),
    Case(
        "wrong number of fields",
        {"deployments.csv": csv(row("d1"), row("d2", 3) + ",extra", "d3,api,prod", row("d4", 5))},
        [(3, "has 6 fields; the header has 5"), (4, "has 3 field(s); the header has 5")],
        [("d1", 2), ("d4", 5)],
    ),
    # JSON Lines
    Case(
        "JSON Lines: a control character inside a string",
        {
            "deployments.jsonl": "\n".join(
                [obj("d1"), obj("d2", 3, status="suc!cess").replace("!", "\x01"), obj("d3", 4)]
            )
            + "\n"
        },
        [(2, "not valid JSON: Malformed JSON at byte")],
        [("d1", 1), ("d3", 3)],
        file="deployments.jsonl",
    ),
    Case(
        "JSON Lines: a line over 2 MB",
        {
            "deployments.jsonl": "\n".join([obj("d1"), obj("d2", 3, notes="x" * 2_100_000), obj("d3", 4)])
            + "\n"
        },
        [(2, "over the 2,000,000-byte limit")],
        [("d1", 1), ("d3", 3)],
        file="deployments.jsonl",
    ),
    Case(
        "JSON Lines: capitalised keys",
        {
            "deployments.jsonl": json.dumps(
                {
                    "Deployment_ID": "d1",
                    "Service": "api",
                    "ENVIRONMENT": "prod",
                    "Status": "success",
                    "Finished_At": "2024-01-02T00:00:00Z",
                }
            )
            + "\n"
        },
        [],
        [("d1", 1)],
        file="deployments.jsonl",
    ),
    Case(
        "JSON Lines: one field under two spellings in one record",
        {"deployments.jsonl": "\n".join([obj("d1"), obj("d2", 3, Status="failure"), obj("d3", 4)]) + "\n"},
        [(2, "keys differing only in case name one field (Status and status both name status)")],
        [("d1", 1), ("d3", 3)],
        file="deployments.jsonl",
    ),
    Case(
        "JSON Lines: not JSON, not an object, a unit separator, blank lines, a bad time",
        {
            "deployments.jsonl": "\n".join(
                [
                    obj("d1"),
                    "{not json",
                    '["a", "list"]',
                    "",
                    obj("d2", 3).replace("prod", "pr\x1fod"),
                    "   ",
                    obj("d3", finished_at="later"),
                    obj("d4", 5),
                ]
            )
            + "\n"
        },
        [
            (2, "not valid JSON"),
            (3, "not a JSON object (a JSON array; one object per line)"),
            (5, "control character U+001F"),
            (7, "finished_at later is not an ISO-8601 time"),
        ],
        [("d1", 1), ("d4", 8)],
        file="deployments.jsonl",
        accounting={"blank_lines": 2, "records": 6, "lines": 8},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_corpus(imported, case: Case) -> None:
    wh = imported(case.files)
    got = [(line, reason) for file, line, _key, reason in quarantined(wh) if file == case.file]
    assert [line for line, _ in got] == [line for line, _ in case.quarantine], got
    for (line, reason), (_, expected) in zip(got, case.quarantine, strict=True):
        assert expected in reason, (line, reason)
    assert kept(wh) == case.kept
    books = accounting(wh)
    # Every file adds up: records read = loaded + quarantined, lines = header + blank + record lines.
    for entry in books.values():
        assert entry["lines_balanced"] and entry["records_balanced"], entry
    entry = books[case.file]
    assert entry["loaded"] == len(case.kept)
    assert entry["quarantined"] == len(case.quarantine)
    assert entry["records"] == len(case.kept) + len(case.quarantine)
    for column, value in case.accounting.items():
        assert entry[column] == value, (column, entry)


def test_the_reason_and_key_of_a_line_that_is_not_a_record(imported) -> None:
    wh = imported({"deployments.csv": csv(row("d1"), '"' + row("d2", 3), row("d3", 4) + ",extra")})
    assert quarantined(wh) == [
        (
            "deployments.csv",
            3,
            "d2",
            'a quote (") opens a field on this line and never closes: quote the whole '
            'field and double every quote inside it ("")',
        ),
        ("deployments.csv", 4, "d3", "has 6 fields; the header has 5"),
    ]
    [record] = query(wh, "select record from ops.quarantine where line = 3")
    assert record["record"] == '"' + row("d2", 3)
