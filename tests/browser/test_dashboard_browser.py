"""The running dashboard in headless Chromium: every page renders its charts on the demo warehouse,
a filter changed through the UI lands in the URL and changes the numbers, and a screenshot of each
page is saved to test-artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from platform_kpi.catalog import format_value
from platform_kpi.warehouse import read_connection
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

# url path, title, plotly charts the page draws on the demo
PAGES = [
    ("", "Overview", 0),  # the root opens the Overview at its own URL
    ("overview", "Overview", 0),
    ("delivery", "Delivery", 4),
    ("stability", "Stability", 4),
    ("ci", "CI", 3),
    ("teams", "Teams", 2),
    ("service?service=payments-queue", "Service drill-down", 2),
    ("data-health", "Data health", 0),
    ("reports", "Monthly reports", 0),
    ("sql", "SQL", 0),
    ("costs", "Costs", 0),  # the demo here has no cost data: the page says so
    # October: 2 service-desk, 3 enablement and 4 alert-noise trends (no survey charts), and the SLO
    # section's budget bars and trend
    ("operations", "Operations & experience", 11),
    ("platform", "Platform adoption", 5),
    ("security", "Security & compliance", 2),
]


def wait_ready(page, charts: int = 0) -> None:
    """Wait until the script run finished and the charts have drawn their SVG."""
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_selector("h1")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0"
    )
    if charts:
        page.wait_for_function(
            f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}"
        )
    page.wait_for_timeout(300)  # let the last frame paint


def metric_values(page) -> dict[str, str]:
    out = {}
    for metric in page.locator("[data-testid='stMetric']").all():
        label = metric.locator("[data-testid='stMetricLabel']").inner_text().strip()
        out[label] = metric.locator("[data-testid='stMetricValue']").inner_text().strip()
    return out


def kpi_value(warehouse: Path, kpi_id: str, month: str, scope_type: str, scope: str) -> str:
    with read_connection(warehouse) as con:
        value, unit = con.execute(
            "select value, unit from marts.kpi_monthly where kpi_id = ? and month = cast(? as date) "
            "and scope_type = ? and scope = ?",
            [kpi_id, month + "-01", scope_type, scope],
        ).fetchone()
    return format_value(value, unit)


def choose(page, label: str, option: str, *, until: str | None = None) -> None:
    """Pick an option of a Streamlit selectbox the way a user does: open it, click the option.

    A click that lands while Streamlit is still re-rendering the page (a long page below the fold, as
    the Delivery page's flow section, or a filter low in a long sidebar) opens nothing or picks
    nothing; a user clicks again, and so does this. ``until``: a JavaScript predicate that holds once
    the pick took effect (e.g. the URL carries the filter)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.get_by_role("combobox", name=label)
    wanted = page.get_by_role("option", name=option, exact=True)
    for attempt in range(3):
        box.click()
        try:
            wanted.wait_for(timeout=5_000)
            wanted.click()
            if until:
                page.wait_for_function(until, timeout=10_000)
            return
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")


def snap(page, name: str) -> None:
    """A screenshot of the whole page: the viewport grows to the height of the app's content."""
    height = page.evaluate(
        '() => Math.max(...[...document.querySelectorAll(\'[data-testid="stMain"], [data-testid="stMainBlockContainer"]\')]'
        ".map(e => e.scrollHeight), 900)"
    )
    page.set_viewport_size({"width": 1440, "height": min(int(height) + 40, 6000)})
    page.wait_for_timeout(500)  # plotly redraws on resize
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size({"width": 1440, "height": 1000})


@pytest.mark.parametrize(
    ("path", "title", "charts"), PAGES, ids=[p[0].split("?")[0] or "root" for p in PAGES]
)
def test_each_page_renders_and_is_screenshotted(
    page, dashboard_url: str, path: str, title: str, charts: int
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{dashboard_url}/{path}")
    wait_ready(page, charts)
    assert page.locator("h1").first.inner_text().strip() == title
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator(".js-plotly-plot").count() >= charts
    assert page.get_by_text("Page not found").count() == 0
    # the page keeps its own URL (the root moves to /overview) and is the one marked in the navigation
    assert urlparse(page.url).path == "/" + (path.split("?")[0] or "overview")
    current = page.locator("[data-testid='stSidebarNav'] a[aria-current='page']")
    assert current.count() == 1 and current.inner_text().splitlines()[-1].strip() == title.replace(
        "Monthly reports", "Reports"
    )
    snap(page, path.split("?")[0] or "overview")
    assert not errors, errors


def test_overview_leads_with_throughput_and_instability_and_says_the_caution(
    page, dashboard_url: str, demo: Path
) -> None:
    """The Overview's first rows are DORA's two groups, then the Quick Check scores with their spread
    and DORA's caution that the metrics are meant per service; saved as overview-dora-groups.png."""
    page.goto(f"{dashboard_url}/overview")
    wait_ready(page)
    headings = [h.inner_text().strip() for h in page.locator("h4").all()]
    assert headings[:4] == ["Throughput", "Instability", "DORA Quick Check", "Also watched"], headings
    for name in ("Throughput", "Instability", "DORA Quick Check"):
        assert page.get_by_role("heading", name=name, exact=True).is_visible()
    caution = page.get_by_text("DORA's metrics are meant per service (application)")
    assert caution.is_visible()
    assert "shown with its spread across services" in caution.inner_text()
    # Five tiles lead, in the catalog's order, with their values from marts.kpi_monthly.
    values = metric_values(page)
    names = list(values)[:5]
    assert names == [
        "Lead time for changes (median)",
        "Deployment frequency",
        "Failed deployment recovery time (median)",
        "Change failure rate",
        "Rework rate",
    ]
    warehouse = demo / "warehouse.duckdb"
    assert values["Rework rate"] == kpi_value(warehouse, "rework_rate", "2026-10", "org", "all")
    # Tier badges name the report year of their clusters.
    assert page.get_by_text(re.compile(r"(Elite|High|Medium|Low) tier · DORA 2024")).first.is_visible()
    # The Quick Check table: the organisation's overall score and its spread across the 40 services.
    with read_connection(warehouse) as con:
        score, p25, p75 = con.execute(
            "select score, score_p25, score_p75 from marts.dora_quick_check where month = date '2026-10-01' "
            "and scope_type = 'org' and metric = 'overall'"
        ).fetchone()
    table = page.locator("[data-testid='stTable']").first
    assert table.is_visible()
    overall = table.locator("tr", has_text="Overall score").inner_text()
    assert (
        f"{score:.1f}" in overall and f"p25-p75 {p25:.1f}-{p75:.1f}" in overall and "40 services" in overall
    )
    assert "about the" in table.inner_text()
    snap(page, "overview-dora-groups")
    assert (SCREENSHOTS / "overview-dora-groups.png").stat().st_size > 50_000


def test_team_filter_through_the_ui_updates_url_and_numbers(page, dashboard_url: str, demo: Path) -> None:
    warehouse = demo / "warehouse.duckdb"
    page.goto(f"{dashboard_url}/")
    wait_ready(page)
    org = metric_values(page)
    assert org["Deployment frequency"] == kpi_value(
        warehouse, "deployment_frequency", "2026-10", "org", "all"
    )

    choose(page, "Team", "payments", until="() => location.search.includes('team=payments')")
    wait_ready(page)
    page.wait_for_function(
        "(v) => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')].some(e => e.innerText.trim() === v)",
        arg=kpi_value(warehouse, "deployment_frequency", "2026-10", "team", "payments"),
    )
    team = metric_values(page)
    for kid, label in (
        ("deployment_frequency", "Deployment frequency"),
        ("lead_time_for_changes_p50_hours", "Lead time for changes (median)"),
        ("change_failure_rate", "Change failure rate"),
    ):
        assert team[label] == kpi_value(warehouse, kid, "2026-10", "team", "payments")
    assert parse_qs(urlparse(page.url).query)["team"] == ["payments"]

    choose(page, "To", "2026-06", until="() => location.search.includes('to=2026-06')")
    wait_ready(page)
    expected = kpi_value(warehouse, "deployment_frequency", "2026-06", "team", "payments")
    page.wait_for_function(
        "(v) => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')].some(e => e.innerText.trim() === v)",
        arg=expected,
    )
    assert metric_values(page)["Deployment frequency"] == expected
    snap(page, "overview-payments-2026-06")

    # the link reproduces the view in a fresh tab
    fresh = page.context.new_page()
    fresh.goto(page.url)
    wait_ready(fresh)
    assert metric_values(fresh)["Deployment frequency"] == expected

    # moving to another page keeps the filters
    page.get_by_role("link", name="Delivery").click()
    page.wait_for_url(re.compile(r"/delivery\?"))
    wait_ready(page, 4)
    query = parse_qs(urlparse(page.url).query)
    assert query["team"] == ["payments"] and query["to"] == ["2026-06"]


def test_sql_page_refuses_a_write_in_the_browser(page, dashboard_url: str) -> None:
    page.goto(f"{dashboard_url}/sql")
    wait_ready(page)
    area = page.locator("textarea").first
    area.fill("drop table marts.kpi_monthly")
    page.get_by_role("button", name=re.compile("Run query")).click()
    page.wait_for_selector("text=DROP refused")
    area.fill("select count(*) as n from marts.kpi_definitions")
    page.get_by_role("button", name=re.compile("Run query")).click()
    page.wait_for_selector("text=1 row")
    snap(page, "sql-result")


def test_export_downloads_the_table_shown(page, dashboard_url: str, demo: Path) -> None:
    import pandas as pd

    page.goto(f"{dashboard_url}/ci?team=checkout")
    wait_ready(page, 3)
    with read_connection(demo / "warehouse.duckdb") as con:
        expected = con.execute(
            "select service, builds, flaky_failures from marts.ci_pipeline_stats "
            "where month = '2026-10-01' and team = 'checkout' order by service"
        ).fetchall()
    for label, reader in (("CSV", pd.read_csv), ("Parquet", pd.read_parquet)):
        with page.expect_download() as info:
            page.get_by_role("button", name=re.compile(label)).last.click()
        download = info.value
        assert download.suggested_filename == f"ci_pipelines_2026_10.{label.lower()}"
        frame = reader(download.path())
        got = [tuple(r) for r in frame[["pipeline", "builds", "flaky_failures"]].itertuples(index=False)]
        assert got == [tuple(r) for r in expected]


def test_pr_flow_stage_bar_drills_into_the_slowest_changes_with_links(
    page, dashboard_url: str, demo: Path
) -> None:
    """The Delivery page's lead-time chart is split by stage (stacked medians per month); choosing a
    month lists that month's slowest changes, each linking to its pull request."""
    page.goto(f"{dashboard_url}/delivery")
    wait_ready(page, 4)
    legend = page.locator(".js-plotly-plot .legendtext").all_text_contents()  # SVG: no innerText
    assert {"coding", "pickup", "review", "deploy", "lead time (median)"} <= set(legend), legend
    assert page.get_by_text("Pull-request flow").count() == 1
    assert "Pickup time (median)" in metric_values(page)

    choose(page, "Slowest changes of", "September 2026")
    wait_ready(page, 4)
    page.wait_for_selector("text=deployed in September 2026")
    with read_connection(demo / "warehouse.duckdb") as con:
        expected = con.execute(
            "select url from core.change_lead_times "
            "where deployed_at >= '2026-09-01' and deployed_at < '2026-10-01' "
            "order by lead_time_sec desc, change_id limit 20"
        ).fetchall()
    links = page.locator("table.link-table a")
    assert links.count() == len(expected) == 20
    hrefs = [a.get_attribute("href") for a in links.all()]
    assert hrefs == [u for (u,) in expected]
    assert all(re.fullmatch(r"https://github\.com/acme/[a-z-]+/pull/\d+", h) for h in hrefs), hrefs
    first = links.first
    assert (first.get_attribute("target"), first.get_attribute("rel")) == ("_blank", "noopener noreferrer")
    page.get_by_text("Pull-request flow").scroll_into_view_if_needed()
    snap(page, "delivery-pr-flow")


def test_platform_page_links_failing_services_and_exports_them(page, dashboard_url: str, demo: Path) -> None:
    """The Platform adoption page: the services off the golden path link to their catalog entries (new
    tab, http(s) only) and the CSV export holds exactly those services and their missing criteria."""
    import pandas as pd

    page.goto(f"{dashboard_url}/platform")
    wait_ready(page, 5)
    with read_connection(demo / "warehouse.duckdb") as con:
        expected = con.execute(
            "select service, catalog_url, array_to_string(failing_criteria, ';') from marts.golden_path_services "
            "where month = '2026-10-01' and is_counted and not on_golden_path order by team, service"
        ).fetchall()
    links = page.locator("table.link-table[data-testid='failing-services'] a")
    assert links.count() == len(expected) > 0
    assert [a.get_attribute("href") for a in links.all()] == [u for _, u, _ in expected]
    assert (links.first.get_attribute("target"), links.first.get_attribute("rel")) == (
        "_blank",
        "noopener noreferrer",
    )
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("CSV")).last.click()
    assert info.value.suggested_filename == "services_off_the_golden_path_2026_10.csv"
    frame = pd.read_csv(info.value.path(), keep_default_na=False)
    assert [
        tuple(r) for r in frame[["service", "catalog_url", "failing_criteria"]].itertuples(index=False)
    ] == expected
    snap(page, "platform-adoption")
