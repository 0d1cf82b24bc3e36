"""Blocking asset checks: Great Expectations suites on the domain tables, contract checks on the KPI
tables. A failed check stops the run before anything is published, and every outcome is recorded in
ops.check_results for the dashboard's data-health page."""

import datetime as dt

import dagster as dg
import pandas as pd

from assets.resources import WarehouseResource
from assets.validation import KPI_TABLE_CHECKS, Outcome, domain_suites, validate_table
from pipelines import file_accounting

_RESULTS_DDL = (
    "create table if not exists ops.check_results (checked_at timestamp, asset varchar, check_name varchar, "
    "expectation varchar, column_name varchar, success boolean, unexpected_count bigint, sample varchar)"
)


def _record(con, asset: str, check: str, outcomes: list[Outcome]) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute(_RESULTS_DDL)
    con.execute("delete from ops.check_results where asset = ? and check_name = ?", [asset, check])
    frame = pd.DataFrame(
        [
            (now, asset, check, o.expectation, o.column, o.success, o.unexpected_count, o.sample)
            for o in outcomes
        ],
        columns=[
            "checked_at",
            "asset",
            "check_name",
            "expectation",
            "column_name",
            "success",
            "unexpected_count",
            "sample",
        ],
    )
    con.register("check_outcomes", frame)
    con.execute("insert into ops.check_results select * from check_outcomes")
    con.unregister("check_outcomes")


def _result(outcomes: list[Outcome]) -> dg.AssetCheckResult:
    failed = [o for o in outcomes if not o.success]
    return dg.AssetCheckResult(
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "expectations": len(outcomes),
            "failed": len(failed),
            "failures": "; ".join(
                f"{o.expectation}({o.column}): {o.unexpected_count} e.g. {o.sample}" for o in failed
            )
            or "none",
        },
    )


def _domain_check(table: str) -> dg.AssetChecksDefinition:
    schema, name = table.split(".")

    @dg.asset_check(
        asset=dg.AssetKey([schema, name]),
        name=f"gx_{name}",
        blocking=True,
        description=f"Great Expectations suite on {table}: ids unique, enums valid, times ordered, "
        "durations non-negative, services known.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            outcomes = validate_table(con, domain_suites(con)[table])
            _record(con, table, f"gx_{name}", outcomes)
        return _result(outcomes)

    return _check


def _kpi_check(table: str, period: str) -> dg.AssetChecksDefinition:
    schema, name = table.split(".")

    @dg.asset_check(
        asset=dg.AssetKey([schema, name]),
        name=f"contract_{name}",
        blocking=True,
        description=f"{table}: ratios within [0, 1], empty samples NULL (or 0 for counts), sampled values "
        "present, one row per period/scope/KPI.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        outcomes = []
        with warehouse.connect() as con:
            for check, sql in KPI_TABLE_CHECKS.items():
                bad = con.execute(sql.format(t=table, period=period)).fetchall()
                outcomes.append(Outcome(check, "value", not bad, len(bad), str(bad[:3])))
            _record(con, table, f"contract_{name}", outcomes)
        return _result(outcomes)

    return _check


ACCOUNTING_KEY = dg.AssetKey(["ops", "file_accounting"])


@dg.asset_check(
    asset=ACCOUNTING_KEY,
    name="file_accounting_balanced",
    blocking=True,
    description="Every input file adds up: header + blank + record lines = its lines, and loaded + "
    "quarantined = the records read. Nothing in a file is lost without a trace.",
)
def file_accounting_balanced(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        found = file_accounting.unbalanced_files(con)
        _record(con, "ops.file_accounting", "file_accounting_balanced",
                [Outcome("lines and records add up", "file", found.ok, len(found.messages), "; ".join(found.messages[:3]))])
    return dg.AssetCheckResult(
        passed=found.ok, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"failures": "; ".join(found.messages) or "none"},
    )


@dg.asset_check(
    asset=ACCOUNTING_KEY,
    name="no_silent_row_drop",
    blocking=True,
    description="No entity's file rows fall by more than row_drop_threshold (config) since the published "
    "warehouse, unless the run was told to accept it (kpi run --allow-row-drop).",
)
def no_silent_row_drop(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    previous = file_accounting.previous_loaded_rows(warehouse.published_path)
    with warehouse.connect() as con:
        current = file_accounting.loaded_rows(con)
        threshold = con.execute("select row_drop_threshold from ops.kpi_settings").fetchone()[0]
        found = file_accounting.row_drops(current, previous, threshold, warehouse.allow_row_drop)
        _record(con, "ops.file_accounting", "no_silent_row_drop",
                [Outcome("rows within row_drop_threshold of the last publish", "loaded", found.ok,
                         len(found.messages), "; ".join(found.messages[:3]))])
    return dg.AssetCheckResult(
        passed=found.ok, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"failures": "; ".join(found.messages) or "none", "accepted_drop": bool(found.messages and found.ok)},
    )


DOMAIN_TABLES = (
    "core.services",
    "core.deployments",
    "core.changes",
    "core.incidents",
    "core.cicd_builds",
    "core.costs",
    "core.cluster_utilization",
)
asset_checks = [_domain_check(t) for t in DOMAIN_TABLES] + [
    _kpi_check("marts.kpi_monthly", "month"),
    _kpi_check("marts.kpi_weekly", "week"),
    file_accounting_balanced,
    no_silent_row_drop,
]
