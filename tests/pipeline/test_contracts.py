"""The models' contract (sql/<layer>/_models.yml): every column a model produces is described and every
described column exists, the file's mistakes are named, and the declared tests catch bad data, down
to the blocking check of a Dagster run."""

import dataclasses
import shutil
from pathlib import Path

import dagster as dg
import pytest

from assets.resources import WarehouseResource
from assets.sources import SourcesResource
from pipelines.definitions import build_definitions
from platform_kpi.docs import render
from platform_kpi.models import Column, ContractError, contract_drift, discover_models
from platform_kpi.settings import SQL_DIR, work_path_for
from platform_kpi.validation import run_declared_tests
from platform_kpi.warehouse import read_connection, write_connection
from tests.conftest import bld, build_warehouse, builds, changes, chg, dep, deployments, inc, incidents

MODELS = discover_models()
BY_TABLE = {m.table: m for m in MODELS}

FILES = {
    "deployments.csv": deployments(
        dep("d1", "2026-01-10T10:00:00Z", started_at="2026-01-10T09:00:00Z"),
        dep("d2", "2026-01-12T10:00:00Z", rollback=True),
        dep("d3", "2026-01-12T11:00:00Z", environment="staging", service="web"),
    ),
    "changes.csv": changes(
        chg("c1", "2026-01-09T10:00:00Z", "2026-01-10T08:00:00Z", deployment_id="d1"),
        chg("c2", "2026-01-11T10:00:00Z", "2026-01-11T12:00:00Z"),
    ),
    "incidents.csv": incidents(
        inc("i1", "2026-01-10T11:00:00Z", "2026-01-10T12:00:00Z"),
        inc("i2", "2026-01-13T11:00:00Z", cause="d2"),
    ),
    "builds.csv": builds(bld("b1", "2026-01-10T08:00:00Z", "2026-01-10T08:05:00Z")),
}


@pytest.fixture(scope="module")
def built(module_tmp) -> Path:
    return build_warehouse(module_tmp, FILES)


@pytest.fixture
def tampered(built: Path, tmp_path: Path) -> Path:
    """A copy of the built warehouse with rows that break declared tests (and nothing the GX suites own)."""
    path = tmp_path / "tampered.duckdb"
    shutil.copyfile(built, path)
    with write_connection(path) as con:
        con.execute(
            "insert into core.incident_links values "
            "('files:incident:i2', 'files:deployment:d404', 'guess'), (NULL, 'files:deployment:d1', 'window')"
        )
        con.execute("update core.changes set team = NULL where change_id = 'files:change:c2'")
        con.execute(
            "insert into marts.kpi_monthly (month, scope_type, scope, kpi_id, unit, sample_size) "
            "values ('2026-01-01', 'planet', 'all', 'happiness_index', 'ratio', 0)"
        )
    return path


def test_every_model_column_is_described_and_every_described_column_is_produced(built):
    with read_connection(built) as con:
        drift = [problem for m in MODELS for problem in contract_drift(con, m)]
    assert drift == []
    assert len(MODELS) >= 45 and all(m.columns for m in MODELS)


def test_descriptions_are_sentences_not_placeholders():
    weak = [
        f"{m.table}.{c.name}: {c.description!r}"
        for m in MODELS
        for c in m.columns
        if len(c.description.split()) < 2
        or c.description.strip(". ").lower() in {c.name.lower(), c.name.replace("_", " ").lower()}
        or any(word in c.description.upper() for word in ("TODO", "TBD", "FIXME", "XXX"))
    ]
    assert weak == []


def test_drift_either_way_is_named(built):
    model = BY_TABLE["core.incident_links"]
    undescribed = dataclasses.replace(model, columns=model.columns[:-1])
    phantom = dataclasses.replace(
        model, columns=(*model.columns, Column("severity", "Made up for the test."))
    )
    with read_connection(built) as con:
        assert contract_drift(con, undescribed) == [
            "core.incident_links has columns _models.yml does not describe: link_type"
        ]
        assert contract_drift(con, phantom) == [
            "_models.yml describes columns core.incident_links does not produce: severity"
        ]
    # `kpi docs` refuses to write a document that disagrees with the warehouse.
    others = [m for m in MODELS if m.key != model.key]
    with pytest.raises(ContractError, match="link_type"):
        render(built, [*others, undescribed])


def _layer_copy(tmp_path: Path, yml: str) -> Path:
    sql_dir = tmp_path / "sql"
    for layer in ("staging", "core", "marts", "ops"):
        (sql_dir / layer).mkdir(parents=True)
    shutil.copyfile(SQL_DIR / "core" / "incident_links.sql", sql_dir / "core" / "incident_links.sql")
    (sql_dir / "core" / "_models.yml").write_text(yml)
    return sql_dir


@pytest.mark.parametrize(
    ("yml", "message"),
    [
        ("models: []\n", "no entry for the model incident_links"),
        (
            "models:\n  - name: incident_links\n    columns: []\n  - name: ghosts\n    columns: []\n",
            "models without a SQL file: ghosts",
        ),
        (
            "models:\n  - name: incident_links\n    columns:\n      - name: incident_id\n        description: ''\n",
            "column incident_id: no description",
        ),
        (
            "models:\n  - name: incident_links\n    columns:\n      - name: incident_id\n"
            "        description: The incident.\n        tests: [is_positive]\n",
            "unknown test 'is_positive'",
        ),
        (
            "models:\n  - name: incident_links\n    columns:\n      - name: incident_id\n"
            "        description: The incident.\n        tests: [relationships: {to: core.incidents}]\n",
            "test relationships takes to, field",
        ),
        (
            "models:\n  - name: incident_links\n    description: Links.\n    columns: []\n",
            "unexpected keys \\['description'\\]",
        ),
    ],
)
def test_contract_file_mistakes_are_named(tmp_path, yml, message):
    sql_dir = _layer_copy(tmp_path, yml)
    with pytest.raises(ContractError, match=message) as error:
        discover_models(sql_dir)
    assert "_models.yml" in str(error.value)


def test_a_relationship_to_a_later_layer_is_refused(tmp_path):
    # The core layer's checks block the marts, which are built from core: they cannot read a mart.
    sql_dir = _layer_copy(
        tmp_path,
        "models:\n  - name: incident_links\n    columns:\n      - name: deployment_id\n"
        "        description: The deployment.\n"
        "        tests: [relationships: {to: marts.lead_time_buckets, field: bucket}]\n",
    )
    (sql_dir / "marts" / "lead_time_buckets.sql").write_text(
        "select * from core.incident_links\n"  # built from core: that is what makes it later
    )
    (sql_dir / "marts" / "_models.yml").write_text("models:\n  - name: lead_time_buckets\n    columns: []\n")
    with pytest.raises(ContractError, match="marts.lead_time_buckets, which is built from the core layer"):
        discover_models(sql_dir)


def test_declared_tests_pass_on_a_clean_build(built):
    with read_connection(built) as con:
        outcomes = {m.table: run_declared_tests(con, m) for m in MODELS if m.tested}
    assert {"core.incident_links", "core.changes", "marts.kpi_monthly", "ops.quarantine"} <= set(outcomes)
    failed = [(table, o) for table, found in outcomes.items() for o in found if not o.success]
    assert failed == []


def _failures(outcomes):
    return {
        (o.expectation.split(" (")[0], o.column): (o.unexpected_count, o.sample)
        for o in outcomes
        if not o.success
    }


def test_declared_tests_fail_on_bad_data_and_name_the_values(tampered):
    with read_connection(tampered) as con:
        links = _failures(run_declared_tests(con, BY_TABLE["core.incident_links"]))
        changes_ = _failures(run_declared_tests(con, BY_TABLE["core.changes"]))
        monthly = _failures(run_declared_tests(con, BY_TABLE["marts.kpi_monthly"]))
    assert links == {
        ("unique", "incident_id"): (1, "['files:incident:i2']"),
        ("not_null", "incident_id"): (1, ""),
        ("accepted_values", "link_type"): (1, "['guess']"),
        # d404 is no deployment at all; the clean row i2 -> d2 is a real production deployment.
        ("relationships to core.deployment_outcomes.deployment_id", "deployment_id"): (
            1,
            "['files:deployment:d404']",
        ),
    }
    assert changes_ == {("not_null", "team"): (1, "")}
    assert monthly == {
        ("accepted_values", "scope_type"): (1, "['planet']"),
        ("relationships to marts.kpi_definitions.kpi_id", "kpi_id"): (1, "['happiness_index']"),
    }


def test_a_failing_declared_test_fails_its_blocking_check_in_a_dagster_run(tampered, tmp_path):
    published = tmp_path / "warehouse.duckdb"
    shutil.copyfile(tampered, work_path_for(published))
    defs = build_definitions(WarehouseResource(warehouse=str(published)), SourcesResource(config=None))
    repo = defs.get_repository_def()
    key = dg.AssetCheckKey(dg.AssetKey(["core", "incident_links"]), "contract_incident_links")
    result = dg.materialize(
        [
            *{id(a): a for a in repo.assets_defs_by_key.values()}.values(),
            *repo.asset_checks_defs_by_key.values(),
        ],
        selection=dg.AssetSelection.checks(key),
        raise_on_error=False,
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.asset_check_key == key and not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "guess" in evaluation.metadata["failures"].value
    with read_connection(work_path_for(published)) as con:
        recorded = con.execute(
            "select expectation, column_name, unexpected_count from ops.check_results "
            "where check_name = 'contract_incident_links' and not success order by all"
        ).fetchall()
    assert recorded == [
        ("accepted_values (declared, SQL)", "link_type", 1),
        ("not_null (declared, SQL)", "incident_id", 1),
        ("relationships to core.deployment_outcomes.deployment_id (declared, SQL)", "deployment_id", 1),
        ("unique (declared, SQL)", "incident_id", 1),
    ]
