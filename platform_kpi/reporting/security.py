"""The security and compliance section of the monthly report: vulnerability SLA adherence against its
target, findings past SLA by team, policy compliance, waivers (expired ones still open named), artifact
provenance and infrastructure drift.

``security_section(warehouse, month)`` returns report blocks read from marts.kpi_monthly and the
security core tables of the published warehouse; the report inserts them before its appendices.
Team, service and waiver names are user data: escaped (platform_kpi.markup). Pure Python: no Dagster.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from platform_kpi.catalog import format_value, read_groups
from platform_kpi.markup import md_escape
from platform_kpi.reporting.blocks import Block
from platform_kpi.warehouse import read_connection, table_names

_CORE = ("vulnerability_findings", "policy_evaluations", "waivers", "artifact_provenance", "iac_assessments")


def _v(org: pd.DataFrame, kid: str, unit: str) -> str:
    if kid not in org.index or pd.isna(org.loc[kid, "value"]):
        return "n/a"
    return format_value(float(org.loc[kid, "value"]), unit)


def security_section(warehouse: Path, month: dt.date) -> list[Block]:
    """The report blocks of the security section for ``month`` (a heading and a note without data)."""
    blocks = [Block("heading", "Security and compliance")]
    with read_connection(warehouse) as con:
        tables = table_names(con)
        if not all(f"core.{t}" in tables for t in _CORE):
            blocks.append(
                Block("paragraph", "This warehouse has no security tables (built before they were added).")
            )
            return blocks
        rows = sum(con.execute(f"select count(*) from core.{t}").fetchone()[0] for t in _CORE)
        if rows == 0:
            blocks.append(
                Block(
                    "paragraph",
                    "No security source is configured (scanner, policy, Terraform or waiver files in the input "
                    "folder's security/, or GitHub alerts in sources.yaml), so the security KPIs have no values.",
                )
            )
            return blocks
        group = list(read_groups(con).get("security", ()))
        org = (
            con.execute(
                "select kpi_id, value, target, target_met, sample_size from marts.kpi_monthly "
                "where month = ? and scope_type = 'org' and kpi_id in ?",
                [month, group + ["policy_warning_rate", "deployments_without_digest", "waiver_age_p50_days"]],
            )
            .df()
            .set_index("kpi_id")
        )
        at = "least(cast(? as timestamp) + interval 1 month, (select as_of from ops.kpi_settings))"
        by_team = con.execute(
            "select team, count(*) as findings, count(*) filter (where severity = 'critical') as critical, "
            f"max(date_diff('second', due_at, {at}) / 86400.0) as worst_days "
            "from core.vulnerability_findings where sla_days is not null and resolution <> 'false_positive' "
            f"and due_at < {at} and coalesce(fixed_at, dismissed_at, {at} + interval 1 second) > {at} "
            "group by team order by findings desc, team",
            [month] * 4,
        ).df()
        expired = con.execute(
            f"select waiver_id, service, policy, expires_at from core.waivers where expires_at <= {at} "
            f"and created_at < {at} and coalesce(closed_at, {at} + interval 1 second) > {at} order by expires_at",
            [month] * 4,
        ).df()

    adherence = _v(org, "vulnerability_sla_adherence", "ratio")
    target = (
        f" (target {format_value(float(org.loc['vulnerability_sla_adherence', 'target']), 'ratio')}, "
        + ("met" if bool(org.loc["vulnerability_sla_adherence", "target_met"]) else "missed")
        + ")"
        if "vulnerability_sla_adherence" in org.index
        and pd.notna(org.loc["vulnerability_sla_adherence", "target"])
        and pd.notna(org.loc["vulnerability_sla_adherence", "target_met"])
        else ""
    )
    n = (
        int(org.loc["vulnerability_sla_adherence", "sample_size"])
        if "vulnerability_sla_adherence" in org.index
        else 0
    )
    blocks.append(
        Block(
            "bullets",
            items=[
                f"{adherence} of the {n:,} critical and high findings whose SLA window ended this month were fixed "
                f"within it{target}; open past their SLA at the month's end: "
                f"{_v(org, 'open_vulnerabilities_past_sla', 'count')}; the median fix took "
                f"{_v(org, 'vulnerability_fix_time_p50_days', 'days')}.",
                f"{_v(org, 'policy_compliance_rate', 'ratio')} of the evaluated changes and resources passed every "
                f"policy without an exception ({_v(org, 'policy_warning_rate', 'ratio')} had warnings).",
                f"{_v(org, 'active_waivers', 'count')} waivers were active at the month's end (median age "
                f"{_v(org, 'waiver_age_p50_days', 'days')}); expired without being closed: "
                f"{_v(org, 'expired_waivers_still_active', 'count')}.",
                f"{_v(org, 'artifact_provenance_coverage', 'ratio')} of the production deployments with a known "
                f"digest had signed build provenance ({_v(org, 'deployments_without_digest', 'count')} without a "
                f"digest); {_v(org, 'iac_drift_rate', 'ratio')} of the managed infrastructure had drifted; a "
                f"standard environment took {_v(org, 'provisioning_lead_time_p50_hours', 'hours')} to provision "
                "(median).",
            ],
        )
    )
    if len(by_team):
        blocks.append(Block("heading", "Findings past SLA by team", level=3))
        blocks.append(
            Block(
                "table",
                header=["Team", "Findings past SLA", "Critical", "Most overdue"],
                rows=[
                    [
                        md_escape(r.team),
                        f"{int(r.findings):,}",
                        f"{int(r.critical):,}",
                        format_value(r.worst_days, "days"),
                    ]
                    for r in by_team.itertuples()
                ],
            )
        )
    if len(expired):
        blocks.append(Block("heading", "Expired waivers still open", level=3))
        blocks.append(
            Block(
                "table",
                header=["Waiver", "Service", "Policy", "Expired"],
                rows=[
                    [
                        md_escape(r.waiver_id),
                        md_escape(r.service),
                        md_escape(r.policy),
                        f"{r.expires_at:%Y-%m-%d}",
                    ]
                    for r in expired.itertuples()
                ],
            )
        )
    return blocks
