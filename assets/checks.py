"""Blocking asset checks: Great Expectations suites on the domain tables (gx_<model>), and on every
model that declares tests in its layer's _models.yml a contract check (contract_<model>: the declared
tests compiled to SQL, plus the KPI rules on the KPI tables; one step per layer). A failed check stops the run before
anything downstream is built or published, and every outcome is recorded in ops.check_results for the
dashboard's data-health page."""

import datetime as dt

import dagster as dg
import pandas as pd

from assets.resources import GreatExpectationsResource, WarehouseResource
from assets.transform import SQL_MODELS
from platform_kpi import file_accounting
from platform_kpi.models import MODEL_LAYERS, SqlModel
from platform_kpi.validation import (
    KPI_TABLE_CHECKS,
    Outcome,
    compile_declared_tests,
    domain_suites,
    run_declared_tests,
    validate_table,
)

_RESULTS_DDL = (
    "create table if not exists ops.check_results (checked_at timestamp, asset varchar, check_name varchar, "
    "expectation varchar, column_name varchar, success boolean, unexpected_count bigint, sample varchar)"
)


def _record(con, asset: str, check: str, outcomes: list[Outcome]) -> None:
    _record_all(con, [(asset, check, outcomes)])


def _record_all(con, checked: list[tuple[str, str, list[Outcome]]]) -> None:
    """Replace the recorded outcomes of these (asset, check) pairs, in one statement each way."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute(_RESULTS_DDL)
    con.execute(
        "delete from ops.check_results where list_contains(?, asset || ' ' || check_name)",
        [[f"{asset} {check}" for asset, check, _ in checked]],
    )
    frame = pd.DataFrame(
        [
            (now, asset, check, o.expectation, o.column, o.success, o.unexpected_count, o.sample)
            for asset, check, outcomes in checked
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


def _result(outcomes: list[Outcome], **key: object) -> dg.AssetCheckResult:
    failed = [o for o in outcomes if not o.success]
    return dg.AssetCheckResult(
        **key,
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
    def _check(
        warehouse: WarehouseResource, great_expectations: GreatExpectationsResource
    ) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            outcomes = validate_table(con, domain_suites(con)[table])
            _record(con, table, f"gx_{name}", outcomes)
        return _result(outcomes)

    return _check


# The KPI tables' period column, for the KPI rules that are not per column (KPI_TABLE_CHECKS).
KPI_PERIODS = {"marts.kpi_monthly": "month", "marts.kpi_weekly": "week"}


def _contract_spec(model: SqlModel) -> dg.AssetCheckSpec:
    period = KPI_PERIODS.get(model.table)
    tests = compile_declared_tests(model)
    kinds = ", ".join(sorted({t.label.split(" ")[0] for t in tests}))
    description = f"{model.table}: the {len(tests)} tests sql/{model.layer}/_models.yml declares ({kinds})"
    if period:
        description += (
            "; and the KPI rules: ratios within [0, 1], empty samples NULL (or 0 for counts), sampled "
            "values present, one row per period/scope/KPI"
        )
    return dg.AssetCheckSpec(
        f"contract_{model.name}",
        asset=dg.AssetKey(list(model.key)),
        blocking=True,
        description=description + ".",
        # A relationships test reads another table: the check waits until that one is built too.
        additional_deps=[dg.AssetKey(list(t)) for t in model.relationship_targets if t != model.key],
    )


def _contract_checks(layer: str, models: list[SqlModel]) -> dg.AssetChecksDefinition:
    """The contract checks of one layer's models, run in one step after the layer's step (as the models
    are built: Dagster's per-step cost would dwarf the queries). Each model keeps its own blocking
    check, result and ops.check_results rows."""
    by_key = {dg.AssetCheckKey(dg.AssetKey(list(m.key)), f"contract_{m.name}"): m for m in models}

    @dg.multi_asset_check(
        specs=[_contract_spec(m) for m in models],
        name=f"{layer}_contracts",
        can_subset=True,
        description=f"The declared tests of sql/{layer}/_models.yml, a blocking check per model.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        checked = []
        with warehouse.connect() as con:
            for key, model in by_key.items():
                if key not in context.selected_asset_check_keys:
                    continue
                outcomes = run_declared_tests(con, model)
                period = KPI_PERIODS.get(model.table)
                if period:
                    for check, sql in KPI_TABLE_CHECKS.items():
                        bad = con.execute(sql.format(t=model.table, period=period)).fetchall()
                        outcomes.append(Outcome(check, "value", not bad, len(bad), str(bad[:3])))
                checked.append((key, model, outcomes))
            _record_all(con, [(model.table, key.name, outcomes) for key, model, outcomes in checked])
        for key, _, outcomes in checked:
            yield _result(outcomes, asset_key=key.asset_key, check_name=key.name)

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
        return _accounting_result(con, "file_accounting_balanced", "lines and records add up", "file", found)


def _accounting_result(
    con, check: str, expectation: str, column: str, found, **metadata
) -> dg.AssetCheckResult:
    """Record one file-accounting finding in ops.check_results and return it as the check's result."""
    outcome = Outcome(expectation, column, found.ok, len(found.messages), "; ".join(found.messages[:3]))
    _record(con, "ops.file_accounting", check, [outcome])
    return dg.AssetCheckResult(
        passed=found.ok,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"failures": "; ".join(found.messages) or "none", **metadata},
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
        return _accounting_result(
            con,
            "no_silent_row_drop",
            "rows within row_drop_threshold of the last publish",
            "loaded",
            found,
            accepted_drop=bool(found.messages and found.ok),
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
_CONTRACTED = [m for m in SQL_MODELS if m.tested or m.table in KPI_PERIODS]
asset_checks = [
    *(_domain_check(t) for t in DOMAIN_TABLES),
    *(
        _contract_checks(layer, [m for m in _CONTRACTED if m.layer == layer])
        for layer in MODEL_LAYERS
        if any(m.layer == layer for m in _CONTRACTED)
    ),
    file_accounting_balanced,
    no_silent_row_drop,
]
