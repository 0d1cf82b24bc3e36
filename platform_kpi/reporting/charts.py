"""The report's static charts: PNG images drawn by matplotlib (no browser)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from platform_kpi.catalog import format_value
from platform_kpi.reporting.data import ReportData

TIER_HEX = {"elite": "#15803d", "high": "#2563eb", "medium": "#d97706", "low": "#dc2626"}


def render_charts(data: ReportData, out_dir: Path) -> dict[str, Path]:
    """Static PNG charts (matplotlib, no browser): the trends of DORA's five metrics (throughput row,
    instability row) and the team tier heat-map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    out_dir.mkdir(parents=True, exist_ok=True)
    charts = {}
    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False})

    # DORA's two groups, one per row: throughput (three metrics) above, instability (two) below.
    rows = (data.groups["throughput"], data.groups["instability"])
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.2), dpi=150)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, kid in ((axes[i][j], kid) for i, keys in enumerate(rows) for j, kid in enumerate(keys[:3])):
        ax.set_axis_on()
        series = data.history[data.history["kpi_id"] == kid]
        if series.empty:
            ax.set_axis_off()
            continue
        unit = series["unit"].iloc[0]
        scale = 100 if unit == "ratio" else 1
        ax.plot(series["month"], series["value"] * scale, marker="o", color="#4f46e5", linewidth=2)
        if series["target"].notna().any():
            ax.plot(series["month"], series["target"] * scale, linestyle=":", color="#9ca3af", label="target")
        group = "Throughput" if kid in rows[0] else "Instability"
        ax.set_title(f"{group}: {series['name'].iloc[0]}", fontsize=9, loc="left")
        ax.set_ylim(bottom=0)
        ax.set_ylabel({"ratio": "%", "hours": "hours", "deployments": "deployments"}.get(unit, unit))
        ax.tick_params(axis="x", labelrotation=30)
        ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%b %y"))
        ax.grid(axis="y", color="#eef0f3")
    fig.tight_layout()
    charts["dora_trends"] = out_dir / "dora_trends.png"
    fig.savefig(charts["dora_trends"])
    plt.close(fig)

    tiered_keys = data.groups["dora_tiers"]
    tiered = data.teams[data.teams["kpi_id"].isin(tiered_keys)]
    if len(tiered):
        teams = sorted(tiered["scope"].unique())
        rank = {t: i for i, t in enumerate(data.tiers)}
        names = [data.definitions.set_index("kpi_id").loc[k, "name"] for k in tiered_keys]
        grid = tiered.pivot(index="scope", columns="kpi_id", values="tier").reindex(
            index=teams, columns=list(tiered_keys)
        )
        values = tiered.pivot(index="scope", columns="kpi_id", values="value").reindex(
            index=teams, columns=list(tiered_keys)
        )
        units = tiered.drop_duplicates("kpi_id").set_index("kpi_id")["unit"]
        z = grid.apply(lambda col: col.map(lambda t: rank.get(t, float("nan")))).astype(float)
        fig, ax = plt.subplots(figsize=(9, 0.45 * len(teams) + 1.4), dpi=150)
        cmap = ListedColormap([TIER_HEX[t] for t in data.tiers]).with_extremes(bad="#e5e7eb")
        ax.imshow(z.values, cmap=cmap, vmin=-0.5, vmax=3.5, aspect="auto")
        for i, team in enumerate(teams):
            for j, kid in enumerate(tiered_keys):
                v = values.loc[team, kid]
                label = (
                    "no data"
                    if pd.isna(v)
                    else f"{format_value(v, units[kid])}\n{grid.loc[team, kid] or 'no tier'}"
                )
                ax.text(
                    j,
                    i,
                    label,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if pd.notna(z.loc[team, kid]) else "#374151",
                )
        ax.set_xticks(range(len(names)), [n.replace(" (median)", "\n(median)") for n in names], fontsize=8)
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(teams)), teams)
        for spine in ax.spines.values():
            spine.set_visible(False)
        fig.tight_layout()
        charts["team_tiers"] = out_dir / "team_tiers.png"
        fig.savefig(charts["team_tiers"])
        plt.close(fig)
    return charts
