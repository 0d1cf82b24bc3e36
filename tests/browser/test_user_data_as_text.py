"""Team, service and repo names that are Markdown or HTML show as typed in the running dashboard
(headless Chromium): no link to example.com, no bold or italic element made from a name, on every
page that shows names, with a team and a service chosen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from platform_kpi.reporting.report import write_report
from tests.browser.conftest import serve
from tests.browser.test_dashboard_browser import wait_ready
from tests.dashboards.hostile import BOLD, HTML, LINK, MONTH, SERVICES, TODAY, hostile_warehouse

pytestmark = pytest.mark.browser

LINKS_TO_EXAMPLE = """() => [...document.querySelectorAll('a')].map(a => a.getAttribute('href') || a.getAttribute('xlink:href') || '')
    .filter(h => h.includes('example.com'))"""
# elements a name would have made: <b>x</b>, <i>svc</i>, **bold** / **svc** as <strong>
MADE_FROM_NAMES = """() => [...document.querySelectorAll('b, i, strong, em')].map(e => e.textContent.trim())
    .filter(t => ['x', 'svc', 'bold', 'click', 'r', 'repo'].includes(t))"""


@pytest.fixture(scope="module")
def hostile_url(module_tmp: Path) -> Iterator[str]:
    tmp = module_tmp
    warehouse = hostile_warehouse(tmp)
    write_report(warehouse, MONTH, tmp / "reports")
    env = {
        "KPI_WAREHOUSE": str(warehouse),
        "KPI_REPORTS_DIR": str(tmp / "reports"),
        "KPI_TODAY": TODAY.isoformat(),
    }
    with serve(env, tmp / "streamlit.log") as url:
        yield url


SERVICE = "[svc](https://example.com/svc)"
VIEWS = [
    ("overview", {}),
    ("overview", {"team": LINK}),
    ("delivery", {"team": HTML}),
    ("stability", {"team": BOLD}),
    ("ci", {"team": LINK}),
    ("teams", {"team": LINK}),
    ("service", {}),
    ("service", {"team": LINK, "service": SERVICE}),
    ("service", {"team": HTML, "service": "<i>svc</i>"}),
    ("reports", {}),
]


@pytest.mark.parametrize(("path", "params"), VIEWS, ids=[f"{p}-{i}" for i, (p, _) in enumerate(VIEWS)])
def test_names_render_as_text(page, hostile_url: str, path: str, params: dict[str, str]) -> None:
    query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    page.goto(f"{hostile_url}/{path}" + (f"?{query}" if query else ""))
    wait_ready(page, 2 if path == "teams" else 0)
    if path == "reports":
        page.get_by_text("The whole report (Markdown)").click()
        page.wait_for_timeout(500)
    assert page.locator("[data-testid='stException']").count() == 0
    # the chosen names are the ones in force (the filter did not fall back to "All"), shown as typed
    # (a bare URL carries an invisible zero-width space that keeps it from becoming a link)
    shown = page.evaluate("() => document.body.innerText").replace("\u200b", "")
    if "team" in params:
        assert params["team"] in shown  # in the caption ("team …") and the filter
    assert page.evaluate(LINKS_TO_EXAMPLE) == []
    assert page.evaluate(MADE_FROM_NAMES) == []
    html = page.content()
    assert '<a href="https://example.com' not in html and "<a href='https://example.com" not in html
    if params.get("service"):
        team, repo = SERVICES[params["service"]]
        caption = (
            page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']")
            .first.inner_text()
            .replace("\u200b", "")
        )
        assert team in caption and repo in caption  # the chosen service's team and repo, as typed
