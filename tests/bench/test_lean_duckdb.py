"""The benchmark's lean DuckDB floor computes the same foundation KPIs as the pandas reference (which the
pipeline's marts are checked against in tests/pipeline/test_equivalence.py): a floor that computed
less would make the "≤ 2× the floor" target meaningless."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from bench.lean_duckdb import compute
from bench.pandas_dora import MONTHLY_KPIS, WEEKLY_KPIS, compute_monthly, compute_weekly, load_inputs
from platform_kpi.demo.org import generate_demo_org

KEY = ["period", "scope_type", "scope", "kpi_id"]


@pytest.mark.parametrize("seed", [3, 11])
def test_the_lean_floor_gives_the_reference_rows(tmp_path, seed):
    files = tmp_path / "files"
    generate_demo_org(
        files, services=25, months=5, today=dt.date(2026, 11, 28), inject_bad_rows=False, seed=seed
    )
    counts = compute(files, tmp_path / "lean.duckdb")
    inputs = load_inputs(files)
    with duckdb.connect(str(tmp_path / "lean.duckdb"), read_only=True) as con:
        for table, reference, kpis in (
            ("kpi_monthly", compute_monthly(inputs), MONTHLY_KPIS),
            ("kpi_weekly", compute_weekly(inputs), WEEKLY_KPIS),
        ):
            lean = con.execute(f"select * from {table}").df()
            assert counts[table] == len(lean)
            assert set(lean["kpi_id"]) == set(kpis) and set(lean["scope_type"]) == {"org", "team", "service"}
            joined = reference.merge(lean, on=KEY, how="outer", suffixes=("_ref", "_lean"), indicator=True)
            assert (joined["_merge"] == "both").all(), joined[joined["_merge"] != "both"].head()
            assert (joined["sample_size_ref"] == joined["sample_size_lean"]).all()
            pd.testing.assert_series_equal(
                joined["value_lean"], joined["value_ref"], check_names=False, rtol=1e-9, atol=1e-9
            )
