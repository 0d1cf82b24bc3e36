"""The monthly report on the demo warehouse: the PDF has every section and the numbers of
marts.kpi_monthly, the three formats agree, a re-run replaces the month, and the command works."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kpi_cli.main import main
from platform_kpi.catalog import format_value, kpi_group
from platform_kpi.reporting.report import write_report
from platform_kpi.reporting.slos import SLO_KPIS
from platform_kpi.warehouse import read_connection
from tests.dashboards.demo import REPORT_MONTH

REPO = Path(__file__).resolve().parents[2]
PAGES_DIR = REPO / "test-artifacts" / "report-pages"


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} not found (apt-get install poppler-utils)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with read_connection(warehouse) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def pdf_text(demo: Path) -> str:
    pdf = demo / "reports" / "2026-10" / "report.pdf"
    out = subprocess.run(
        [poppler("pdftotext"), str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return " ".join(out.split())  # lines wrap anywhere: compare on single spaces


def test_pdf_has_the_sections(pdf_text: str, demo: Path) -> None:
    for section in (
        "Platform KPI report — October 2026",
        "Executive summary",
        "All KPIs (organisation)",
        "Teams",
        "Appendix: data quality",
        "Sources and freshness",
        "Quarantined input rows",
        "Data checks",
        "Appendix: definitions",
    ):
        assert section in pdf_text, section
    teams = [
        r[0] for r in rows(demo / "warehouse.duckdb", "select distinct team from core.services order by 1")
    ]
    positions = [pdf_text.index(team, pdf_text.index("DORA tier by team")) for team in teams]
    assert len(positions) == len(teams) == 8


def test_pdf_numbers_equal_kpi_monthly(pdf_text: str, demo: Path) -> None:
    warehouse = demo / "warehouse.duckdb"
    five = [*kpi_group("throughput"), *kpi_group("instability")]
    org = rows(
        warehouse,
        "select d.name, k.value, k.unit, k.tier, k.sample_size from marts.kpi_monthly k "
        "join marts.kpi_definitions d using (kpi_id) where k.month = ? and k.scope_type = 'org' and kpi_id in ?",
        [REPORT_MONTH, five],
    )
    assert len(org) == 5
    for name, value, unit, tier, n in org:
        tier_text = f"{tier} tier, DORA 2024" if tier else "no DORA tier"
        assert f"{name} was {format_value(value, unit)} in October 2026 ({tier_text}" in pdf_text
        assert f"n = {n:,}." in pdf_text
    team_rows = rows(
        warehouse,
        "select k.scope, d.name, k.value, k.unit, k.tier from marts.kpi_monthly k join marts.kpi_definitions d "
        "using (kpi_id) where k.month = ? and k.scope_type = 'team' and kpi_id in ?",
        [REPORT_MONTH, five],
    )
    for _team, name, value, unit, tier in team_rows:
        assert f"{name} {format_value(value, unit)} ({tier or 'no DORA'} tier" in pdf_text
    # targets met, counted here from the table itself
    met, with_target = rows(
        warehouse,
        "select count(*) filter (where target_met), count(target_met) from marts.kpi_monthly "
        "where month = ? and scope_type = 'org'",
        [REPORT_MONTH],
    )[0]
    assert f"{met} of {with_target} KPIs with a target met it in October 2026" in pdf_text
    quarantined = rows(warehouse, "select count(*) from ops.quarantine")[0][0]
    assert f"Quarantined input rows (not counted in any KPI): {quarantined}." in pdf_text
    assert "unknown status exploded" in pdf_text


def test_pdf_pages_render_to_png(demo: Path) -> None:
    PAGES_DIR.mkdir(parents=True, exist_ok=True)
    for old in PAGES_DIR.glob("page-*.png"):
        old.unlink()
    subprocess.run(
        [
            poppler("pdftoppm"),
            "-r",
            "70",
            "-png",
            str(demo / "reports" / "2026-10" / "report.pdf"),
            str(PAGES_DIR / "page"),
        ],
        check=True,
    )
    pages = sorted(PAGES_DIR.glob("page-*.png"))
    assert len(pages) >= 4
    from PIL import Image

    with Image.open(pages[0]) as first:
        colors = first.convert("L").getextrema()
    assert colors[0] < 80 and colors[1] > 240  # text on white, not a blank page


def test_pdf_page_leads_with_throughput_and_instability(demo: Path) -> None:
    """The page after the title: the executive summary by DORA group, then the Quick Check table of
    the organisation with its spread across services and DORA's caution. The page is rendered to PNG
    (test-artifacts/report-pages/groups-page.png) to be looked at."""
    pdf = demo / "reports" / "2026-10" / "report.pdf"
    text = subprocess.run(
        [poppler("pdftotext"), "-f", "1", "-l", "2", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    flat = " ".join(text.split())
    summary = flat.index("Executive summary")
    throughput = [flat.index(f"Throughput: {name} was", summary) for name in _names("throughput", demo)]
    instability = [flat.index(f"Instability: {name} was", summary) for name in _names("instability", demo)]
    assert len(throughput) == 3 and len(instability) == 2
    assert max(throughput) < min(instability)  # throughput first, then instability, in catalog order
    assert throughput == sorted(throughput) and instability == sorted(instability)
    section = flat.index("Throughput and instability: DORA Quick Check scores")
    assert "DORA's metrics are meant per service (application)" in flat[section:]
    assert "the median of its services' scores, shown with its spread across services" in flat[section:]
    assert "DORA's 2025 Quick Check benchmark, industry all" in flat[section:]
    # The organisation's overall score and its spread, as marts.dora_quick_check holds them.
    score, p25, p75, low, high, services = rows(
        demo / "warehouse.duckdb",
        "select score, score_p25, score_p75, score_min, score_max, services from marts.dora_quick_check "
        "where month = ? and scope_type = 'org' and metric = 'overall'",
        [REPORT_MONTH],
    )[0]
    assert services == 40  # every demo service has a deployment-frequency score
    spread = f"p25-p75 {p25:.1f}-{p75:.1f}; min-max {low:.1f}-{high:.1f}; {services} services"
    md = (demo / "reports" / "2026-10" / "report.md").read_text()
    assert f"| Overall score |  | {score:.1f} | {spread} | — |" in md
    # In the PDF the table's cells wrap: each piece is there, after the section heading.
    for piece in ("Overall score", f"p25-p75 {p25:.1f}-{p75:.1f};", f"min-max {low:.1f}-{high:.1f};"):
        assert piece in flat[section:], piece
    assert "about the" in flat[section:] and "percentile" in flat[section:]
    PAGES_DIR.mkdir(parents=True, exist_ok=True)
    out = PAGES_DIR / "groups-page"
    subprocess.run(
        [poppler("pdftoppm"), "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(out)],
        check=True,
    )
    from PIL import Image

    with Image.open(out.with_suffix(".png")) as page:
        assert page.convert("L").getextrema()[0] < 80  # text on the page


def _names(group: str, demo: Path) -> list[str]:
    ids = kpi_group(group)
    found = dict(
        rows(
            demo / "warehouse.duckdb",
            "select kpi_id, name from marts.kpi_definitions where kpi_id in ?",
            [list(ids)],
        )
    )
    return [found[k] for k in ids]


def test_markdown_and_html_say_what_the_pdf_says(pdf_text: str, demo: Path) -> None:
    folder = demo / "reports" / "2026-10"
    md = (folder / "report.md").read_text()
    html = (folder / "report.html").read_text()
    bullets = [
        line[2:]
        for line in md.split("## Executive summary")[1].split("\n## ")[0].splitlines()
        if line.startswith("- ")
    ]
    assert len(bullets) >= 6
    for bullet in bullets:
        plain = bullet.replace("**", "")
        assert plain in pdf_text
        assert re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", bullet).replace("&", "&amp;") in html
    assert (
        "![DORA's five metrics, last 12 months (organisation): throughput above, instability below]"
        "(charts/dora_trends.png)" in md
    )
    assert (folder / "charts" / "dora_trends.png").stat().st_size > 10_000
    assert html.count("src='data:image/png;base64,") == 2  # self-contained: charts embedded


def test_two_years_of_demo_history_give_year_over_year_values_and_relative_targets(demo: Path) -> None:
    """The demo spans 24 full months, so the report month has last year's value for every KPI that had
    data then, targets relative to the previous year are set, and the report names last year's movers."""
    warehouse = demo / "warehouse.duckdb"
    assert rows(warehouse, "select min(month) from marts.kpi_monthly") == [(dt.date(2024, 11, 1),)]
    year_ago = dt.date(REPORT_MONTH.year - 1, REPORT_MONTH.month, 1)
    pairs = rows(
        warehouse,
        "select k.kpi_id, k.value, k.previous_year_value, k.target, k.target_kind, y.value "
        "from marts.kpi_monthly k join marts.kpi_monthly y using (kpi_id, scope_type, scope) "
        "where k.scope_type = 'org' and k.month = ? and y.month = ? and y.value is not null",
        [REPORT_MONTH, year_ago],
    )
    dora = {"deployment_frequency", "lead_time_for_changes_p50_hours", "change_failure_rate", "mttr_hours"}
    assert dora <= {kpi_id for kpi_id, *_ in pairs} and len(pairs) >= 12
    for kpi_id, _value, previous_year, _target, _kind, then in pairs:
        assert previous_year == pytest.approx(then, rel=1e-12), kpi_id
    # config/kpi.yaml: deployment_frequency +25% and lead time -20% on the previous year
    relative = {kpi_id: (target, then) for kpi_id, _v, _p, target, kind, then in pairs if kind == "relative"}
    assert relative["deployment_frequency"][0] == pytest.approx(relative["deployment_frequency"][1] * 1.25)
    lead = relative["lead_time_for_changes_p50_hours"]
    assert lead[0] == pytest.approx(lead[1] * 0.80)
    md = (demo / "reports" / "2026-10" / "report.md").read_text()
    assert "Biggest movers year over year (since October 2025): " in md


def test_rerunning_a_month_replaces_it(demo: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    write_report(demo / "warehouse.duckdb", REPORT_MONTH, reports)
    (reports / "2026-10" / "stale.txt").write_text("from an older run")
    first = (reports / "2026-10" / "report.md").read_text()
    paths = write_report(demo / "warehouse.duckdb", REPORT_MONTH, reports)
    assert not (reports / "2026-10" / "stale.txt").exists()
    assert (reports / "2026-10" / "report.md").read_text() == first
    assert sorted(p.name for p in reports.iterdir()) == ["2026-10"]  # no temporary folders left
    assert {"report.pdf", "report.html", "report.md"} <= set(paths)


def test_unknown_month_names_the_months_available(demo: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"No KPI values for 2019-01 .* Months available: 2024-11, "):
        write_report(demo / "warehouse.duckdb", parse("2019-01"), tmp_path)


def parse(text: str):
    from platform_kpi.reporting.data import parse_month

    return parse_month(text)


def test_kpi_report_command(demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(
        [
            "report",
            "--month",
            "2026-09",
            "--warehouse",
            str(demo / "warehouse.duckdb"),
            "--out",
            str(tmp_path),
            "--no-deliver",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert f"report.pdf: {tmp_path / '2026-09' / 'report.pdf'}" in out
    assert "September 2026" in (tmp_path / "2026-09" / "report.md").read_text()
    assert (
        main(
            [
                "report",
                "--month",
                "2026-13",
                "--warehouse",
                str(demo / "warehouse.duckdb"),
                "--out",
                str(tmp_path),
            ]
        )
        == 1
    )
    assert "is not in the form YYYY-MM" in capsys.readouterr().out


def test_pdf_operations_section_equals_kpi_monthly(pdf_text: str, demo: Path) -> None:
    warehouse = demo / "warehouse.duckdb"
    section = pdf_text[pdf_text.index("Operations and experience") : pdf_text.index("Appendix: data quality")]
    for kid in kpi_group("operations"):
        [(name, unit, value, n)] = rows(
            warehouse,
            "select d.name, d.unit, k.value, k.sample_size from marts.kpi_monthly k "
            "join marts.kpi_definitions d using (kpi_id) where kpi_id = ? and month = ? and scope_type = 'org'",
            [kid, REPORT_MONTH],
        )
        if kid in SLO_KPIS:  # the SLO part reports them (tests/reports/test_slo_report.py)
            continue
        if kid in ("developer_satisfaction", "developer_nps"):  # the survey runs in November
            assert n == 0 and f"{name}:" not in section, kid
            continue
        assert n > 0, kid
        assert f"{name}: {format_value(value, unit)}" in section, kid
    [(team, value, n)] = rows(
        warehouse,
        "select scope, value, sample_size from marts.kpi_monthly where kpi_id = 'support_resolution_time_p50_hours' "
        "and month = ? and scope_type = 'team' and sample_size > 0 order by scope limit 1",
        [REPORT_MONTH],
    )
    assert f"{team} {format_value(value, 'hours')} (n={n})" in section


def test_report_has_a_platform_section_with_the_numbers_of_kpi_monthly(pdf_text: str, demo: Path) -> None:
    """The Platform section (issue 13): golden-path adoption with its target, template coverage and
    documentation freshness of the month, adoption by team, and the services off the golden path."""
    warehouse = demo / "warehouse.duckdb"
    markdown = (demo / "reports" / "2026-10" / "report.md").read_text()
    section = markdown[markdown.index("\n## Platform\n") : markdown.index("\n## Appendix")]
    kpis = {
        kid: (value, n, target, met)
        for kid, value, n, target, met in rows(
            warehouse,
            "select kpi_id, value, sample_size, target, target_met from marts.kpi_monthly "
            "where month = ? and scope_type = 'org'",
            [REPORT_MONTH],
        )
    }
    value, n, target, met = kpis["golden_path_adoption_rate"]
    assert (
        f"{format_value(value, 'ratio')} of {n} active services were on the golden path" in section
        and f"target {format_value(target, 'ratio')} {'met' if met else 'not met'}" in section
    )
    assert f"{format_value(kpis['pipeline_template_coverage'][0], 'ratio')} of repositories run CI" in section
    docs, docs_n, *_ = kpis["documentation_freshness"]
    assert (
        f"{format_value(docs, 'ratio')} of {docs_n} key documents were updated within the last 180 days"
        in section
    )
    failing = rows(
        warehouse,
        "select service from marts.golden_path_services where month = ? and is_counted and not on_golden_path "
        "order by len(failing_criteria) desc, team, service",  # the report's order: most criteria missing first
        [REPORT_MONTH],
    )
    assert failing and all(f"| {s} |" in section for (s,) in failing[:15])
    for heading in ("Golden path by team", "Services off the golden path"):
        assert heading in section and heading in pdf_text


def test_pdf_alert_noise_part_equals_kpi_monthly(pdf_text: str, demo: Path) -> None:
    warehouse = demo / "warehouse.duckdb"
    section = pdf_text[
        pdf_text.index("Alert noise and platform incidents") : pdf_text.index("Appendix: data quality")
    ]
    for kid in (
        "alert_actionable_ratio",
        "alerts_per_oncall_week",
        "platform_incident_rate",
        "platform_incident_mttr_hours",
    ):
        [(name, unit, value, n, target)] = rows(
            warehouse,
            "select d.name, d.unit, k.value, k.sample_size, k.target from marts.kpi_monthly k "
            "join marts.kpi_definitions d using (kpi_id) where kpi_id = ? and month = ? and scope_type = 'org'",
            [kid, REPORT_MONTH],
        )
        assert n > 0 and target is not None, kid
        assert f"{name}: {format_value(value, unit)}" in section, kid
        assert f"target {format_value(target, unit)}" in section, kid
    [(source, alerts)] = rows(
        warehouse,
        "select alert_source, count(*) from core.alerts where created_at >= ? and created_at < ? "
        "group by 1 order by count(*) filter (where not is_actionable) desc, count(*) desc, 1 limit 1",
        [REPORT_MONTH, dt.date(2026, 11, 1)],
    )
    assert f"{source} {alerts:,}" in section
