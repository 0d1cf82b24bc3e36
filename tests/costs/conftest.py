import datetime as dt
from pathlib import Path

import pytest

DEMO_TODAY = dt.date(2026, 5, 9)


@pytest.fixture(scope="session")
def cost_demo(tmp_path_factory) -> Path:
    """The published warehouse of a Dagster run on a small demo organisation with its costs."""
    from pipelines.execute import run_pipeline
    from platform_kpi.demo.org import generate_demo_costs, generate_demo_org

    home = tmp_path_factory.mktemp("cost-demo")
    generate_demo_org(home / "files", services=12, seed=5, today=DEMO_TODAY)
    generate_demo_costs(home / "files", seed=5, today=DEMO_TODAY)
    run_pipeline(home / "files", home / "warehouse.duckdb", reports_dir=home / "reports")
    return home / "warehouse.duckdb"
