"""The monthly KPI report for leadership (PDF, HTML, Markdown) for a month, from the published warehouse.

The report is read (reporting.data), written as one list of blocks (reporting.narrative, with the
cost section of reporting.costs and the charts of reporting.charts) and rendered three ways from that
list (reporting.render); reporting.delivery sends it. This module puts them together and publishes
the month's folder atomically. Pure Python: no Dagster.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from platform_kpi.reporting.alerts import alerts_section
from platform_kpi.reporting.charts import render_charts
from platform_kpi.reporting.costs import cost_section
from platform_kpi.reporting.data import load_report_data
from platform_kpi.reporting.narrative import build_blocks
from platform_kpi.reporting.operations import operations_section
from platform_kpi.reporting.platform import platform_section
from platform_kpi.reporting.render import render_html, render_markdown, render_pdf
from platform_kpi.reporting.security import security_section
from platform_kpi.reporting.slos import slo_section

REPORT_FILES = ("report.pdf", "report.html", "report.md")


def write_report(warehouse: Path, month: dt.date, reports_dir: Path) -> dict[str, Path]:
    """Write reports/YYYY-MM/ (report.pdf, report.html, report.md, charts/); a re-run replaces the folder.

    The new folder is built beside the old one and swapped in, so a reader never sees half a report.
    """
    data = load_report_data(warehouse, month)
    reports_dir.mkdir(parents=True, exist_ok=True)
    final = reports_dir / f"{month:%Y-%m}"
    work = reports_dir / f".{month:%Y-%m}.{os.getpid()}.tmp"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        charts = render_charts(data, work / "charts")
        blocks = build_blocks(data, charts)
        # the cost section goes before the appendices
        at = next(
            (i for i, b in enumerate(blocks) if b.kind == "heading" and b.text.startswith("Appendix")),
            len(blocks),
        )
        blocks[at:at] = [
            *cost_section(warehouse, month),
            *operations_section(warehouse, month),
            *alerts_section(warehouse, month),
            *slo_section(warehouse, month),
            *platform_section(warehouse, month),
            *security_section(warehouse, month),
        ]
        title = f"Platform KPI report {month:%Y-%m}"
        (work / "report.md").write_text(render_markdown(blocks))
        (work / "report.html").write_text(render_html(blocks, title))
        render_pdf(blocks, work / "report.pdf", title)
        old = reports_dir / f".{month:%Y-%m}.{os.getpid()}.old"
        if final.exists():
            os.replace(final, old)
        os.replace(work, final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    paths = {name: final / name for name in REPORT_FILES}
    paths.update({f"charts/{p.name}": final / "charts" / p.name for p in charts.values()})
    return paths
