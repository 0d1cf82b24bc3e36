"""The demo organisation's alerts: ``alerts.csv`` beside the delivery files, consistent with the
services and incidents :func:`platform_kpi.demo.org.generate_demo_org` wrote, read by the file import
like any alerting tool's export.

What the data shows: every incident is paged by one to three alerts that belong to it (acknowledged by
the on-call person nine times in ten, resolved with the incident). Besides them each service raises
alerts of its own (teams of the lower delivery tiers more): some need a person, the rest is noise that
resolves itself (auto, timeout) or is acknowledged only by an integration. Noise falls over the two
years as the teams tune their alerting: from about two alerts in three to about one in four, and
volume with it. Three noisy checks (``disk-space-check``, ``synthetic-heartbeat``,
``node-exporter-cpu``) raise most of the noise early and are tamed along the way. Deterministic for a
seed; a few thousand rows, well under a second.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

FILE = "alerts.csv"
COLUMNS = (
    "alert_id", "service", "created_at", "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by",
    "incident_id", "severity", "occurrences", "alert_source",
)  # fmt: skip
NOISY_SOURCES = ("disk-space-check", "synthetic-heartbeat", "node-exporter-cpu")
SOURCES = ("prometheus", "datadog-apm", "cloudwatch", "sentry", "blackbox-exporter")
_SEVERITY = {"sev1": "critical", "sev2": "error", "sev3": "warning", "sev4": "warning"}


def generate_alerts(files_dir: Path, *, months: int = 24, seed: int = 7, today: dt.date) -> dict[str, int]:
    """Write ``files_dir/alerts.csv`` from ``services.csv`` and ``incidents.csv``; returns the count."""
    rng = np.random.default_rng(seed + 1515 + 15)
    services = pd.read_csv(files_dir / "services.csv", dtype=str).dropna(subset=["service", "team"])
    incidents = pd.read_csv(files_dir / "incidents.csv", dtype=str)
    for col in ("created_at", "resolved_at"):
        stamps = pd.to_datetime(incidents[col], utc=True, errors="coerce", format="mixed")
        incidents[col] = (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    incidents = incidents[incidents["service"].isin(services["service"]) & incidents["created_at"].notna()]
    first = dt.date(today.year, today.month, 1)
    for _ in range(months):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    start = dt.datetime.combine(first, dt.time(), dt.UTC).timestamp()
    now = dt.datetime.combine(today, dt.time(), dt.UTC).timestamp()
    span = now - start
    rows: list[tuple] = []
    nan = float("nan")

    def add(service, created, ack_at, ack_by, resolved_at, resolved_by, incident, severity, count, source):
        acked = ack_at is not None and ack_at < now
        resolved = resolved_at is not None and resolved_at < now
        rows.append(
            (
                service,
                created,
                ack_at if acked else nan,
                ack_by if acked else "",
                resolved_at if resolved else nan,
                resolved_by if resolved else "",
                incident,
                severity,
                count,
                source,
            )
        )

    # the alerts that paged each incident
    for inc in incidents.itertuples(index=False):
        if inc.created_at < start or inc.created_at >= now:
            continue
        for k in range(int(rng.integers(1, 4))):
            created = inc.created_at - 60 * (float(rng.uniform(0, 4)) + 3 * k)
            person = rng.random() < 0.9
            ack = created + 60 * float(rng.lognormal(np.log(4), 0.6))
            resolved = inc.resolved_at if inc.resolved_at == inc.resolved_at else None  # NaN: still open
            if resolved is not None and resolved < ack:  # the incident row resolved before it opened
                resolved = ack + 1800
            add(
                inc.service,
                created,
                ack,
                "person" if person else "integration",
                resolved,
                "person",
                inc.incident_id,
                _SEVERITY.get(str(inc.severity).lower(), "error"),
                1,
                SOURCES[int(rng.integers(len(SOURCES)))],
            )

    # each service's own alerts, month by month
    tiers = {t: i for i, t in enumerate(sorted(services["team"].unique()))}
    owners = list(zip(services["service"], services["team"], strict=True))
    month = first
    while month < today:
        nxt = (month + dt.timedelta(days=32)).replace(day=1)
        lo = dt.datetime.combine(month, dt.time(), dt.UTC).timestamp()
        hi = dt.datetime.combine(nxt, dt.time(), dt.UTC).timestamp()
        progress = (lo - start + 1) / span  # 0 two years ago, 1 today
        noise_share = 0.62 - 0.38 * progress
        for service, team in owners:
            base = 3.0 + 1.5 * (tiers[team] % 4)  # some teams are paged more than others
            n = int(rng.poisson(base * (1.25 - 0.45 * progress)))
            for created, u, v, w in zip(
                rng.uniform(lo, hi, n).tolist(),
                rng.random(n).tolist(),
                rng.random(n).tolist(),
                rng.random(n).tolist(),
                strict=True,
            ):
                if created >= now:
                    continue
                if u < noise_share:
                    # noise: a noisy check (less and less of it) or a regular source resolving itself
                    noisy = v < 0.7 - 0.4 * progress
                    source = NOISY_SOURCES[int(w * 3)] if noisy else SOURCES[int(w * 5)]
                    by_integration = w * 7 % 1 < 0.2
                    add(
                        service,
                        created,
                        created + 20 if by_integration else None,
                        "integration",
                        created + 60 * float(rng.lognormal(np.log(6), 0.8)),
                        "timeout" if v * 5 % 1 < 0.15 else "auto",
                        "",
                        "warning" if w * 11 % 1 < 0.7 else "info",
                        int(1 + (w * 13 % 1) * 29) if noisy else 1,
                        source,
                    )
                else:
                    ack = created + 60 * float(rng.lognormal(np.log(8), 0.7))
                    add(
                        service,
                        created,
                        ack,
                        "person",
                        ack + 60 * float(rng.lognormal(np.log(40), 0.8)),
                        "person",
                        "",
                        "error" if v < 0.6 else "critical",
                        1,
                        SOURCES[int(w * 5)],
                    )
        month = nxt

    rows.sort(key=lambda r: r[1])
    frame = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "alert_id"])
    frame.insert(0, "alert_id", [f"alrt-{i + 1:06d}" for i in range(len(frame))])
    for col in ("created_at", "acknowledged_at", "resolved_at"):
        stamps = frame[col].to_numpy(dtype="float64").astype("datetime64[s]")
        text = np.char.add(np.datetime_as_string(stamps, unit="s"), "Z")
        frame[col] = np.where(np.isnan(frame[col].to_numpy(dtype="float64")), "", text)
    frame.to_csv(files_dir / FILE, index=False)
    return {"alerts": len(frame)}
