"""The monthly report's security section: sentences and tables computed from the golden organisation
of test_security_kpis (values by hand there), names escaped, and the section in the demo's report."""

from __future__ import annotations

import datetime as dt

import pytest

from platform_kpi.reporting.render import render_markdown
from platform_kpi.reporting.security import security_section
from tests.security.helpers import build_security_warehouse
from tests.security.test_security_kpis import AS_OF, WORKSPACES, _files


@pytest.fixture(scope="module")
def warehouse(module_tmp):
    return build_security_warehouse(module_tmp, _files(), as_of=AS_OF, kpi_yaml_extra=WORKSPACES)


def test_january_section_by_hand(warehouse):
    text = render_markdown(security_section(warehouse, dt.date(2026, 1, 1)))
    # adherence 2 / 4, target 0.90 missed; C open past SLA at the month's end; median fix 10079/1440 d
    assert "50.0% of the 4 critical and high findings" in text and "(target 90.0%, missed)" in text
    assert "open past their SLA at the month's end: 1;" in text and "the median fix took 7.0 d" in text
    # Conftest 3 / 5 compliant, 2 / 5 with warnings; 3 active waivers (W2, risk-accepted #3 and api's
    # Conftest exception for run_as_root), W1 expired and not closed
    assert "60.0% of the evaluated changes" in text and "(40.0% had warnings)" in text
    assert "3 waivers were active" in text and "expired without being closed: 1." in text
    # provenance 1 / 2 with 2 deployments without a digest; drift 2 / 14; provisioning 4.5 h
    assert "50.0% of the production deployments" in text and "(2 without a digest)" in text
    assert "14.3% of the managed infrastructure" in text and "took 4.5 h" in text
    assert "| payments | 1 | 0 | 1.0 d |" in text  # C (api, team payments), due 01-31, one day overdue
    assert "| register:W1 | api | no-root-containers | 2026-01-15 |" in text


def test_the_demo_report_has_the_section():
    from tests.dashboards.demo import REPORT_MONTH, demo_home

    report = (demo_home() / "reports" / f"{REPORT_MONTH:%Y-%m}" / "report.md").read_text()
    assert "## Security and compliance" in report
    assert report.index("## Security and compliance") < report.index("## Appendix")
