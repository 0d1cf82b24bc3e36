"""Independent pandas reference implementation of the platform KPI definitions.

This module deliberately shares no code with the DuckDB/SQL pipeline. It is used

1. by the benchmark, as the "plain pandas" baseline the DuckDB recompute is timed against, and
2. by the equivalence test, which compares its numbers with ``marts.kpi_monthly`` on demo data.

So it aims to be *obviously correct*: one small function per definition, idiomatic vectorised pandas
(merges, groupby, ``merge_asof``), no Python loops over rows.

Public API::

    inputs = load_inputs(files_dir)          # services/deployments/changes/incidents/builds .csv
    monthly = compute_monthly(inputs)        # 13 KPIs, period = first day of the month (UTC)
    weekly = compute_weekly(inputs)          # 4 KPIs, period = Monday 00:00 of the week (UTC)

Both outputs have the columns ``period`` (naive datetime64, UTC), ``scope_type`` ('org' | 'team' |
'service'), ``scope`` ('all' for org), ``kpi_id``, ``value`` (float) and ``sample_size`` (int), with
exactly one row per (period, scope, kpi) whose sample_size is > 0.

Decisions where the written definitions leave room (kept in sync with the module's tests):

* A row whose service is not listed in services.csv has no team: it counts for the org and its
  service scope, but for no team scope.
* A change is attributed (team / service scope) to its own ``service`` column, even when an
  explicit ``deployment_id`` points at another service's deployment.
* Ties in time are broken by ``deployment_id`` (string order) everywhere an order of SPDs is needed:
  the "latest SPD at or before an incident" is the one with the greatest (finished_at,
  deployment_id), matching the "next SPD" order of the rollback rule.
* Rows that lack a timestamp a metric needs are left out of that metric (e.g. a change without
  first_commit_at, a build without started_at for the duration KPIs).
* Durations are not clipped: a negative lead time / recovery time (bad source clocks) is kept as is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
from pandas.api.typing import DataFrameGroupBy

DEFAULT_PRODUCTION_PATTERN = r"^(prod|production)([-_.].*)?$"
DEFAULT_BRANCHES = ("main", "master")
DEFAULT_LINK_WINDOW_HOURS = 24.0

SUCCESS = "SUCCESS"
FAILURE = "FAILURE"
CANCELED = "CANCELED"
IN_PROGRESS = "IN_PROGRESS"
QUEUED = "QUEUED"
SKIPPED = "SKIPPED"

_STATUS_ALIASES = {
    SUCCESS: ("success", "succeeded", "successful", "passed", "pass", "ok"),
    FAILURE: (
        "failure",
        "failed",
        "fail",
        "error",
        "errored",
        "unstable",
        "timed_out",
        "timeout",
        "startup_failure",
    ),
    CANCELED: ("canceled", "cancelled", "aborted", "abort", "stopped"),
    IN_PROGRESS: ("in_progress", "running", "started"),
    QUEUED: (
        "queued",
        "pending",
        "waiting",
        "created",
        "scheduled",
        "preparing",
        "waiting_for_resource",
        "manual",
    ),
    SKIPPED: ("skipped", "not_built"),
}
STATUS_MAP = {alias: status for status, aliases in _STATUS_ALIASES.items() for alias in aliases}

_TRUE_VALUES = ("true", "t", "1", "yes", "y")
_FALSE_VALUES = ("false", "f", "0", "no", "n")

# Columns of each input file; the optional ones may be missing from the file entirely.
INPUT_COLUMNS = {
    "services": ["service", "team", "repo", "tier"],
    "deployments": [
        "deployment_id",
        "service",
        "environment",
        "status",
        "started_at",
        "finished_at",
        "commit_sha",
        "is_rollback",
        "is_hotfix",
    ],
    "changes": ["change_id", "service", "first_commit_at", "merged_at", "deployment_id"],
    "incidents": [
        "incident_id",
        "service",
        "created_at",
        "resolved_at",
        "severity",
        "caused_by_deployment_id",
    ],
    "builds": ["build_id", "service", "branch", "status", "started_at", "finished_at", "is_default_branch"],
}
OPTIONAL_COLUMNS = {
    "services": {"repo", "tier"},
    "deployments": {"started_at", "commit_sha", "is_rollback", "is_hotfix"},
    "changes": {"deployment_id"},
    "incidents": {"resolved_at", "severity", "caused_by_deployment_id"},
    "builds": {"started_at", "is_default_branch"},
}
TIMESTAMP_COLUMNS = {
    "deployments": ["started_at", "finished_at"],
    "changes": ["first_commit_at", "merged_at"],
    "incidents": ["created_at", "resolved_at"],
    "builds": ["started_at", "finished_at"],
}
FLAG_COLUMNS = {"deployments": ["is_rollback", "is_hotfix"]}  # blank = false
NULLABLE_BOOL_COLUMNS = {"builds": ["is_default_branch"]}  # blank = unknown

MONTHLY_KPIS = (
    "deployment_frequency",
    "lead_time_for_changes_p50_hours",
    "lead_time_for_changes_p90_hours",
    "change_failure_rate",
    "mttr_hours",
    "time_to_restore_p50_hours",
    "failed_deployment_recovery_time_p50_hours",
    "rework_rate",
    "deployment_success_rate",
    "rollback_frequency",
    "ci_pipeline_success_rate",
    "build_duration_p50_sec",
    "build_duration_p95_sec",
)
WEEKLY_KPIS = (
    "ci_pipeline_success_rate",
    "build_duration_p50_sec",
    "build_duration_p95_sec",
    "deployment_success_rate",
)
OUTPUT_COLUMNS = ["period", "scope_type", "scope", "kpi_id", "value", "sample_size"]

# (scope_type, column holding the scope value); every fact frame carries org/team/service columns.
SCOPES = (("org", "org"), ("team", "team"), ("service", "service"))

HOUR = pd.Timedelta(hours=1)


# --------------------------------------------------------------------------------------------------
# Loading and parsing
# --------------------------------------------------------------------------------------------------


def parse_timestamps(values: pd.Series) -> pd.Series:
    """ISO-8601 strings (``Z``, ``+02:00`` or naive = UTC) -> naive UTC datetime64[ns]; blank -> NaT.

    pandas 2.3's ISO8601 parser gives a naive time the offset of the zoned row before it
    (``12:15+02:00`` then ``10:15`` reads the second as 08:15 UTC), so naive times get an explicit
    ``Z`` first.
    """
    text = values.astype("string").str.strip()
    naive = text.notna() & (text != "") & ~text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False)
    text = text.mask(naive, text + "Z")
    parsed = pd.to_datetime(text, utc=True, format="ISO8601")
    return parsed.dt.tz_localize(None).astype("datetime64[ns]")


def parse_flag(values: pd.Series) -> pd.Series:
    """true/false/blank -> bool, blank (or anything not true-ish) = False."""
    return values.str.strip().str.lower().isin(_TRUE_VALUES)


def parse_nullable_bool(values: pd.Series) -> pd.Series:
    """true/false/blank -> pandas 'boolean' with <NA> for blank."""
    lowered = values.str.strip().str.lower()
    result = pd.Series(pd.NA, index=values.index, dtype="boolean")
    result[lowered.isin(_TRUE_VALUES)] = True
    result[lowered.isin(_FALSE_VALUES)] = False
    return result


def load_inputs(files_dir: Path) -> dict[str, pd.DataFrame]:
    """Read the five canonical CSV files and parse timestamps and booleans.

    Every column is read as a string (only an empty field is missing), so IDs keep their exact
    spelling. Timestamps become naive UTC ``datetime64[ns]``; is_rollback/is_hotfix become bool;
    is_default_branch becomes nullable 'boolean'.
    """
    files_dir = Path(files_dir)
    inputs: dict[str, pd.DataFrame] = {}
    for name, columns in INPUT_COLUMNS.items():
        df = pd.read_csv(files_dir / f"{name}.csv", dtype=str, keep_default_na=False, na_values=[""])
        for column in columns:
            if column not in df.columns:
                if column not in OPTIONAL_COLUMNS[name]:
                    raise ValueError(f"{name}.csv: missing required column {column!r}")
                df[column] = pd.Series(pd.NA, index=df.index, dtype=object)
        for column in TIMESTAMP_COLUMNS.get(name, []):
            df[column] = parse_timestamps(df[column])
        for column in FLAG_COLUMNS.get(name, []):
            df[column] = parse_flag(df[column])
        for column in NULLABLE_BOOL_COLUMNS.get(name, []):
            df[column] = parse_nullable_bool(df[column])
        inputs[name] = df
    return inputs


# --------------------------------------------------------------------------------------------------
# Normalisation helpers
# --------------------------------------------------------------------------------------------------


def normalize_status(values: pd.Series) -> pd.Series:
    """Raw status -> SUCCESS/FAILURE/CANCELED/IN_PROGRESS/QUEUED/SKIPPED, unknown -> NaN."""
    return values.str.strip().str.lower().map(STATUS_MAP)


def is_production(
    environments: pd.Series, pattern: str | re.Pattern = DEFAULT_PRODUCTION_PATTERN
) -> pd.Series:
    """Case-insensitive regex match on the stripped environment name; missing -> False."""
    if isinstance(pattern, re.Pattern):
        regex = re.compile(pattern.pattern, pattern.flags | re.IGNORECASE)
    else:
        regex = re.compile(pattern, re.IGNORECASE)
    return environments.str.strip().str.match(regex, na=False).astype(bool)


def month_start(timestamps: pd.Series) -> pd.Series:
    """First day of the month, 00:00."""
    return timestamps.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")


def week_start(timestamps: pd.Series) -> pd.Series:
    """Monday 00:00 of the ISO week."""
    return (timestamps.dt.normalize() - pd.to_timedelta(timestamps.dt.dayofweek, unit="D")).astype(
        "datetime64[ns]"
    )


def _with_scopes(df: pd.DataFrame, services: pd.DataFrame) -> pd.DataFrame:
    """Add the scope columns: org ('all'), team (team of the row's service; NaN if unknown)."""
    team_of_service = services.drop_duplicates("service").set_index("service")["team"]
    df = df.copy()
    df["org"] = "all"
    df["team"] = df["service"].map(team_of_service)
    return df


# --------------------------------------------------------------------------------------------------
# Facts: one frame per KPI family, one row per counted item
# --------------------------------------------------------------------------------------------------


def _deployments(inputs: dict[str, pd.DataFrame], production_pattern) -> pd.DataFrame:
    deployments = _with_scopes(inputs["deployments"], inputs["services"])
    deployments["status_norm"] = normalize_status(deployments["status"])
    deployments["is_production"] = is_production(deployments["environment"], production_pattern)
    return deployments


def successful_production_deployments(deployments: pd.DataFrame) -> pd.DataFrame:
    """SPDs: status SUCCESS, production environment, finished_at present."""
    spd = deployments[
        (deployments["status_norm"] == SUCCESS)
        & deployments["is_production"]
        & deployments["finished_at"].notna()
    ]
    return spd[["deployment_id", "service", "org", "team", "finished_at", "is_rollback", "is_hotfix"]].copy()


def incident_links(spd: pd.DataFrame, incidents: pd.DataFrame, link_window: pd.Timedelta) -> pd.DataFrame:
    """(deployment_id, incident_id, resolved_at) for every incident linked to an SPD.

    (a) explicit: caused_by_deployment_id names the SPD;
    (b) window: blank caused_by_deployment_id, the latest SPD of the same service finished at or
        before created_at, and created_at - finished_at <= link_window.
    """
    explicit = incidents[incidents["caused_by_deployment_id"].notna()].merge(
        spd[["deployment_id"]], left_on="caused_by_deployment_id", right_on="deployment_id", how="inner"
    )

    unattributed = incidents[
        incidents["caused_by_deployment_id"].isna()
        & incidents["created_at"].notna()
        & incidents["service"].notna()
    ]
    candidates = pd.merge_asof(
        unattributed[["incident_id", "service", "created_at", "resolved_at"]].sort_values("created_at"),
        spd[["deployment_id", "service", "finished_at"]].sort_values(["finished_at", "deployment_id"]),
        left_on="created_at",
        right_on="finished_at",
        by="service",
        direction="backward",
        allow_exact_matches=True,
    )
    windowed = candidates[
        candidates["deployment_id"].notna()
        & (candidates["created_at"] - candidates["finished_at"] <= link_window)
    ]

    columns = ["deployment_id", "incident_id", "resolved_at"]
    return pd.concat([explicit[columns], windowed[columns]], ignore_index=True)


def failed_deployments(spd: pd.DataFrame, incidents: pd.DataFrame, link_window: pd.Timedelta) -> pd.DataFrame:
    """SPDs with ``failed`` (bool) and ``recovered_at`` (NaT when not failed or not recovered)."""
    # (c) the next SPD of the same service (by finished_at, then deployment_id) is a rollback.
    spd = spd.sort_values(["service", "finished_at", "deployment_id"]).reset_index(drop=True)
    by_service = spd.groupby("service", sort=False)
    spd["failed_by_rollback"] = by_service["is_rollback"].shift(-1, fill_value=False).astype(bool)
    spd["rollback_recovered_at"] = by_service["finished_at"].shift(-1).where(spd["failed_by_rollback"])

    # (a) + (b) incidents; recovered when every linked incident is resolved, at the latest resolution.
    links = incident_links(spd, incidents, link_window)
    links["unresolved"] = links["resolved_at"].isna()
    per_deployment = links.groupby("deployment_id").agg(
        latest_resolved_at=("resolved_at", "max"), any_unresolved=("unresolved", "max")
    )
    per_deployment["incident_recovered_at"] = per_deployment["latest_resolved_at"].where(
        ~per_deployment["any_unresolved"].astype(bool)
    )
    per_deployment["failed_by_incident"] = True

    spd = spd.merge(
        per_deployment[["failed_by_incident", "incident_recovered_at"]],
        left_on="deployment_id",
        right_index=True,
        how="left",
    )
    spd["failed_by_incident"] = spd["failed_by_incident"].eq(True)
    spd["failed"] = spd["failed_by_rollback"] | spd["failed_by_incident"]
    # Earlier of the two recovery moments; a missing one is ignored.
    spd["recovered_at"] = spd[["rollback_recovered_at", "incident_recovered_at"]].min(axis=1)
    return spd


def deployed_changes(changes: pd.DataFrame, spd: pd.DataFrame) -> pd.DataFrame:
    """Changes with the ``deployed_at`` (finished_at) of the SPD that deployed them; undeployed dropped."""
    deploys = spd[["deployment_id", "service", "finished_at"]].rename(columns={"finished_at": "deployed_at"})

    # Explicit deployment_id: deployed only if that deployment is an SPD.
    explicit = changes[changes["deployment_id"].notna()].merge(
        deploys[["deployment_id", "deployed_at"]], on="deployment_id", how="inner"
    )

    # Otherwise: the first SPD of the same service finishing at or after merged_at.
    unlinked = changes[
        changes["deployment_id"].isna() & changes["merged_at"].notna() & changes["service"].notna()
    ]
    inferred = pd.merge_asof(
        unlinked.drop(columns=["deployment_id"]).sort_values("merged_at"),
        deploys[["service", "deployed_at"]].sort_values("deployed_at"),
        left_on="merged_at",
        right_on="deployed_at",
        by="service",
        direction="forward",
        allow_exact_matches=True,
    )
    inferred = inferred[inferred["deployed_at"].notna()]

    columns = ["change_id", "service", "first_commit_at", "merged_at", "deployed_at"]
    return pd.concat([explicit[columns], inferred[columns]], ignore_index=True)


def _builds(inputs: dict[str, pd.DataFrame], default_branches: Iterable[str]) -> pd.DataFrame:
    """Finished SUCCESS/FAILURE builds with is_default / succeeded / duration_sec."""
    builds = _with_scopes(inputs["builds"], inputs["services"])
    builds["status_norm"] = normalize_status(builds["status"])
    builds = builds[builds["status_norm"].isin([SUCCESS, FAILURE]) & builds["finished_at"].notna()].copy()
    by_branch_name = builds["branch"].str.strip().isin(list(default_branches))
    builds["is_default"] = builds["is_default_branch"].astype("boolean").fillna(by_branch_name).astype(bool)
    builds["succeeded"] = builds["status_norm"] == SUCCESS
    builds["duration_sec"] = (builds["finished_at"] - builds["started_at"]).dt.total_seconds()
    return builds


def _production_outcomes(deployments: pd.DataFrame) -> pd.DataFrame:
    """Finished production deployments that are SUCCESS or FAILURE, with ``succeeded``."""
    outcomes = deployments[
        deployments["is_production"]
        & deployments["finished_at"].notna()
        & deployments["status_norm"].isin([SUCCESS, FAILURE])
    ].copy()
    outcomes["succeeded"] = outcomes["status_norm"] == SUCCESS
    return outcomes


# --------------------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------------------

Aggregator = Callable[[DataFrameGroupBy], pd.Series]


def aggregate(facts: pd.DataFrame, kpis: dict[str, Aggregator]) -> pd.DataFrame:
    """Group ``facts`` (with a ``period`` column) by period x scope, for every scope type.

    Each aggregator turns the grouped frame into one value per group; the sample size of every KPI
    computed from ``facts`` is the number of fact rows in the group. Rows without a team are
    dropped from the team scope by groupby (NaN keys).
    """
    frames = []
    for scope_type, scope_column in SCOPES:
        grouped = facts.groupby(["period", scope_column])
        sample_size = grouped.size()
        for kpi_id, aggregator in kpis.items():
            frame = pd.DataFrame({"value": aggregator(grouped).astype(float), "sample_size": sample_size})
            frame.index.names = ["period", "scope"]
            frame = frame.reset_index()
            frame["scope_type"] = scope_type
            frame["kpi_id"] = kpi_id
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _finish(frames: list[pd.DataFrame]) -> pd.DataFrame:
    out = pd.concat(frames, ignore_index=True)[OUTPUT_COLUMNS]
    out = out[out["sample_size"] > 0]
    out = out.astype(
        {
            "period": "datetime64[ns]",
            "scope_type": object,
            "scope": object,
            "kpi_id": object,
            "value": "float64",
            "sample_size": "int64",
        }
    )
    return out.sort_values(["period", "scope_type", "scope", "kpi_id"]).reset_index(drop=True)


def _rate(column: str) -> Aggregator:
    return lambda grouped: grouped[column].mean()


def _quantile(column: str, q: float) -> Aggregator:
    return lambda grouped: grouped[column].quantile(q)  # linear interpolation (continuous)


def _platform_kpis(
    deployments: pd.DataFrame, builds: pd.DataFrame, period_of: Callable[[pd.Series], pd.Series]
) -> list[pd.DataFrame]:
    """deployment_success_rate, ci_pipeline_success_rate, build_duration_p50/p95 (monthly and weekly)."""
    outcomes = _production_outcomes(deployments)
    outcomes["period"] = period_of(outcomes["finished_at"])

    default_branch_builds = builds[builds["is_default"]].copy()
    default_branch_builds["period"] = period_of(default_branch_builds["finished_at"])

    timed_builds = builds[builds["duration_sec"].notna()].copy()
    timed_builds["period"] = period_of(timed_builds["finished_at"])

    return [
        aggregate(outcomes, {"deployment_success_rate": _rate("succeeded")}),
        aggregate(default_branch_builds, {"ci_pipeline_success_rate": _rate("succeeded")}),
        aggregate(
            timed_builds,
            {
                "build_duration_p50_sec": _quantile("duration_sec", 0.5),
                "build_duration_p95_sec": _quantile("duration_sec", 0.95),
            },
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------


def rework(spd: pd.DataFrame, incidents: pd.DataFrame, link_window: pd.Timedelta) -> pd.Series:
    """Whether each SPD (aligned with ``spd``'s index) is rework: a rollback, or a hotfix of service S
    that finished after an incident of S was created, where the incident names the SPD of S just
    before the hotfix as its cause (any time before), or was created at most ``link_window`` before
    the hotfix finished."""
    ordered = spd.sort_values(["service", "finished_at", "deployment_id"])
    previous = ordered.groupby("service", sort=False)["deployment_id"].shift(1)
    hotfixes = ordered.assign(previous=previous)
    hotfixes = hotfixes[hotfixes["is_hotfix"] & ~hotfixes["is_rollback"]]
    known = incidents[incidents["created_at"].notna() & incidents["service"].notna()]
    pairs = hotfixes[["deployment_id", "service", "finished_at", "previous"]].merge(
        known[["service", "created_at", "caused_by_deployment_id"]], on="service"
    )
    pairs = pairs[pairs["created_at"] <= pairs["finished_at"]]
    named = pairs["caused_by_deployment_id"].notna() & (pairs["caused_by_deployment_id"] == pairs["previous"])
    recent = pairs["created_at"] >= pairs["finished_at"] - link_window
    fixed = set(pairs.loc[named | recent, "deployment_id"])
    return spd["is_rollback"] | spd["deployment_id"].isin(fixed)


def compute_monthly(
    inputs: dict[str, pd.DataFrame],
    *,
    production_pattern: str | re.Pattern = DEFAULT_PRODUCTION_PATTERN,
    link_window_hours: float = DEFAULT_LINK_WINDOW_HOURS,
    default_branches: Iterable[str] = DEFAULT_BRANCHES,
) -> pd.DataFrame:
    """All 13 KPIs per calendar month (UTC) for org, team and service scopes."""
    link_window = pd.Timedelta(hours=link_window_hours)
    deployments = _deployments(inputs, production_pattern)
    builds = _builds(inputs, default_branches)
    incidents = _with_scopes(inputs["incidents"], inputs["services"])

    # Successful production deployments, with failure flag and recovery moment.
    spd = failed_deployments(successful_production_deployments(deployments), incidents, link_window)
    spd["period"] = month_start(spd["finished_at"])
    spd["is_rework"] = rework(spd, incidents, link_window)

    recovered = spd[spd["failed"] & spd["recovered_at"].notna()].copy()
    recovered["recovery_hours"] = (recovered["recovered_at"] - recovered["finished_at"]) / HOUR

    # Deployed changes, in the period of the deploying SPD.
    lead = _with_scopes(deployed_changes(inputs["changes"], spd), inputs["services"])
    lead["lead_time_hours"] = (lead["deployed_at"] - lead["first_commit_at"]) / HOUR
    lead = lead[lead["lead_time_hours"].notna()].copy()
    lead["period"] = month_start(lead["deployed_at"])

    # Incidents resolved in the period.
    restored = incidents[incidents["resolved_at"].notna() & incidents["created_at"].notna()].copy()
    restored["restore_hours"] = (restored["resolved_at"] - restored["created_at"]) / HOUR
    restored["period"] = month_start(restored["resolved_at"])

    frames = [
        aggregate(
            spd,
            {
                "deployment_frequency": lambda grouped: grouped.size(),
                "change_failure_rate": _rate("failed"),
                "rework_rate": _rate("is_rework"),
                "rollback_frequency": lambda grouped: grouped["is_rollback"].sum(),
            },
        ),
        aggregate(
            lead,
            {
                "lead_time_for_changes_p50_hours": _quantile("lead_time_hours", 0.5),
                "lead_time_for_changes_p90_hours": _quantile("lead_time_hours", 0.9),
            },
        ),
        aggregate(
            restored,
            {
                "mttr_hours": lambda grouped: grouped["restore_hours"].mean(),
                "time_to_restore_p50_hours": lambda grouped: grouped["restore_hours"].median(),
            },
        ),
        aggregate(
            recovered,
            {"failed_deployment_recovery_time_p50_hours": lambda grouped: grouped["recovery_hours"].median()},
        ),
        *_platform_kpis(deployments, builds, month_start),
    ]
    return _finish(frames)


def compute_weekly(
    inputs: dict[str, pd.DataFrame],
    *,
    production_pattern: str | re.Pattern = DEFAULT_PRODUCTION_PATTERN,
    link_window_hours: float = DEFAULT_LINK_WINDOW_HOURS,
    default_branches: Iterable[str] = DEFAULT_BRANCHES,
) -> pd.DataFrame:
    """ci_pipeline_success_rate, build_duration_p50/p95_sec, deployment_success_rate per ISO week.

    ``link_window_hours`` is accepted for signature symmetry; no weekly KPI uses incident links.
    """
    deployments = _deployments(inputs, production_pattern)
    builds = _builds(inputs, default_branches)
    return _finish(_platform_kpis(deployments, builds, week_start))


if __name__ == "__main__":  # pragma: no cover - manual use: python -m bench.pandas_dora FILES_DIR
    import sys
    import time

    started = time.perf_counter()
    loaded = load_inputs(Path(sys.argv[1]))
    loaded_at = time.perf_counter()
    monthly = compute_monthly(loaded)
    weekly = compute_weekly(loaded)
    done = time.perf_counter()
    print(
        f"load {loaded_at - started:.2f}s  compute {done - loaded_at:.2f}s  "
        f"monthly rows {len(monthly)}  weekly rows {len(weekly)}"
    )
