"""The monthly report's SLO part (issue 15): platform_slo_attainment against its target and one row
per platform SLO of the month, with the numbers of marts.kpi_monthly and marts.slo_monthly."""

from __future__ import annotations

from pathlib import Path

from platform_kpi.catalog import format_value
from platform_kpi.reporting.slos import slo_section
from platform_kpi.warehouse import read_connection
from tests.dashboards.demo import REPORT_MONTH


def _rows(warehouse: Path, sql: str, params: list) -> list[tuple]:
    with read_connection(warehouse) as con:
        return con.execute(sql, params).fetchall()


def test_report_slo_part_equals_the_marts(demo: Path) -> None:
    warehouse = demo / "warehouse.duckdb"
    markdown = (demo / "reports" / "2026-10" / "report.md").read_text()
    part = markdown[markdown.index("\n### Platform SLOs\n") : markdown.index("\n## Platform\n")]
    [(value, n, target, met)] = _rows(
        warehouse,
        "select value, sample_size, target, target_met from marts.kpi_monthly "
        "where kpi_id = 'platform_slo_attainment' and scope_type = 'org' and month = ?",
        [REPORT_MONTH],
    )
    assert n == 3
    assert f"Platform SLO attainment: **{format_value(value, 'ratio')}**" in part
    assert f"of {n} platform SLOs met" in part
    assert f"target of {format_value(target, 'ratio')} ({'met' if met else 'missed'})" in part
    slos = _rows(
        warehouse,
        "select name, slo_attainment, slo_error_budget_remaining from marts.slo_monthly "
        "where is_platform and month = ? order by slo_error_budget_remaining",
        [REPORT_MONTH],
    )
    lines = [line for line in part.splitlines() if line.startswith("| ") and "Objective" not in line]
    assert [line.split(" | ")[0].strip("| ").replace("\\", "") for line in lines] == [s[0] for s in slos]
    for line, (_, attainment, budget) in zip(lines, slos, strict=True):
        assert f"{attainment * 100:.3f}%" in line and f"{budget * 100:.0f}%" in line


def test_report_slo_part_says_when_no_slo_is_loaded(tmp_path: Path) -> None:
    import duckdb

    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema core; create table core.slos (slo_id varchar)")
    blocks = slo_section(warehouse, REPORT_MONTH)
    assert [b.kind for b in blocks] == ["heading", "paragraph"]
    assert "No SLOs are loaded" in blocks[1].text
