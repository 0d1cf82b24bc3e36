"""The Dagster run on the demo organisation with costs, and the dashboard's Cost page (AppTest) on it:
tiles equal marts.kpi_monthly, unattributed costs and currency flags are shown, empty states say why."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from platform_kpi.catalog import format_value
from tests.costs.helpers import kpi, query

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
MONTH = "2026-04"


@pytest.fixture
def demo(cost_demo) -> Path:
    return cost_demo


def _open(warehouse: Path, monkeypatch, **params: str) -> AppTest:
    monkeypatch.setenv("KPI_WAREHOUSE", str(warehouse))
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in {"to": MONTH, **params}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("views/costs.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _copy(warehouse: Path, tmp_path: Path, *statements: str) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    con = duckdb.connect(str(copy))
    for statement in statements:
        con.execute(statement)
    con.close()
    return copy


def _text(at: AppTest) -> str:
    return "\n".join(
        str(e.value) for kind in ("markdown", "caption", "info", "warning", "success") for e in at.get(kind)
    )


def test_dagster_run_loads_the_cost_sources(demo):
    counts = query(
        demo,
        "select (select count(*) from raw.focus__costs) as focus, (select count(*) from core.costs) as costs, "
        "(select count(*) from raw.opencost__allocations) as opencost, "
        "(select count(*) from core.cluster_utilization) as utilization",
    )[0]
    assert counts["focus"] == counts["costs"] > 0
    assert counts["opencost"] == counts["utilization"] > 0
    assert kpi(demo, "cost_per_build", MONTH)["value"] > 0


def test_tiles_equal_kpi_monthly(demo, monkeypatch):
    at = _open(demo, monkeypatch)
    tiles = {m.label: m.value for m in at.metric}
    for kid, name, unit in (
        ("cost_per_build", "Cost per build", "currency"),
        ("cost_per_deploy", "Cost per deployment", "currency"),
        ("cloud_cost", "Cloud cost", "currency"),
        ("cluster_cpu_efficiency", "Cluster CPU efficiency", "fraction"),
    ):
        assert tiles[name] == format_value(kpi(demo, kid, MONTH)["value"], unit)
    assert "amounts in USD" in _text(at)


def test_team_filter_scopes_the_tiles(demo, monkeypatch):
    team = query(demo, "select team from core.services order by team limit 1")[0]["team"]
    at = _open(demo, monkeypatch, team=team)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Cost per build"] == format_value(
        kpi(demo, "cost_per_build", MONTH, "team", team)["value"], "currency"
    )


def test_unattributed_costs_are_listed(demo, monkeypatch):
    at = _open(demo, monkeypatch)
    total = sum(
        r["c"] or 0
        for r in query(
            demo,
            "select effective_cost_reporting as c from marts.cost_unattributed where month = ?",
            [f"{MONTH}-01"],
        )
    )
    assert f"{format_value(total, 'currency')} USD" in _text(at)
    assert "carry no service or team tag" in _text(at)


def test_currency_without_rate_is_flagged(demo, monkeypatch, tmp_path):
    copy = _copy(
        demo,
        tmp_path,
        f"insert into marts.cost_currency_flags values (date '{MONTH}-01', 'GBP', 'USD', "
        "'no rate from GBP to USD in fx_rates', 3, 42.0)",
    )
    at = _open(copy, monkeypatch)
    # the Markdown source: the reason is escaped (names in it are user data), shown as 'fx_rates'
    assert r"3 rows in GBP (no rate from GBP to USD in fx\_rates)" in _text(at)


def test_no_cost_data_says_the_source_is_not_configured(demo, monkeypatch, tmp_path):
    copy = _copy(demo, tmp_path, "delete from core.costs", "delete from core.cluster_utilization")
    at = _open(copy, monkeypatch)
    assert "Source not configured" in _text(at)
    assert not at.metric
