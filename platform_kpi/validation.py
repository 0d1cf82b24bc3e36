"""Great Expectations suites for the domain tables and the KPI tables, and the tests each model declares
in its layer's _models.yml compiled to SQL (pure: no Dagster).

Who checks what: the GX suites own the row-level rules of the domain tables (ids unique and present,
enums, known services, ordered times, non-negative amounts); the declared tests add required columns,
source names and the links between tables on core, marts and ops; KPI_TABLE_CHECKS holds the rules of
the KPI tables that are not per column (ratios in [0, 1], empty periods, one row per key).

Each suite is one list of expectations run by two engines:
- Great Expectations on the recent rows (the last ``RECENT_DAYS`` of the table's own time column,
  plus rows without one): what a daily refresh adds or changes, with GX's samples of bad values.
  GX validates pandas frames read from DuckDB (its SQL path on DuckDB returns wrong results) and only
  the columns the expectations need.
- The same expectations translated to violation counts in DuckDB SQL over every row of the table, so
  history is still fully checked at a cost that stays small at millions of rows (GX on 2M builds took
  ~23 s of CPU on these machines; the SQL counts take well under a second).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from platform_kpi.models import SqlModel

STATUSES = ["SUCCESS", "FAILURE", "CANCELED", "SKIPPED", "IN_PROGRESS", "QUEUED"]
RECENT_DAYS = 35


@dataclass(frozen=True)
class Outcome:
    expectation: str
    column: str
    success: bool
    unexpected_count: int
    sample: str


@dataclass(frozen=True)
class Suite:
    """What to validate for one table: the columns to read and the expectations (as plain specs)."""

    table: str
    columns: tuple[str, ...]
    expectations: tuple[tuple[str, dict[str, Any]], ...]
    recent_column: str | None = None  # None: the table is small, GX sees all of it
    #: computed columns (name, SQL expression over the table) both engines read like real ones
    derived: tuple[tuple[str, str], ...] = ()


# "Every service is a known one" as a computed column that holds the unknown names: GX copies an
# expectation's arguments every time it reads its configuration (thousands of times a run), and a value
# set of 1,000 service names made that 0.3-0.6 s per large table at 1,000 services. An empty column is
# the pass; the samples still name the unknown services. Unattributed rows (no service) pass.
UNKNOWN_SERVICE = (
    "unknown_service",
    "case when service in (select service from core.services) then null else service end",
)


def domain_suites(con: duckdb.DuckDBPyConnection) -> dict[str, Suite]:
    known = ("ExpectColumnValuesToBeNull", {"column": UNKNOWN_SERVICE[0]})

    def ordered(a: str, b: str) -> tuple[str, dict[str, Any]]:
        return (
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": a, "column_B": b, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
        )

    return {
        "core.services": Suite(
            "core.services",
            ("service", "team"),
            (
                ("ExpectColumnValuesToBeUnique", {"column": "service"}),
                ("ExpectColumnValuesToNotBeNull", {"column": "service"}),
                ("ExpectColumnValuesToNotBeNull", {"column": "team"}),
            ),
        ),
        "core.deployments": Suite(
            "core.deployments",
            ("deployment_id", "service", "status", "started_at", "finished_at", "duration_sec"),
            (
                ("ExpectColumnValuesToBeUnique", {"column": "deployment_id"}),
                ("ExpectColumnValuesToNotBeNull", {"column": "deployment_id"}),
                # "in set" ignores NULLs: a deployment without a status must fail on its own
                ("ExpectColumnValuesToNotBeNull", {"column": "status"}),
                ("ExpectColumnValuesToBeInSet", {"column": "status", "value_set": STATUSES}),
                known,
                ordered("finished_at", "started_at"),
                ("ExpectColumnValuesToBeBetween", {"column": "duration_sec", "min_value": 0}),
            ),
            recent_column="finished_at",
            derived=(UNKNOWN_SERVICE,),
        ),
        "core.changes": Suite(
            "core.changes",
            ("change_id", "service", "first_commit_at", "merged_at"),
            (
                ("ExpectColumnValuesToBeUnique", {"column": "change_id"}),
                ("ExpectColumnValuesToNotBeNull", {"column": "change_id"}),
                known,
                ordered("merged_at", "first_commit_at"),
            ),
            recent_column="merged_at",
            derived=(UNKNOWN_SERVICE,),
        ),
        "core.incidents": Suite(
            "core.incidents",
            ("incident_id", "service", "created_at", "resolved_at", "time_to_restore_sec"),
            (
                ("ExpectColumnValuesToBeUnique", {"column": "incident_id"}),
                ("ExpectColumnValuesToNotBeNull", {"column": "incident_id"}),
                known,
                ordered("resolved_at", "created_at"),
                ("ExpectColumnValuesToBeBetween", {"column": "time_to_restore_sec", "min_value": 0}),
            ),
            recent_column="created_at",
            derived=(UNKNOWN_SERVICE,),
        ),
        "core.cicd_builds": Suite(
            "core.cicd_builds",
            ("build_id", "service", "status", "started_at", "finished_at", "duration_sec"),
            (
                ("ExpectColumnValuesToBeUnique", {"column": "build_id"}),
                ("ExpectColumnValuesToNotBeNull", {"column": "build_id"}),
                ("ExpectColumnValuesToNotBeNull", {"column": "status"}),
                ("ExpectColumnValuesToBeInSet", {"column": "status", "value_set": STATUSES}),
                known,
                ordered("finished_at", "started_at"),
                ("ExpectColumnValuesToBeBetween", {"column": "duration_sec", "min_value": 0}),
            ),
            recent_column="finished_at",
            derived=(UNKNOWN_SERVICE,),
        ),
        "core.costs": Suite(
            "core.costs",
            (
                "cost_id",
                "service",
                "charge_category",
                "cost_kind",
                "charge_period_start",
                "charge_period_end",
            ),
            (
                ("ExpectColumnValuesToBeUnique", {"column": "cost_id"}),
                ("ExpectColumnValuesToNotBeNull", {"column": "cost_id"}),
                (
                    "ExpectColumnValuesToBeInSet",
                    {
                        "column": "charge_category",
                        "value_set": ["Usage", "Purchase", "Tax", "Credit", "Adjustment"],
                    },
                ),
                (
                    "ExpectColumnValuesToBeInSet",
                    {"column": "cost_kind", "value_set": ["ci_compute", "deployment", "other"]},
                ),
                known,  # unattributed cost has no service: nulls are allowed, unknown names are not
                ordered("charge_period_end", "charge_period_start"),
            ),
            recent_column="charge_period_start",
            derived=(UNKNOWN_SERVICE,),
        ),
        "core.cluster_utilization": Suite(
            "core.cluster_utilization",
            (
                "utilization_id",
                "service",
                "day",
                "cpu_core_hours_used",
                "cpu_core_hours_requested",
                "ram_byte_hours_used",
                "ram_byte_hours_requested",
            ),
            (
                ("ExpectColumnValuesToBeUnique", {"column": "utilization_id"}),
                ("ExpectColumnValuesToNotBeNull", {"column": "utilization_id"}),
                known,
                ("ExpectColumnValuesToBeBetween", {"column": "cpu_core_hours_used", "min_value": 0}),
                ("ExpectColumnValuesToBeBetween", {"column": "cpu_core_hours_requested", "min_value": 0}),
                ("ExpectColumnValuesToBeBetween", {"column": "ram_byte_hours_used", "min_value": 0}),
                ("ExpectColumnValuesToBeBetween", {"column": "ram_byte_hours_requested", "min_value": 0}),
            ),
            recent_column="day",
            derived=(UNKNOWN_SERVICE,),
        ),
    }


# One context per process, and one suite per table: importing Great Expectations and building its
# context cost seconds, paid once and, in a run, in the background while the load and the models run
# (DuckDB releases the GIL while it works). Suites stay in memory: adding them to the context's store
# serialised every expectation on every run (≈0.5 s a table) for nothing we read back.
_lock = threading.Lock()
_build_lock = threading.Lock()
_suites: dict[tuple[str, tuple], Any] = {}
_warm_up: threading.Thread | None = None


@dataclass
class ReadyTimes:
    """How long getting Great Expectations ready took, and how much of it a check waited for."""

    prepare_seconds: float = 0.0  #: import, context and a first tiny validation
    waited_seconds: float = 0.0  #: time checks spent waiting for that (0 when it was ready in time)
    built_in: str = ""  #: the thread that built it


READY = ReadyTimes()


def prepare_in_background() -> None:
    """Start getting Great Expectations ready in a daemon thread, once per process; the first check
    waits only for what is not done yet."""
    global _warm_up
    with _lock:
        if _warm_up is None:
            _warm_up = threading.Thread(target=_context, name="prepare-great-expectations", daemon=True)
            _warm_up.start()


def _context():
    started = time.perf_counter()
    if _warm_up is not None and _warm_up is not threading.current_thread():
        _warm_up.join()
    with _build_lock:
        ready = _build_context()
    if threading.current_thread() is not _warm_up:
        READY.waited_seconds += time.perf_counter() - started
    return ready


@functools.cache
def _build_context():
    started = time.perf_counter()
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("frames")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("all")
    )
    # GX resolves its metric providers on first use: a one-row validation here takes that off the
    # first real check.
    first = gx.ExpectationSuite(
        name="prepare", expectations=[gx.expectations.ExpectColumnValuesToNotBeNull(column="x")]
    )
    batch.get_batch(batch_parameters={"dataframe": pd.DataFrame({"x": [1]})}).validate(first)
    READY.prepare_seconds = time.perf_counter() - started
    READY.built_in = threading.current_thread().name
    return gx, context, batch


def _suite(gx, name: str, expectations: tuple[tuple[str, dict[str, Any]], ...]):
    key = (name, repr(expectations))
    if key not in _suites:
        _suites[key] = gx.ExpectationSuite(
            name=f"{name}_suite",
            expectations=[getattr(gx.expectations, kind)(**kwargs) for kind, kwargs in expectations],
        )
    return _suites[key]


def validate_frame(
    name: str, frame: pd.DataFrame, expectations: tuple[tuple[str, dict[str, Any]], ...]
) -> list[Outcome]:
    """Run the expectations on ``frame`` with Great Expectations; one Outcome per expectation."""
    gx, _, batch = _context()
    with _lock:
        result = batch.get_batch(batch_parameters={"dataframe": frame}).validate(
            _suite(gx, name, expectations)
        )
    outcomes = []
    for r in result.results:
        cfg = r.expectation_config
        res = r.result or {}
        column = cfg.kwargs.get("column") or f"{cfg.kwargs.get('column_A')} >= {cfg.kwargs.get('column_B')}"
        sample = res.get("partial_unexpected_list") or []
        outcomes.append(
            Outcome(
                expectation=cfg.type,
                column=str(column),
                success=bool(r.success),
                unexpected_count=int(res.get("unexpected_count") or 0),
                sample=str(sample[:5]),
            )
        )
    return outcomes


def _snake(kind: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def _violations(con: duckdb.DuckDBPyConnection, table: str, kind: str, kw: dict[str, Any]) -> tuple[str, int]:
    """How many rows of the whole table break one expectation, counted in DuckDB."""
    column = kw.get("column")
    if kind == "ExpectColumnValuesToBeUnique":
        sql, params = f"select count({column}) - count(distinct {column}) from {table}", []
    elif kind == "ExpectColumnValuesToNotBeNull":
        sql, params = f"select count(*) - count({column}) from {table}", []
    elif kind == "ExpectColumnValuesToBeNull":
        sql, params = f"select count({column}) from {table}", []
    elif kind == "ExpectColumnValuesToBeInSet":
        sql = f"select count(*) from {table} where {column} is not null and not list_contains(?, {column})"
        params = [list(kw["value_set"])]
    elif kind == "ExpectColumnPairValuesAToBeGreaterThanB":
        a, b, op = kw["column_A"], kw["column_B"], "<" if kw.get("or_equal") else "<="
        sql, params, column = f"select count(*) from {table} where {a} {op} {b}", [], f"{a} >= {b}"
    elif kind == "ExpectColumnValuesToBeBetween":
        sql, params = f"select count(*) from {table} where {column} < ?", [kw["min_value"]]
    else:
        raise ValueError(f"no SQL translation for {kind}")
    return str(column), int(con.execute(sql, params).fetchone()[0])


def validate_table(
    con: duckdb.DuckDBPyConnection, suite: Suite, *, recent_days: int = RECENT_DAYS
) -> list[Outcome]:
    """GX on the recent rows, then the same expectations as SQL counts over every row."""
    where = ""
    if suite.recent_column:
        c = suite.recent_column
        where = (
            f" where {c} is null or {c} >= (select max({c}) from {suite.table}) - to_days({int(recent_days)})"
        )
    source, columns = suite.table, list(suite.columns)
    if suite.derived:
        source = (
            f"(select *, {', '.join(f'{sql} as {name}' for name, sql in suite.derived)} from {suite.table})"
        )
        columns += [name for name, _ in suite.derived]
    frame = con.execute(f"select {', '.join(columns)} from {source}{where}").df()
    recent = validate_frame(suite.table.replace(".", "__"), frame, suite.expectations)
    label = f"last {recent_days} days" if suite.recent_column else "all rows"
    outcomes = [
        Outcome(
            f"{o.expectation} ({label}, Great Expectations)",
            o.column,
            o.success,
            o.unexpected_count,
            o.sample,
        )
        for o in recent
    ]
    if suite.recent_column:
        for kind, kw in suite.expectations:
            column, bad = _violations(con, source, kind, kw)
            outcomes.append(Outcome(f"{_snake(kind)} (all rows, SQL)", column, bad == 0, bad, ""))
    return outcomes


KPI_TABLE_CHECKS = {
    # name: SQL that returns the offending rows; the check passes when it returns none.
    "ratio_in_unit_interval": "select * from {t} where unit = 'ratio' and not value between 0 and 1",
    "empty_means_null_or_zero": "select * from {t} where sample_size = 0 and value is not null and value <> 0",
    # a survey KPI (min_sample) has no value below its anonymity minimum, by design
    "value_when_sampled": "select * from {t} as k where sample_size > 0 and value is null and sample_size >= "
    "coalesce((select min_sample from marts.kpi_definitions as d where d.kpi_id = k.kpi_id), 0)",
    "one_row_per_key": "select {period}, scope_type, scope, kpi_id, count(*) from {t} group by all having count(*) > 1",
}


# The tests each model declares in its layer's _models.yml (dbt's generic tests), compiled to SQL over
# every row. not_null, unique and accepted_values are aggregates, so a table's are counted in one scan;
# each relationships test is an anti join. When a test fails, a few offending values are named.
def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class DeclaredTest:
    label: str
    column: str
    count_sql: str  # an aggregate over the model's table (aggregate=True) or a whole query
    sample_sql: str  # up to 5 offending values; empty when there is nothing to show (not_null)
    aggregate: bool


def compile_declared_tests(model: SqlModel) -> list[DeclaredTest]:
    """The SQL of every test ``model`` declares, in the order declared."""
    t = model.table
    compiled = []
    for column in model.columns:
        c = _ident(column.name)
        for name, args in column.tests:
            if name == "not_null":
                compiled.append(
                    DeclaredTest("not_null", column.name, f"count(*) filter (where {c} is null)", "", True)
                )
            elif name == "unique":
                sample = f"select {c} from {t} where {c} is not null group by {c} having count(*) > 1 limit 5"
                compiled.append(
                    DeclaredTest("unique", column.name, f"count({c}) - count(distinct {c})", sample, True)
                )
            elif name == "accepted_values":
                accepted = "[" + ", ".join(_literal(v) for v in args["values"]) + "]::varchar[]"
                bad = f"{c} is not null and not list_contains({accepted}, {c}::varchar)"
                sample = f"select distinct {c} from {t} where {bad} limit 5"
                compiled.append(
                    DeclaredTest(
                        "accepted_values", column.name, f"count(*) filter (where {bad})", sample, True
                    )
                )
            elif name == "relationships":
                to, field = args["to"], _ident(args["field"])
                bad = (
                    f"from {t} as child anti join {to} as parent on parent.{field} = child.{c} "
                    f"where child.{c} is not null"
                )
                compiled.append(
                    DeclaredTest(
                        f"relationships to {to}.{args['field']}",
                        column.name,
                        f"select count(*) {bad}",
                        f"select distinct child.{c} {bad} limit 5",
                        False,
                    )
                )
            else:  # models.load_contract admits only the tests above
                raise ValueError(f"no SQL for the test {name}")
    return compiled


def run_declared_tests(con: duckdb.DuckDBPyConnection, model: SqlModel) -> list[Outcome]:
    """One Outcome per declared test of ``model``: how many rows break it and a few offending values."""
    tests = compile_declared_tests(model)
    counts: dict[int, int] = {}
    scanned = [i for i, test in enumerate(tests) if test.aggregate]
    if scanned:
        row = con.execute(
            f"select {', '.join(tests[i].count_sql for i in scanned)} from {model.table}"
        ).fetchone()
        counts.update(zip(scanned, (int(n) for n in row), strict=True))
    outcomes = []
    for i, test in enumerate(tests):
        bad = counts[i] if test.aggregate else int(con.execute(test.count_sql).fetchone()[0])
        sample = (
            str([r[0] for r in con.execute(test.sample_sql).fetchall()]) if bad and test.sample_sql else ""
        )
        outcomes.append(Outcome(f"{test.label} (declared, SQL)", test.column, bad == 0, bad, sample))
    return outcomes
