"""The row-drop rule: a run that would publish an entity with far fewer file rows than the published
warehouse stops (or, told to, says so and goes on); the counts come from ops.file_accounting."""

from __future__ import annotations

from platform_kpi.file_accounting import loaded_rows, row_drops, unbalanced_files
from platform_kpi.warehouse import read_connection
from tests.imports.conftest import import_folder, write_folder

H = "deployment_id,service,environment,status,finished_at"


def deployments(n: int, bad: int = 0) -> str:
    rows = [f"d{i},api,prod,success,2024-01-02T00:00:00Z" for i in range(n)]
    rows += [f"x{i},api,prod,exploded,2024-01-02T00:00:00Z" for i in range(bad)]
    return "\n".join([H, *rows]) + "\n"


def test_loaded_rows_count_what_reached_the_domain_tables(tmp_path):
    wh = import_folder(
        write_folder(tmp_path / "f", {"deployments.csv": deployments(10, bad=3)}), tmp_path / "w.duckdb"
    )
    with read_connection(wh) as con:
        # 3 services; 10 good deployments (the 3 with an unknown status are quarantined); no other entity.
        assert loaded_rows(con) == {
            "services": 3,
            "deployments": 10,
            "changes": 0,
            "incidents": 0,
            "builds": 0,
            "survey_responses": 0,
            "enablement_sessions": 0,
            "catalog_entities": 0,
            "ci_config_scans": 0,
            "docs_pages": 0,
            "alerts": 0,
        }
        assert unbalanced_files(con).ok


def test_a_drop_beyond_the_threshold_fails_and_says_what_to_do():
    found = row_drops({"deployments": 40, "builds": 100}, {"deployments": 100, "builds": 100}, 0.5)
    assert not found.ok
    assert found.messages[0] == (
        "deployments: 40 rows loaded, the published warehouse has 100 (60% fewer; row_drop_threshold is 50%)"
    )
    assert "--allow-row-drop" in found.messages[1]


def test_a_drop_within_the_threshold_an_allowed_drop_and_a_first_publish_pass():
    assert row_drops({"deployments": 50}, {"deployments": 100}, 0.5).ok  # exactly half: within
    allowed = row_drops({"deployments": 0}, {"deployments": 100}, 0.5, allowed=True)
    assert allowed.ok and allowed.messages[0].startswith("deployments: 0 rows loaded")
    assert row_drops({"deployments": 0}, None, 0.5).ok  # nothing published yet
    assert row_drops(None, {"deployments": 100}, 0.5).ok  # a run without a file import
    assert row_drops({"deployments": 0}, {"deployments": 100}, 1.0).ok  # the rule switched off
    assert not row_drops({"deployments": 99}, {"deployments": 100}, 0.0).ok  # any drop


def test_a_missing_entity_file_counts_as_zero_rows(tmp_path):
    before = import_folder(
        write_folder(tmp_path / "a", {"deployments.csv": deployments(10)}), tmp_path / "a.duckdb"
    )
    after = import_folder(write_folder(tmp_path / "b", {}), tmp_path / "b.duckdb")
    with read_connection(before) as con:
        previous = loaded_rows(con)
    with read_connection(after) as con:
        current = loaded_rows(con)
    found = row_drops(current, previous, 0.5)
    assert not found.ok and found.messages[0].startswith(
        "deployments: 0 rows loaded, the published warehouse has 10"
    )
