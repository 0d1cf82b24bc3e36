"""The demo organisation's service desk: a SQLite replica of its platform support tickets and its
architecture review register, read by the product's SQL source exactly as a customer's ServiceNow or
Jira database replica would be (``sources.yaml`` ``sql``, written beside it).

What the data shows: the platform team gets better at support and reviews over the two years. The
median time to resolve a support ticket falls from about 30 hours to about 12; the median review
cycle falls from about 8 business days to about 4. About 5% of tickets are cancelled, and about 4%
are reopened once and resolved again later (the row holds the last resolution, as a replica does).
Tickets and reviews come from the teams of ``services.csv``; a ticket names the service it is about
half the time. Same arguments give the same database.
"""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from pathlib import Path

import numpy as np

DATABASE = "service_desk.sqlite"
SOURCES_FILE = "sources.yaml"

TICKETS_QUERY = (
    "select number as ticket_id, opened_at as created_at, resolved_at, state as status, "
    "requester_group as team, cmdb_ci as service, priority, category as kind, sys_updated_on as updated_at "
    "from sn_support_tickets"
)
REVIEWS_QUERY = (
    "select id as review_id, requested as requested_at, decided as completed_at, team, service, outcome, "
    "title, modified as updated_at from arch_reviews"
)


def _ts(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _services(files_dir: Path) -> list[tuple[str, str]]:
    with (files_dir / "services.csv").open(newline="", encoding="utf-8") as f:
        return [(r["service"], r["team"]) for r in csv.DictReader(f) if r.get("service") and r.get("team")]


def _business_later(start: dt.datetime, days: float) -> dt.datetime:
    """``days`` business days (Monday to Friday, 24 h each) after ``start``."""
    left = dt.timedelta(days=days)
    at = start
    while left > dt.timedelta(0):
        if at.weekday() >= 5:  # jump to Monday 00:00
            at = dt.datetime.combine(at.date() + dt.timedelta(days=7 - at.weekday()), dt.time())
            continue
        day_end = dt.datetime.combine(at.date() + dt.timedelta(days=1), dt.time())
        step = min(left, day_end - at)
        at += step
        left -= step
    return at


def generate_service_desk(
    home: Path, files_dir: Path, *, months: int = 24, seed: int = 7, today: dt.date
) -> dict[str, int]:
    """Write ``home/service_desk.sqlite`` and the ``home/sources.yaml`` that reads it; returns counts."""
    rng = np.random.default_rng(seed + 1515)
    services = _services(files_dir)
    teams = sorted({team for _, team in services})
    start = dt.date(today.year, today.month, 1)
    for _ in range(months):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    first = dt.datetime.combine(start, dt.time())
    now = dt.datetime.combine(today, dt.time())
    span = (now - first).total_seconds()

    tickets = []
    for i in range(int(span / 86400 * 2.2)):  # about 66 tickets a month
        opened = first + dt.timedelta(seconds=float(rng.uniform(0, span)))
        progress = (opened - first).total_seconds() / span  # 0 two years ago, 1 today
        median_h = 30 - 18 * progress
        hours = float(rng.lognormal(np.log(median_h), 0.9))
        service, team = services[int(rng.integers(len(services)))]
        state, resolved = "Resolved", opened + dt.timedelta(hours=hours)
        updated = resolved
        roll = rng.random()
        if roll < 0.05:
            state, resolved = "Canceled", None
            updated = opened + dt.timedelta(hours=hours / 4)
        elif roll < 0.09:  # reopened once: resolved again days after the first resolution
            resolved = resolved + dt.timedelta(days=float(rng.uniform(1, 6)))
            updated = resolved
        if resolved is not None and resolved > now:
            state, resolved, updated = "In Progress", None, opened
        if state == "Resolved" and rng.random() < 0.3:
            state = "Closed"
        tickets.append(
            (
                f"RITM{i + 1:07d}",
                _ts(opened),
                _ts(resolved) if resolved else None,
                state,
                team,
                service if rng.random() < 0.5 else None,
                f"{int(rng.integers(2, 5))} - {['High', 'Moderate', 'Low'][int(rng.integers(3))]}",
                ["access", "pipeline", "cluster", "question"][int(rng.integers(4))],
                _ts(updated),
            )
        )

    reviews = []
    for i in range(int(span / 86400 / 4.5)):  # about 7 reviews a month
        requested = first + dt.timedelta(seconds=float(rng.uniform(0, span)))
        progress = (requested - first).total_seconds() / span
        days = float(rng.lognormal(np.log(8 - 4 * progress), 0.5))
        decided = _business_later(requested, days)
        team = teams[int(rng.integers(len(teams)))]
        owned = [s for s, t in services if t == team]
        if decided > now:
            decided = None
        reviews.append(
            (
                i + 1,
                _ts(requested),
                _ts(decided) if decided else None,
                team,
                owned[int(rng.integers(len(owned)))] if owned else None,
                None
                if decided is None
                else ["approved", "approved", "changes requested"][int(rng.integers(3))],
                f"Design review {i + 1}",
                _ts(decided or requested),
            )
        )

    path = home / DATABASE
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as con:
        con.execute(
            "create table sn_support_tickets (number text primary key, opened_at text, resolved_at text, "
            "state text, requester_group text, cmdb_ci text, priority text, category text, sys_updated_on text)"
        )
        con.execute(
            "create table arch_reviews (id integer primary key, requested text, decided text, team text, "
            "service text, outcome text, title text, modified text)"
        )
        con.executemany("insert into sn_support_tickets values (?, ?, ?, ?, ?, ?, ?, ?, ?)", tickets)
        con.executemany("insert into arch_reviews values (?, ?, ?, ?, ?, ?, ?, ?)", reviews)
    con.close()
    (home / SOURCES_FILE).write_text(
        "# The demo's service desk, read like a ServiceNow replica (see config/sources.example.yaml).\n"
        "history_days: 3650\n"
        "sql:\n"
        f"  url: sqlite:///{path.resolve()}\n"
        "  entities:\n"
        f'    tickets: {{query: "{TICKETS_QUERY}"}}\n'
        f'    reviews: {{query: "{REVIEWS_QUERY}"}}\n',
        encoding="utf-8",
    )
    return {"support tickets": len(tickets), "architecture reviews": len(reviews)}


def generate_developer_survey(
    files_dir: Path, *, months: int = 24, seed: int = 7, today: dt.date
) -> dict[str, int]:
    """Write ``files_dir/survey_responses.csv``: a developer-experience survey in the middle month of
    every quarter, answered by 3 to 12 people per team (a team under 5 respondents shows no value).
    Satisfaction (1-5) rises from about 3.2 to 3.9 and the NPS from about -10 to +25 over the two years;
    a free-text comment column is in the export, as survey tools write it, and is never loaded."""
    rng = np.random.default_rng(seed + 2024)
    teams = sorted({team for _, team in _services(files_dir)})
    first = dt.date(today.year, today.month, 1)
    for _ in range(months):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    rows = []
    month = first
    while month < today:
        if month.month % 3 == 2:  # February, May, August, November
            progress = ((month.year - first.year) * 12 + month.month - first.month) / max(months, 1)
            for team in teams:
                for _ in range(int(rng.integers(3, 13))):
                    day = dt.datetime.combine(month, dt.time(9)) + dt.timedelta(
                        hours=float(rng.uniform(0, 24 * 12))
                    )
                    if day.date() >= today:
                        continue
                    satisfaction = int(np.clip(round(rng.normal(3.2 + 0.7 * progress, 0.9)), 1, 5))
                    nps = int(np.clip(round(rng.normal(6.8 + 1.2 * progress, 2.0)), 0, 10))
                    rows.append(
                        (
                            f"r{len(rows) + 1:05d}",
                            day.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            team,
                            f"{month.year}-Q{(month.month - 1) // 3 + 1}",
                            satisfaction,
                            nps,
                            "free text is never loaded",
                        )
                    )
        month = (month + dt.timedelta(days=32)).replace(day=1)
    with (files_dir / "survey_responses.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["response_id", "submitted_at", "team", "survey", "satisfaction", "nps", "comment"])
        writer.writerows(rows)
    return {"survey responses": len(rows)}


TOPICS = (
    "Golden path onboarding",
    "CI templates",
    "Terraform modules",
    "Observability basics",
    "Secure supply chain",
    "Incident response drill",
)


def generate_enablement_register(
    files_dir: Path, *, months: int = 24, seed: int = 7, today: dt.date
) -> dict[str, int]:
    """Write ``files_dir/enablement_sessions.csv``: the platform team's sessions register. A monthly
    organisation-wide office hour, plus team sessions that grow from about 1 to 5 a month over the two
    years, so the share of teams reached each quarter rises from about a quarter to most of them.
    Attendees are made-up handles per team (``dev<n>.<team>``), 2 to 9 per session."""
    rng = np.random.default_rng(seed + 2025)
    teams = sorted({team for _, team in _services(files_dir)})
    first = dt.date(today.year, today.month, 1)
    for _ in range(months):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    rows = []
    month = first
    while month < today:
        progress = ((month.year - first.year) * 12 + month.month - first.month) / max(months, 1)
        sessions = [(None, "Platform office hours")]
        sessions += [
            (str(rng.choice(teams)), str(rng.choice(TOPICS)))
            for _ in range(int(rng.poisson(1 + 4 * progress)))
        ]
        for team, topic in sessions:
            held = dt.datetime.combine(month, dt.time(10)) + dt.timedelta(days=int(rng.integers(0, 27)))
            if held.date() >= today:
                continue
            pool = [t for t in teams if t == team] or teams
            attendees = sorted(
                {f"dev{int(rng.integers(1, 12))}.{rng.choice(pool)}" for _ in range(int(rng.integers(2, 10)))}
            )
            rows.append(
                (
                    f"s{len(rows) + 1:04d}",
                    held.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    topic,
                    team or "",
                    ";".join(attendees),
                )
            )
        month = (month + dt.timedelta(days=32)).replace(day=1)
    with (files_dir / "enablement_sessions.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["session_id", "held_at", "topic", "team", "attendees"])
        writer.writerows(rows)
    return {"enablement sessions": len(rows)}
