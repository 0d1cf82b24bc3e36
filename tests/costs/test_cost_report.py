"""The cost section of the monthly report, on the Dagster-built demo warehouse with costs."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb

from platform_kpi.catalog import format_value
from platform_kpi.reporting.report import write_report
from tests.costs.helpers import kpi, query

MONTH = dt.date(2026, 4, 1)


def test_report_has_a_cost_section_before_the_appendices(cost_demo, tmp_path):
    paths = write_report(cost_demo, MONTH, tmp_path)
    md = paths["report.md"].read_text()
    assert "## Costs" in md
    assert md.index("## Costs") < md.index("Appendix: data quality")
    per_build = kpi(cost_demo, "cost_per_build", "2026-04")["value"]
    assert f"A build cost {format_value(per_build, 'currency')} USD" in md
    cloud = kpi(cost_demo, "cloud_cost", "2026-04")["value"]
    unattributed = sum(
        r["c"]
        for r in query(
            cost_demo,
            "select effective_cost_reporting as c from marts.cost_unattributed "
            "where month = date '2026-04-01'",
        )
    )
    assert f"of which {format_value(unattributed, 'currency')} USD ({unattributed / cloud * 100:.0f}%)" in md
    assert "### Cost by team" in md and "(unattributed)" in md
    assert "### Unattributed costs" in md
    assert "Unit costs count Usage charges only" in md
    assert paths["report.pdf"].stat().st_size > 0
    assert "Costs" in paths["report.html"].read_text()


def test_report_without_cost_data_says_so(cost_demo, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(cost_demo, copy)
    con = duckdb.connect(str(copy))
    con.execute("delete from core.costs")
    con.execute("delete from core.cluster_utilization")
    con.close()
    md = write_report(copy, MONTH, tmp_path / "reports")["report.md"].read_text()
    assert "No cost or utilization source is configured" in md
