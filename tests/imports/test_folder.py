"""The input folder and whole files: an entity file that cannot be used is an error naming the file and
what to do; one that is missing, mis-cased or not an entity file is never passed over in silence."""

from __future__ import annotations

import os

import pytest

from connectors.files import SourceFileError
from tests.imports.conftest import accounting, import_folder, kept, write_folder

H = "deployment_id,service,environment,status,finished_at"
DEPLOYMENTS = H + "\nd1,api,prod,success,2024-01-02T00:00:00Z\nd2,api,prod,success,2024-01-03T00:00:00Z\n"


def test_a_missing_entity_file_is_listed_as_missing(tmp_path):
    wh = import_folder(write_folder(tmp_path / "f", {"deployments.csv": DEPLOYMENTS}), tmp_path / "w.duckdb")
    books = accounting(wh)
    assert books["incidents"]["status"] == "missing"
    assert books["incidents"]["note"] == "no incidents.csv or incidents.jsonl in the folder"
    assert books["deployments.csv"]["loaded"] == 2


def test_a_mis_cased_entity_file_is_read_and_said_so(tmp_path):
    wh = import_folder(write_folder(tmp_path / "f", {"Deployments.CSV": DEPLOYMENTS}), tmp_path / "w.duckdb")
    assert kept(wh) == [("d1", 2), ("d2", 3)]
    entry = accounting(wh)["Deployments.CSV"]
    assert (entry["status"], entry["note"], entry["loaded"]) == ("read", "read as deployments.csv", 2)


def test_files_no_entity_reads_are_listed(tmp_path):
    wh = import_folder(
        write_folder(tmp_path / "f", {"deployments.csv": DEPLOYMENTS, "deploys.csv": DEPLOYMENTS}),
        tmp_path / "w.duckdb",
    )
    entry = accounting(wh)["deploys.csv"]
    assert entry["status"] == "ignored" and entry["entity"] is None
    assert entry["note"].startswith(
        "not an entity file name (expected services.csv/.jsonl, deployments.csv/.jsonl"
    )


def _fails(tmp_path, setup, match: str) -> None:
    folder = write_folder(tmp_path / "f", {})
    setup(folder)
    with pytest.raises(SourceFileError, match=match):
        import_folder(folder, tmp_path / "w.duckdb")


def test_two_files_for_one_entity_file_name(tmp_path):
    def setup(folder):
        (folder / "deployments.csv").write_text(DEPLOYMENTS)
        (folder / "Deployments.csv").write_text(DEPLOYMENTS)

    _fails(
        tmp_path,
        setup,
        r"holds Deployments\.csv and deployments\.csv; both would be read as deployments\.csv",
    )


def test_an_entity_file_that_is_a_folder(tmp_path):
    _fails(
        tmp_path,
        lambda f: (f / "deployments.csv").mkdir(),
        r"deployments\.csv is a folder, not a file; put the records in a file of that name",
    )


def test_an_entity_file_that_is_a_symlink_loop(tmp_path):
    def setup(folder):
        os.symlink(folder / "incidents.csv", folder / "deployments.csv")
        os.symlink(folder / "deployments.csv", folder / "incidents.csv")

    _fails(tmp_path, setup, r"deployments\.csv is a symbolic link that cannot be followed \(Too many levels")


def test_an_entity_file_that_is_a_dangling_symlink(tmp_path):
    _fails(
        tmp_path,
        lambda f: os.symlink(f / "gone.csv", f / "deployments.csv"),
        r"deployments\.csv is a symbolic link that cannot be followed \(No such file",
    )


def test_a_repeated_entity_column_is_an_error_naming_file_and_column(tmp_path):
    # Two finished_at columns: which one is the deployment's time cannot be guessed, so nothing is loaded.
    header = "deployment_id,service,environment,status,finished_at,Finished_At"
    _fails(
        tmp_path,
        lambda f: (f / "deployments.csv").write_text(
            header + "\nd1,api,prod,success,2024-01-02,2024-01-03\n"
        ),
        r"deployments\.csv line 1 \(the header\) names column 'finished_at' more than once: columns 5 "
        r"\('finished_at'\) and 6 \('Finished_At'\)\. Remove or rename",
    )


def test_a_header_that_is_not_utf8_is_an_error_naming_file_line_and_byte(tmp_path):
    header = "deployment_id,service,environment,status,finished_at,propriétaire".encode("latin-1")
    _fails(
        tmp_path,
        lambda f: (f / "deployments.csv").write_bytes(header + b"\nd1,api,prod,success,2024-01-02,x\n"),
        r"deployments\.csv line 1 \(the header\), byte 60: not UTF-8 text \(byte 0xE9\)\. "
        r"Re-save the file as UTF-8",
    )


def test_a_utf16_file_is_an_error_saying_so(tmp_path):
    _fails(
        tmp_path,
        lambda f: (f / "deployments.csv").write_bytes(DEPLOYMENTS.encode("utf-16")),
        r"deployments\.csv is UTF-16 text; re-save it as UTF-8",
    )


def test_jsonl_without_a_required_field_names_file_and_field(tmp_path):
    _fails(
        tmp_path,
        lambda f: (f / "incidents.jsonl").write_text('{"Incident_ID": "i1", "service": "api"}\n'),
        r"incidents\.jsonl is missing required field\(s\) 'created_at' in every record",
    )
