"""The raw layer's contract (sql/raw/_sources.yml): after a demo-sized run every raw table is declared
there with exactly its columns and types, every declared table exists and has a writer, and the one
writer refuses data whose columns differ from the contract, naming the table and the columns, without
losing the rows already there."""

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from connectors.files import ENTITIES
from platform_kpi.costs import COST_RAW_TABLES, load_cost_sources
from platform_kpi.docs import render
from platform_kpi.loading import RAW_FILE_TABLES
from platform_kpi.models import ContractError
from platform_kpi.raw import RAW_TABLES, Batch, RawStore
from platform_kpi.raw_tables import (
    SOURCES_FILE,
    load_sources,
    raw_drift,
    raw_table,
    raw_tables,
    replace_raw,
    upsert_raw,
)
from platform_kpi.security import SECURITY_RAW_TABLES
from platform_kpi.settings import SQL_DIR
from platform_kpi.slos import SLO_RAW_TABLES
from platform_kpi.warehouse import read_connection, write_connection

TODAY = dt.date(2026, 5, 9)
CONTRACT = SQL_DIR / "raw" / SOURCES_FILE


@pytest.fixture(scope="module")
def demo(module_tmp) -> Path:
    """A warehouse built by the pipeline from the demo organisation's files and cost exports."""
    from pipelines.execute import run_pipeline
    from platform_kpi.demo.org import generate_demo_costs, generate_demo_org

    home = module_tmp
    generate_demo_org(home / "files", services=12, seed=5, today=TODAY)
    generate_demo_costs(home / "files", seed=5, today=TODAY)
    run_pipeline(home / "files", home / "warehouse.duckdb", checks=False)
    return home / "warehouse.duckdb"


@pytest.fixture
def copy(demo: Path, tmp_path: Path) -> Path:
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(demo, path)
    return path


def _built(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' order by table_name, ordinal_position"
    ).fetchall():
        out.setdefault(table, []).append((column, dtype.lower()))
    return out


def test_every_raw_table_is_declared_with_exactly_its_columns_and_types(demo):
    with read_connection(demo) as con:
        built = _built(con)
        rows = {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in built}
        drift = raw_drift(con)
    declared = {name: [(c.name, c.data_type) for c in t.columns] for name, t in raw_tables().items()}
    assert sorted(built) == sorted(declared)
    assert {t: built[t] for t in built} == declared
    assert drift == []
    # The run wrote real rows through each kind of writer (files, FOCUS, OpenCost, the manifest).
    assert (
        rows["files__deployments"] > 1000
        and rows["focus__costs"] > 1000
        and rows["opencost__allocations"] > 100
    )
    assert rows["files__manifest"] == len(ENTITIES)
    # Pinned types, not whatever a frame or a reader produced.
    assert ("payload", "json") in built["github__pulls"] and ("_line", "bigint") in built["focus__costs"]
    assert ("ignored_columns", "varchar[]") in built["files__manifest"]
    assert ("finished_at", "timestamp") in built["files__deployments"]


def test_the_contract_lists_only_tables_a_writer_writes():
    written = (
        [name for _, name in RAW_FILE_TABLES]
        + [f"{source}__{entity}" for source, entities in RAW_TABLES.items() for entity in entities]
        + list(COST_RAW_TABLES)
        + list(SECURITY_RAW_TABLES)  # the security report files and their API syncs (issue 14)
        + list(SLO_RAW_TABLES)  # the SLO specs, result files and Prometheus evaluation (issue 15)
    )
    assert len(written) == len(set(written)), "two writers write the same raw table"
    assert sorted(raw_tables()) == sorted(written)
    for table in raw_tables().values():
        assert table.description and all(c.description for c in table.columns)


def test_the_api_upsert_writes_the_declared_shape(tmp_path):
    with write_connection(tmp_path / "w.duckdb") as con:
        store = RawStore(con)
        batch = Batch("github")
        batch.add("pulls", "acme/api#1", "acme/api", {"number": 1, "title": "Fix"})
        assert store.commit(batch, "pulls", "2026-01-01") == 1
        batch.add("pulls", "acme/api#1", "acme/api", {"number": 1, "title": "Fix it"})
        assert store.commit(batch, "pulls", "2026-01-02") == 1  # changed payload: replaced, not duplicated
        assert store.commit(batch, "pulls", "2026-01-02") == 0  # unchanged: not rewritten
        drift = [p for p in raw_drift(con) if "lacks" not in p]  # only the API tables exist here
        row = con.execute(
            "select key, scope, payload->>'title', typeof(fetched_at) from raw.github__pulls"
        ).fetchall()
    assert drift == []
    assert row == [("acme/api#1", "acme/api", "Fix it", "TIMESTAMP")]


def _deployments(con) -> pd.DataFrame:
    return con.execute("select * from raw.files__deployments order by _file, _line").df()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(priority="high"), r"raw\.files__deployments: .*does not declare: priority"),
        (
            lambda f: f.drop(columns=["commit_sha"]),
            r"raw\.files__deployments: .*missing declared columns: commit_sha",
        ),
        (
            lambda f: f.drop(columns=["_line"]).assign(line_no=1),
            r"raw\.files__deployments: .*does not declare: line_no.*missing declared columns: _line",
        ),
    ],
)
def test_a_frame_with_other_columns_is_refused_and_the_rows_stay(copy, change, message):
    with write_connection(copy) as con:
        before = _deployments(con)
        with pytest.raises(ContractError, match=message):
            replace_raw(con, "files__deployments", change(before.head(3)))
        with pytest.raises(ContractError, match=message):
            replace_raw(con, "files__deployments", change(before.head(3)), where="service = ?", params=["x"])
        after = _deployments(con)
    assert len(before) > 1000
    pd.testing.assert_frame_equal(before, after)


def test_the_cost_and_api_writers_refuse_other_columns_too(copy):
    with write_connection(copy) as con:
        kept = con.execute("select count(*) from raw.opencost__allocations").fetchone()[0]
        frame = con.execute("select * exclude (total_cost) from raw.opencost__allocations").df()
        with pytest.raises(
            ContractError, match=r"raw\.opencost__allocations: .*missing declared columns: total_cost"
        ):
            replace_raw(con, "opencost__allocations", frame)
        assert con.execute("select count(*) from raw.opencost__allocations").fetchone()[0] == kept
        extra = pd.DataFrame(
            [
                {
                    "key": "k",
                    "scope": "s",
                    "payload": "{}",
                    "payload_sha": "x",
                    "fetched_at": None,
                    "etag": "w/1",
                }
            ]
        )
        with pytest.raises(ContractError, match=r"raw\.github__pulls: .*does not declare: etag"):
            upsert_raw(con, "github__pulls", extra)
        with pytest.raises(ContractError, match=r"raw\.files__owners is not in sql/raw/_sources\.yml"):
            replace_raw(con, "files__owners", frame)


def test_a_value_that_does_not_fit_its_type_writes_nothing(copy):
    with write_connection(copy) as con:
        before = _deployments(con)
        bad = before.head(2).astype({"_line": object})
        bad.loc[bad.index[1], "_line"] = "line two"
        with pytest.raises(duckdb.ConversionException, match="line two"):
            replace_raw(con, "files__deployments", bad)
        pd.testing.assert_frame_equal(before, _deployments(con))


def test_a_cost_load_writes_the_declared_types_whatever_it_read(tmp_path):
    # No cost source at all: the tables are still the contract's, typed, and empty.
    con = duckdb.connect()
    load_cost_sources(con, None, None)
    assert [p for p in raw_drift(con) if "lacks" not in p] == []
    assert con.execute("select count(*) from raw.focus__costs").fetchone()[0] == 0


def test_docs_show_the_raw_contract_and_refuse_a_warehouse_that_differs(demo):
    text = render(demo)
    section = text[text.index("## `raw`") : text.index("## `staging`")]
    for name, table in raw_tables().items():
        assert f"### `raw.{name}` (table)\n\n{table.description}\n" in section
    assert "| `payload` | JSON | The record as the API sent it. |" in section
    tables = dict(raw_tables())
    tables["files__manifest"] = raw_table("files__manifest").__class__(
        "files__manifest", "Manifest.", raw_table("files__manifest").columns[:-1]
    )
    with pytest.raises(ContractError, match=r"raw\.files__manifest has \(.*note varchar\)"):
        render(demo, raw=tables)


@pytest.mark.parametrize(
    ("yml", "message"),
    [
        ("sources:\n  - name: files\n    tables: []\n", "expected exactly one source, named raw"),
        (
            "sources:\n  - name: raw\n    tables:\n      - name: files__x\n        description: X.\n"
            "        columns:\n          - name: a\n            description: A.\n",
            "table files__x, column a: expected the keys name, data_type, description",
        ),
        (
            "sources:\n  - name: raw\n    tables:\n      - name: files__x\n        columns:\n"
            "          - {name: a, data_type: varchar, description: A.}\n",
            "table files__x: no description",
        ),
        (
            "sources:\n  - name: raw\n    tables:\n      - name: files__x\n        description: X.\n"
            "        columns:\n          - {name: a, data_type: varchar, description: A.}\n"
            "          - {name: a, data_type: bigint, description: B.}\n",
            "table files__x: a column is declared twice",
        ),
    ],
)
def test_contract_file_mistakes_are_named(tmp_path, yml, message):
    path = tmp_path / SOURCES_FILE
    path.write_text(yml)
    with pytest.raises(ContractError, match=message) as error:
        load_sources(path)
    assert str(path) in str(error.value)


def test_the_shipped_contract_is_the_file_the_writers_read():
    assert CONTRACT.is_file()
    assert load_sources(CONTRACT) == raw_tables()


def test_every_writer_takes_its_tables_from_the_contract(monkeypatch, tmp_path):
    # Change the contract (not the code): each path's tables follow it, and its writer checks against it.
    import dataclasses

    from platform_kpi import raw_tables as registry
    from platform_kpi.loading import load_file_entity, write_load_errors
    from platform_kpi.raw_tables import RawColumn

    tables = dict(raw_tables())

    def retype(name: str, column: str, data_type: str) -> None:
        cols = tuple(
            dataclasses.replace(c, data_type=data_type) if c.name == column else c
            for c in tables[name].columns
        )
        tables[name] = dataclasses.replace(tables[name], columns=cols)

    retype("aws_ce__costs", "_page", "integer")
    retype("github__pulls", "scope", "varchar[]")
    retype("files__manifest", "bytes", "integer")
    severity = RawColumn("severity", "varchar", "Made up for the test.")
    tables["files__load_errors"] = dataclasses.replace(
        tables["files__load_errors"], columns=(*tables["files__load_errors"].columns, severity)
    )
    monkeypatch.setattr(registry, "raw_tables", lambda sql_dir=SQL_DIR: tables)
    con = duckdb.connect()
    con.execute("create schema raw")
    load_cost_sources(con, None, None)
    RawStore(con)
    load_file_entity(con, None, "deployments")
    types = {(t, c): d.lower() for t, cs in _built(con).items() for c, d in cs}
    assert types[("aws_ce__costs", "_page")] == "integer"
    assert types[("github__pulls", "scope")] == "varchar[]"
    assert types[("files__manifest", "bytes")] == "integer"
    with pytest.raises(ContractError, match=r"raw\.files__load_errors: .*missing declared columns: severity"):
        write_load_errors(con, [])
