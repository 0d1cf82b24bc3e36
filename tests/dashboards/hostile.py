"""A small warehouse whose team, service and repo names are Markdown and HTML, as a user may type
them in services.csv: every place that shows a name must show it as text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.conftest import bld, build_warehouse, builds, changes, chg, dep, deployments, inc, incidents

LINK, HTML, BOLD = "[click](https://example.com)", "<b>x</b>", "**bold**"
# service -> (team, repo)
SERVICES = {
    "[svc](https://example.com/svc)": (LINK, "[repo](https://example.com/repo)"),
    "<i>svc</i>": (HTML, "<a href='https://example.com/r'>r</a>"),
    "**svc**": (BOLD, "acme/plain"),
}
TODAY = dt.date(2026, 11, 20)  # the dashboard opens on October 2026
MONTH = dt.date(2026, 10, 1)


def hostile_warehouse(tmp: Path) -> Path:
    services = "service,team,repo,tier\n" + "".join(
        f"{s},{team},{repo},tier-1\n" for s, (team, repo) in SERVICES.items()
    )
    deps, chgs, incs, blds = [], [], [], []
    for i, service in enumerate(SERVICES):
        for month in (9, 10, 11):
            for day in (3, 10, 17):
                did = f"d{i}-{month}-{day}"
                failed = day == 10 and month == 10
                deps.append(
                    dep(
                        did,
                        f"2026-{month:02d}-{day:02d}T12:00:00Z",
                        service=service,
                        started_at=f"2026-{month:02d}-{day:02d}T11:50:00Z",
                    )
                )
                chgs.append(
                    chg(
                        f"c{did}",
                        f"2026-{month:02d}-{day - 2:02d}T09:00:00Z",
                        f"2026-{month:02d}-{day - 1:02d}T09:00:00Z",
                        service=service,
                        deployment_id=did,
                    )
                )
                if failed:
                    incs.append(
                        inc(
                            f"i{did}",
                            f"2026-{month:02d}-{day:02d}T13:00:00Z",
                            f"2026-{month:02d}-{day:02d}T15:00:00Z",
                            service=service,
                            cause=did,
                        )
                    )
                blds.append(
                    bld(
                        f"b{did}",
                        f"2026-{month:02d}-{day:02d}T10:00:00Z",
                        f"2026-{month:02d}-{day:02d}T10:12:00Z",
                        service=service,
                        default=True,
                    )
                )
    return build_warehouse(
        tmp,
        {
            "services.csv": services,
            "deployments.csv": deployments(*deps),
            "changes.csv": changes(*chgs),
            "incidents.csv": incidents(*incs),
            "builds.csv": builds(*blds),
        },
    )
