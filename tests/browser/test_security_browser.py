"""The Security & compliance page in headless Chromium: choosing a team lists its findings past SLA,
each Dependabot finding linking to its alert (an escaped table, http(s) links only)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from platform_kpi.warehouse import read_connection
from tests.browser.test_dashboard_browser import choose, snap, wait_ready

pytestmark = pytest.mark.browser


def test_past_sla_by_team_drills_down_to_the_findings(page, dashboard_url: str, demo: Path) -> None:
    with read_connection(demo / "warehouse.duckdb") as con:
        (month,) = con.execute(
            "select strftime(month, '%Y-%m') from marts.kpi_monthly where kpi_id = 'open_vulnerabilities_past_sla' "
            "and scope_type = 'org' and value > 0 and month <= '2026-10-01' order by month desc limit 1"
        ).fetchone()
        teams = [
            t
            for (t,) in con.execute(
                "select distinct f.team from marts.kpi_observations o join core.vulnerability_findings f "
                "on o.subject_id = f.finding_id || '@' || ? where o.measure = 'open_vulnerabilities_past_sla' "
                "order by 1",
                [month],
            ).fetchall()
        ]
        team = teams[-1]
        expected = con.execute(
            "select f.finding_id, f.url from marts.kpi_observations o join core.vulnerability_findings f "
            "on o.subject_id = f.finding_id || '@' || ? where o.measure = 'open_vulnerabilities_past_sla' "
            "and f.team = ?",
            [month, team],
        ).fetchall()
    page.goto(f"{dashboard_url}/security?to={month}")
    wait_ready(page, 3)
    assert page.locator("h1").first.inner_text().strip() == "Security & compliance"
    if len(teams) > 1:
        choose(page, "Findings of team", team)
        wait_ready(page, 3)
    table = page.locator("table.link-table[data-testid='past-sla-findings']")
    assert table.locator("tbody tr").count() == len(expected)
    text = table.inner_text()
    assert all(fid in text for fid, _ in expected)
    hrefs = [a.get_attribute("href") for a in table.locator("a").all()]
    assert sorted(hrefs) == sorted(u for _, u in expected if u)
    assert all(re.fullmatch(r"https://github\.com/acme/[a-z-]+/security/dependabot/\d+", h) for h in hrefs), (
        hrefs
    )
    snap(page, "security-past-sla")
