"""How the DORA Quick Check scores (marts.dora_quick_check) are told to a reader, the same way in
the dashboard and the monthly report: the table of one scope's scores with their spread across
services, the benchmark position in words, and DORA's caution about organisation-wide numbers.
Pure Python (pandas only): no Dagster, no Streamlit.
"""

from __future__ import annotations

import pandas as pd

QUICK_CHECK_NAMES = {
    "throughput": "Throughput score",
    "stability": "Stability score",
    "overall": "Overall score",
}
#: DORA's caution, said wherever an organisation or team number of the five metrics is shown
CAUTION = (
    "DORA's metrics are meant per service (application): blending services into one organisation "
    "number can mislead. An organisation or team score here is a roll-up, the median of its services' "
    "scores, shown with its spread across services (p25-p75, min-max)."
)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st ..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def percentile_text(value: object) -> str:
    """'about the 39th percentile' (of a benchmark assumed normal); '—' without one."""
    if value is None or pd.isna(value):
        return "—"
    return f"about the {ordinal(max(1, min(99, round(float(value)))))} percentile"


def quick_check_table(frame: pd.DataFrame, names: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    """Rows of marts.dora_quick_check for one scope as a table: the five metrics grouped as DORA does
    (throughput, instability), then the three scores. ``names``: KPI id -> name."""
    by_metric = frame.set_index("metric") if len(frame) else frame
    order = [
        ("Throughput", "lead_time_for_changes_p50_hours"),
        ("Throughput", "deployment_frequency"),
        ("Throughput", "failed_deployment_recovery_time_p50_hours"),
        ("Instability", "change_failure_rate"),
        ("Instability", "rework_rate"),
        ("", "throughput"),
        ("", "stability"),
        ("", "overall"),
    ]
    rows = []
    for group, metric in order:
        if metric not in by_metric.index:
            continue
        r = by_metric.loc[metric]
        score = "n/a" if pd.isna(r["score"]) else f"{r['score']:.1f}"
        if int(r["services"]) > 1:
            spread = (
                f"p25-p75 {r['score_p25']:.1f}-{r['score_p75']:.1f}; min-max {r['score_min']:.1f}-"
                f"{r['score_max']:.1f}; {int(r['services'])} services"
            )
        else:
            spread = f"{int(r['services'])} service" + ("" if int(r["services"]) == 1 else "s")
        rows.append(
            [
                names.get(metric, QUICK_CHECK_NAMES.get(metric, metric)),
                group,
                score,
                spread,
                percentile_text(r["industry_percentile"]),
            ]
        )
    return ["Metric", "Group", "Score (0-10)", "Spread across services", "Benchmark position"], rows
