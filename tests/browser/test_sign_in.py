"""The dashboard behind an authenticating reverse proxy (KPI_DASHBOARD_AUTH=proxy), in headless
Chromium: the proxy's X-Forwarded-User / X-Forwarded-Groups headers are sent as a proxy would send
them. A request without them is refused with a sign-in message; the SQL page exists only for members
of KPI_DASHBOARD_SQL_GROUP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import serve
from tests.dashboards.hostile import TODAY, hostile_warehouse

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def proxied_url(module_tmp: Path) -> Iterator[str]:
    tmp = module_tmp
    env = {
        "KPI_WAREHOUSE": str(hostile_warehouse(tmp)),
        "KPI_TODAY": TODAY.isoformat(),
        "KPI_DASHBOARD_AUTH": "proxy",
        "KPI_DASHBOARD_SQL_GROUP": "kpi-sql",
    }
    with serve(env, tmp / "streamlit.log") as url:
        yield url


def open_as(browser, url: str, headers: dict[str, str]):
    context = browser.new_context(extra_http_headers=headers, viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.wait_for_selector("h1")
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    page.wait_for_timeout(500)
    return page


def nav(page) -> list[str]:
    return [
        t.splitlines()[-1].strip() for t in page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()
    ]


@pytest.mark.parametrize("path", ["", "overview", "sql"])
def test_a_request_without_the_proxy_headers_is_refused(browser, proxied_url: str, path: str) -> None:
    page = open_as(browser, f"{proxied_url}/{path}", {})
    assert page.get_by_text("Sign in first").count() == 1
    assert page.locator("h1").first.inner_text().strip() == "Platform KPIs"
    assert page.locator("[data-testid='stMetric']").count() == 0 and nav(page) == []
    assert page.locator("textarea").count() == 0
    page.context.close()


def test_the_sql_page_is_hidden_from_a_user_outside_the_group(browser, proxied_url: str) -> None:
    page = open_as(
        browser, f"{proxied_url}/", {"X-Forwarded-User": "ann", "X-Forwarded-Groups": "staff, finance"}
    )
    assert page.locator("h1").first.inner_text().strip() == "Overview"
    assert "Overview" in nav(page) and "SQL" not in nav(page)
    assert page.get_by_text("Signed in as ann").count() == 1
    page.goto(f"{proxied_url}/sql")  # typed by hand: not a page for this user
    page.wait_for_selector("h1")
    page.wait_for_timeout(1500)
    assert page.locator("h1").first.inner_text().strip() != "SQL"
    assert page.locator("textarea").count() == 0
    page.context.close()


def test_the_sql_page_is_shown_to_a_member_of_the_group(browser, proxied_url: str) -> None:
    page = open_as(
        browser, f"{proxied_url}/sql", {"X-Forwarded-User": "bob", "X-Forwarded-Groups": "staff,kpi-sql"}
    )
    assert page.locator("h1").first.inner_text().strip() == "SQL"
    assert "SQL" in nav(page)
    page.wait_for_selector("textarea")  # the query box
    page.context.close()
