"""The dashboard's Security & compliance page (AppTest) on the demo warehouse: tiles equal
marts.kpi_monthly, the findings past SLA drill down to the findings core.vulnerability_findings holds,
expired waivers are listed, and a warehouse without security data says the source is not configured."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from platform_kpi.catalog import format_value
from platform_kpi.warehouse import read_connection
from tests.dashboards.demo import TODAY, demo_home

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
MONTH = "2026-10"  # the last full month on the demo's TODAY


@pytest.fixture(scope="module")
def demo() -> Path:
    return demo_home()


def _open(warehouse: Path, monkeypatch, **params: str) -> AppTest:
    monkeypatch.setenv("KPI_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("KPI_TODAY", TODAY.isoformat())
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in {"to": MONTH, **params}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("views/security.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _sql(warehouse: Path, query: str, params: list | None = None) -> list[tuple]:
    with read_connection(warehouse) as con:
        return con.execute(query, params or []).fetchall()


def _text(at: AppTest) -> str:
    return "\n".join(
        str(e.value) for kind in ("markdown", "caption", "info", "warning", "success") for e in at.get(kind)
    )


def test_tiles_drilldown_and_waivers(demo: Path, monkeypatch) -> None:
    warehouse = demo / "warehouse.duckdb"
    # the latest month with findings open past their SLA at its end, so the drill-down has rows
    ((month, past),) = _sql(
        warehouse,
        "select strftime(month, '%Y-%m'), value from marts.kpi_monthly where kpi_id = 'open_vulnerabilities_past_sla' "
        "and scope_type = 'org' and value > 0 and month <= ? order by month desc limit 1",
        [f"{MONTH}-01"],
    )
    at = _open(warehouse, monkeypatch, to=month)
    assert at.title[0].value == "Security & compliance"
    metrics = {m.label: m.value for m in at.metric}
    for kid in (
        "vulnerability_sla_adherence",
        "open_vulnerabilities_past_sla",
        "active_waivers",
        "iac_drift_rate",
    ):
        ((name, value, unit),) = _sql(
            warehouse,
            "select d.name, k.value, k.unit from marts.kpi_monthly k join marts.kpi_definitions d using (kpi_id) "
            "where kpi_id = ? and month = ? and scope_type = 'org'",
            [kid, f"{month}-01"],
        )
        assert metrics[name] == format_value(value, unit), kid
    # the drill-down lists exactly the chosen team's findings open past SLA at the month's end
    team = at.selectbox(key="past_sla_team").value
    expected = _sql(
        warehouse,
        "select f.finding_id, f.url from marts.kpi_observations o join core.vulnerability_findings f "
        "on o.subject_id = f.finding_id || '@' || ? "
        "where o.measure = 'open_vulnerabilities_past_sla' and f.team = ?",
        [month, team],
    )
    table = next(str(m.value) for m in at.markdown if "past-sla-findings" in str(m.value))
    assert expected and all(fid in table for fid, _ in expected)
    assert table.count("<tr>") == len(expected) + 1  # the header and one row per finding
    # each Dependabot finding links to its alert; a Trivy finding has no page to link to
    assert table.count("<a href='https://github.com/") == sum(url is not None for _, url in expected)
    assert past >= len(expected)
    # the demo's three waivers past their expiry that nobody closed
    expired = next(d.value for d in at.dataframe if "days_expired" in d.value.columns)
    assert {"register:WVR-OLD-1", "register:WVR-OLD-2", "register:WVR-OLD-3"} <= set(expired["waiver_id"])


def test_without_security_data_the_page_says_the_source_is_not_configured(
    demo: Path, tmp_path, monkeypatch
) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(demo / "warehouse.duckdb", copy)
    con = duckdb.connect(str(copy))
    for table in (
        "vulnerability_findings",
        "policy_evaluations",
        "waivers",
        "artifact_provenance",
        "iac_assessments",
    ):
        con.execute(f"delete from core.{table}")
    con.close()
    at = _open(copy, monkeypatch)
    assert "Source not configured" in _text(at)
