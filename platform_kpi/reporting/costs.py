"""The cost section of the monthly report: what a build and a deployment cost, cloud cost by team,
what nobody is tagged for, currencies left out, and cluster efficiency.

``cost_section(warehouse, month)`` returns report blocks (platform_kpi.reporting.blocks.Block) read from
marts.kpi_monthly and the cost marts of the published warehouse; the report inserts them before its
appendices. Pure Python: no Dagster.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from platform_kpi.catalog import change, format_value, read_groups
from platform_kpi.markup import md_escape
from platform_kpi.reporting.blocks import Block
from platform_kpi.warehouse import read_connection, table_names


def _money(value: object, currency: str) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return f"{format_value(float(value), 'currency')} {currency}"


def _change(value: object, before: object) -> str:
    """' (up 12% vs previous month)', ' (unchanged vs previous month)', or '' with no earlier amount."""
    moved = change(value, before, "currency")
    if moved is None or moved.diff is None:
        return ""
    return f" ({moved.words()} vs previous month)"


def cost_section(warehouse: Path, month: dt.date):
    """The report blocks of the cost section for ``month`` (a heading and a note when there is no cost data)."""

    blocks = [Block("heading", "Costs")]
    with read_connection(warehouse) as con:
        tables = table_names(con)
        if "core.costs" not in tables or "marts.cost_monthly" not in tables:
            blocks.append(
                Block("paragraph", "This warehouse has no cost tables (built before costs were added).")
            )
            return blocks
        counts = con.execute(
            "select (select count(*) from core.costs), (select count(*) from core.cluster_utilization)"
        ).fetchall()[0]
        if counts == (0, 0):
            blocks.append(
                Block(
                    "paragraph",
                    "No cost or utilization source is configured (FOCUS exports, AWS Cost Explorer, OpenCost or "
                    "Prometheus in config/costs.yaml), so the cost KPIs have no values.",
                )
            )
            return blocks
        settings = con.execute(
            "select reporting_currency, unit_cost_categories from ops.cost_settings"
        ).fetchall()
        currency, unit_categories = settings[0] if settings else ("USD", ["Usage"])
        org = (
            con.execute(
                "select kpi_id, value, previous_month_value, sample_size from marts.kpi_monthly "
                "where month = ? and scope_type = 'org' and kpi_id in ?",
                [month, list(read_groups(con)["costs"])],
            )
            .df()
            .set_index("kpi_id")
        )
        teams = con.execute(
            "with m as (select coalesce(team, '(unattributed)') as team, "
            "  sum(effective_cost_reporting) as cloud, "
            "  sum(effective_cost_reporting) filter (where cost_kind = 'ci_compute' and in_unit_costs) as ci, "
            "  sum(effective_cost_reporting) filter (where cost_kind = 'deployment' and in_unit_costs) as deploy "
            "  from marts.cost_monthly where month = ? and fx_rate is not null and in_cloud_cost group by 1), "
            "k as (select scope as team, "
            "  any_value(value) filter (where kpi_id = 'cost_per_build') as per_build, "
            "  any_value(value) filter (where kpi_id = 'cost_per_deploy') as per_deploy, "
            "  any_value(value) filter (where kpi_id = 'cluster_cpu_efficiency') as cpu "
            "  from marts.kpi_monthly where month = ? and scope_type = 'team' group by 1) "
            "select m.*, k.per_build, k.per_deploy, k.cpu from m left join k using (team) order by m.cloud desc",
            [month, month],
        ).df()
        unattributed = con.execute(
            "select provider, coalesce(sub_account_id, '—') as sub_account, service_name, cost_kind, "
            "unattributed_reason, effective_cost_reporting as cost from marts.cost_unattributed "
            "where month = ? order by cost desc nulls last",
            [month],
        ).df()
        flags = con.execute(
            "select billing_currency, cost_rows, effective_cost, reason from marts.cost_currency_flags where month = ?",
            [month],
        ).df()

    def kpi(kid: str) -> tuple[object, object]:
        if kid not in org.index:
            return None, None
        return org.loc[kid, "value"], org.loc[kid, "previous_month_value"]

    per_build, per_build_before = kpi("cost_per_build")
    per_deploy, per_deploy_before = kpi("cost_per_deploy")
    cloud, cloud_before = kpi("cloud_cost")
    cpu, _ = kpi("cluster_cpu_efficiency")
    memory, _ = kpi("cluster_memory_efficiency")
    unattributed_total = float(unattributed["cost"].sum()) if len(unattributed) else 0.0
    sentences = [
        f"A build cost {_money(per_build, currency)}{_change(per_build, per_build_before)} and a production "
        f"deployment {_money(per_deploy, currency)}{_change(per_deploy, per_deploy_before)}.",
        f"Cloud cost was {_money(cloud, currency)}{_change(cloud, cloud_before)}"
        + (
            f", of which {_money(unattributed_total, currency)} "
            f"({unattributed_total / float(cloud) * 100:.0f}%) is not attributed to any team."
            if cloud is not None and pd.notna(cloud) and float(cloud) != 0 and unattributed_total
            else "."
        ),
    ]
    if cpu is not None and pd.notna(cpu):
        sentences.append(
            f"Clusters used {format_value(float(cpu), 'fraction')} of the CPU and "
            f"{format_value(memory, 'fraction')} of the memory they requested."
        )
    blocks.append(Block("bullets", items=sentences))
    blocks.append(
        Block(
            "paragraph",
            f"Amounts in {currency} (EffectiveCost, amortized). Unit costs count {', '.join(unit_categories)} "
            "charges only; cloud cost is net of credits and includes taxes and purchases. Charge periods crossing "
            "a month boundary are split by hours.",
        )
    )
    if len(teams):
        blocks.append(Block("heading", "Cost by team", level=3))
        blocks.append(
            Block(
                "table",
                header=[
                    "Team",
                    "Cloud cost",
                    "CI compute",
                    "Deployment",
                    "Per build",
                    "Per deploy",
                    "CPU efficiency",
                ],
                rows=[
                    [
                        r.team,
                        _money(r.cloud, currency),
                        _money(r.ci, currency),
                        _money(r.deploy, currency),
                        _money(r.per_build, currency),
                        _money(r.per_deploy, currency),
                        format_value(r.cpu, "fraction"),
                    ]
                    for r in teams.itertuples()
                ],
            )
        )
    if len(unattributed):
        blocks.append(Block("heading", "Unattributed costs", level=3))
        blocks.append(
            Block(
                "paragraph",
                f"{_money(unattributed_total, currency)} carries no service or team tag; it counts in the "
                "organisation's numbers only. The largest lines:",
            )
        )
        blocks.append(
            Block(
                "table",
                header=["Provider", "Sub-account", "Service", "Kind", "Why", "Cost"],
                rows=[
                    [
                        r.provider or "—",
                        r.sub_account,
                        r.service_name or "—",
                        r.cost_kind,
                        r.unattributed_reason,
                        _money(r.cost, currency),
                    ]
                    for r in unattributed.head(8).itertuples()
                ],
            )
        )
    if len(flags):
        blocks.append(
            Block(
                "paragraph",
                "Left out (no exchange rate configured): "
                + "; ".join(
                    f"{int(r.cost_rows):,} rows, {format_value(r.effective_cost, 'currency')} {md_escape(r.billing_currency)}"
                    for r in flags.itertuples()
                )
                + ". Add the rates under fx_rates in config/costs.yaml.",
            )
        )
    return blocks
