"""The operations-and-experience data of the demo organisation, in one call for `kpi demo` and the
dashboard tests' demo alike: the SQLite service desk (read through the SQL source, with its
sources.yaml), the quarterly developer survey, the enablement register, alerts and SLOs. Run after
platform_kpi.demo.org.generate_demo_org: everything here belongs to its services, teams and incidents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from platform_kpi.demo.alerts import generate_alerts
from platform_kpi.demo.service_desk import (
    generate_developer_survey,
    generate_enablement_register,
    generate_service_desk,
)
from platform_kpi.demo.slos import generate_slos


def generate_demo_operations(
    home: Path, files_dir: Path, *, months: int = 24, seed: int = 7, today: dt.date
) -> dict[str, int]:
    """Write the files (and ``home``'s service desk database and sources.yaml); rows written by kind."""
    counts = generate_service_desk(home, files_dir, months=months, seed=seed, today=today)
    counts.update(generate_developer_survey(files_dir, months=months, seed=seed, today=today))
    counts.update(generate_enablement_register(files_dir, months=months, seed=seed, today=today))
    counts.update(generate_alerts(files_dir, months=months, seed=seed, today=today))
    counts.update(generate_slos(files_dir, months=months, seed=seed, today=today))
    return counts
