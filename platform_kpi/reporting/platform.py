"""The Platform section of the monthly report: golden-path adoption against its target, the criterion
holding it back most, pipeline template coverage and drift, documentation freshness, adoption by team,
and the services off the golden path.

``platform_section(warehouse, month)`` returns report blocks (platform_kpi.reporting.blocks.Block) read
from marts.kpi_monthly and marts.golden_path_services; the report inserts them before its appendices.
Pure Python: no Dagster.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from platform_kpi.catalog import change, format_value
from platform_kpi.reporting.blocks import Block
from platform_kpi.warehouse import read_connection, table_names

CRITERIA = {
    "scaffolded": "created from an approved template",
    "ci_template": "CI on a shared template",
    "owner": "an owner",
    "techdocs": "TechDocs",
    "runbook": "a runbook or on-call",
}
KPIS = (
    "golden_path_adoption_rate",
    "pipeline_template_coverage",
    "pipeline_template_drift_rate",
    "documentation_freshness",
    *(f"golden_path_{c}_rate" for c in CRITERIA),
)


def _pct(value: object) -> str:
    return "n/a" if value is None or pd.isna(value) else format_value(float(value), "ratio")


def platform_section(warehouse: Path, month: dt.date) -> list[Block]:
    """The report blocks of the Platform section for ``month`` (a heading and a note without data)."""
    blocks = [Block("heading", "Platform")]
    with read_connection(warehouse) as con:
        tables = table_names(con)
        if "marts.golden_path_services" not in tables:
            blocks.append(
                Block(
                    "paragraph",
                    "This warehouse has no platform adoption tables (built before they were added).",
                )
            )
            return blocks
        org = (
            con.execute(
                "select kpi_id, value, previous_month_value, sample_size, target, target_met from marts.kpi_monthly "
                "where month = ? and scope_type = 'org' and kpi_id in ?",
                [month, list(KPIS)],
            )
            .df()
            .set_index("kpi_id")
        )
        teams = con.execute(
            "select scope as team, "
            "any_value(value) filter (where kpi_id = 'golden_path_adoption_rate') as adoption, "
            "any_value(sample_size) filter (where kpi_id = 'golden_path_adoption_rate') as services, "
            "any_value(value) filter (where kpi_id = 'pipeline_template_coverage') as coverage, "
            "any_value(value) filter (where kpi_id = 'documentation_freshness') as docs "
            "from marts.kpi_monthly where month = ? and scope_type = 'team' and kpi_id in ? group by 1 "
            "having coalesce(any_value(sample_size) filter (where kpi_id = 'golden_path_adoption_rate'), 0) > 0 "
            "order by adoption, team",
            [month, list(KPIS)],
        ).df()
        failing = con.execute(
            "select service, team, failing_criteria from marts.golden_path_services "
            "where month = ? and is_counted and not on_golden_path order by len(failing_criteria) desc, team, service",
            [month],
        ).df()
        settings = con.execute(
            "select golden_path_criteria, max_releases_behind, freshness_days from ops.platform_settings"
        ).fetchall()
    criteria, behind, days = settings[0] if settings else (list(CRITERIA), 1, 180)

    def row(kid: str) -> pd.Series | None:
        return org.loc[kid] if kid in org.index and int(org.loc[kid, "sample_size"] or 0) > 0 else None

    adoption = row("golden_path_adoption_rate")
    coverage, drift, docs = (
        row("pipeline_template_coverage"),
        row("pipeline_template_drift_rate"),
        row("documentation_freshness"),
    )
    if adoption is None and coverage is None and docs is None:
        blocks.append(
            Block(
                "paragraph",
                "No service catalog, CI scans or documents are loaded for this month (catalog_entities, "
                "ci_config_scans and docs_pages files, or the Backstage, repository-scan and Confluence sources).",
            )
        )
        return blocks
    sentences = []
    if adoption is not None:
        moved = change(adoption["value"], adoption["previous_month_value"], "ratio")
        target = (
            f"; target {_pct(adoption['target'])} {'met' if adoption['target_met'] else 'not met'}"
            if pd.notna(adoption["target"])
            else ""
        )
        sentences.append(
            f"{_pct(adoption['value'])} of {int(adoption['sample_size'])} active services were on the golden path "
            f"at the month's end{f' ({moved.signed()} vs previous month)' if moved else ''}{target}."
        )
        shares = {c: row(f"golden_path_{c}_rate") for c in criteria if c in CRITERIA}
        shares = {c: r["value"] for c, r in shares.items() if r is not None and pd.notna(r["value"])}
        if shares:
            worst = min(shares, key=shares.get)
            sentences.append(
                f"The criterion holding adoption back most: {CRITERIA[worst]} ({_pct(shares[worst])} of services have it)."
            )
    if coverage is not None:
        sentence = f"{_pct(coverage['value'])} of repositories run CI on an approved shared template"
        if drift is not None:
            sentence += f"; {_pct(drift['value'])} of those are pinned more than {behind} release(s) behind"
        sentences.append(sentence + ".")
    if docs is not None:
        sentences.append(
            f"{_pct(docs['value'])} of {int(docs['sample_size'])} key documents were updated within the last {days} days."
        )
    blocks.append(Block("bullets", items=sentences))
    if len(teams):
        blocks.append(Block("heading", "Golden path by team", level=3))
        blocks.append(
            Block(
                "table",
                header=["Team", "Services", "Golden path", "Template coverage", "Docs fresh"],
                rows=[
                    [str(r.team), str(int(r.services)), _pct(r.adoption), _pct(r.coverage), _pct(r.docs)]
                    for r in teams.itertuples()
                ],
            )
        )
    if len(failing):
        blocks.append(Block("heading", "Services off the golden path", level=3))
        blocks.append(
            Block(
                "table",
                header=["Service", "Team", "Missing"],
                rows=[
                    [
                        str(r.service),
                        str(r.team or "—"),
                        ", ".join(CRITERIA.get(c, c) for c in r.failing_criteria),
                    ]
                    for r in failing.head(15).itertuples()
                ],
            )
        )
        if len(failing) > 15:
            blocks.append(
                Block("paragraph", f"{len(failing) - 15} more on the dashboard's Platform adoption page.")
            )
    return blocks
