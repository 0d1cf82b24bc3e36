"""Platform adoption (golden paths, pipeline templates, documentation freshness): the rules of
config/kpi.yaml ``platform_adoption`` as the table the SQL models read. Pure Python (no Dagster)."""

from __future__ import annotations

import duckdb

from platform_kpi.config import PlatformAdoption

SETTINGS_TABLE = ("ops", "platform_settings")


def write_platform_settings(con: duckdb.DuckDBPyConnection, rules: PlatformAdoption) -> None:
    """Replace ops.platform_settings (one row) with the run's golden-path definition and rules."""
    con.execute(
        "create or replace table ops.platform_settings as select "
        "$types::varchar[] as service_types, $excluded::varchar[] as excluded_lifecycles, "
        "$criteria::varchar[] as golden_path_criteria, $scaffolder::varchar[] as approved_scaffolder_templates, "
        "$templates::struct(name varchar, pattern varchar, releases struct(version varchar, released date)[])[] "
        "as pipeline_templates, "
        "$behind::integer as max_releases_behind, $days::integer as freshness_days, "
        "$kinds::varchar[] as key_doc_kinds, $labels::varchar[] as key_doc_labels",
        {
            "types": [t.lower() for t in rules.service_types],
            "excluded": [x.lower() for x in rules.excluded_lifecycles],
            "criteria": list(rules.golden_path),
            "scaffolder": list(rules.approved_scaffolder_templates),
            "templates": [
                {
                    "name": t.name,
                    "pattern": t.pattern,
                    "releases": [{"version": r.version, "released": r.released} for r in t.releases],
                }
                for t in rules.pipeline_templates
            ],
            "behind": rules.max_releases_behind,
            "days": rules.documentation.freshness_days,
            "kinds": [k.lower() for k in rules.documentation.key_kinds],
            "labels": [label.lower() for label in rules.documentation.key_labels],
        },
    )
