"""Team, service and repo names reach the monthly report as text: a name that is Markdown or HTML
never becomes a link, bold text or markup in the HTML, the Markdown or the PDF."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from platform_kpi.reporting.report import write_report
from tests.dashboards.hostile import BOLD, HTML, LINK, MONTH, hostile_warehouse
from tests.reports.test_report import poppler


@pytest.fixture(scope="module")
def report(module_tmp: Path) -> dict[str, Path]:
    tmp = module_tmp
    return write_report(hostile_warehouse(tmp), MONTH, tmp / "reports")


def test_the_html_report_escapes_names(report: dict[str, Path]) -> None:
    page = report["report.html"].read_text()
    assert "<a " not in page and "href" not in page
    assert "<b>" not in page and "<i>" not in page
    assert "<strong>bold</strong>" not in page
    for name in (LINK, HTML, BOLD):
        shown = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert shown in page, name
    # the summary names the teams in a sentence: the sentence keeps the report's own bold, and the
    # name inside it is text
    summary = page.split("Executive summary", 1)[1].split("<h2>", 1)[0]
    assert "Across teams, " in summary and "<strong>" in summary
    assert all(name.replace("<", "&lt;").replace(">", "&gt;") in summary for name in (LINK, HTML, BOLD))


def test_the_markdown_report_escapes_names(report: dict[str, Path]) -> None:
    text = report["report.md"].read_text()
    for name in (LINK, HTML, BOLD, "[repo](https://example.com/repo)"):
        assert name not in text, name
    assert "### \\[click\\](https:\u200b//example.com)" in text  # the team's heading, not a link
    assert "\\*\\*bold\\*\\*" in text and "\\<b\\>x\\</b\\>" in text


def test_the_pdf_report_shows_names_as_typed_with_no_link(report: dict[str, Path]) -> None:
    pdf = report["report.pdf"]
    assert b"/URI" not in pdf.read_bytes()  # no link annotation
    text = subprocess.run(
        [poppler("pdftotext"), str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    text = " ".join(text.split())
    summary = text.split("Executive summary", 1)[1].split("All KPIs", 1)[0]
    for name in (LINK, HTML, BOLD):
        assert name in summary, name
