"""Alert noise and platform incidents: the settings the SQL models read (config/kpi.yaml
``platform_incidents``). Pure Python (no Dagster)."""

from __future__ import annotations

import duckdb

from platform_kpi.config import PlatformIncidents

SETTINGS_TABLE = ("ops", "platform_incident_settings")


def write_platform_incident_settings(con: duckdb.DuckDBPyConnection, settings: PlatformIncidents) -> None:
    """Replace ops.platform_incident_settings (one row): the platform's owner teams and services, each
    severity's weight (lower-case names) and the weight of any other severity."""
    con.execute(
        "create or replace table ops.platform_incident_settings as select "
        "$teams::varchar[] as owner_teams, $services::varchar[] as services, "
        "$weights::struct(severity varchar, weight double)[] as weights, $default::double as default_weight",
        {
            "teams": list(settings.owner_teams),
            "services": list(settings.services),
            "weights": [{"severity": k, "weight": v} for k, v in sorted(settings.weights.items())],
            "default": settings.default_weight,
        },
    )
