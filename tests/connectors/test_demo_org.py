"""The demo organisation generator: reproducible, inside its window, and realistic enough to demo DORA tiers."""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from platform_kpi.demo.org import generate_demo_org, team_names, team_profiles

TODAY = dt.date(2026, 5, 9)
WINDOW_START = pd.Timestamp("2024-05-01", tz="UTC")  # the default 24 full months before May 2026
WINDOW_END = pd.Timestamp("2026-05-09", tz="UTC")  # start of TODAY
PARTIAL_MONTH = pd.Timestamp("2026-05-01", tz="UTC")
MONTHS_COVERED = (WINDOW_END - WINDOW_START).days / 30.436875

HEADERS = {
    "services": "service,team,repo,tier",
    "deployments": "deployment_id,service,environment,status,started_at,finished_at,commit_sha,is_rollback,is_hotfix",
    "changes": "change_id,service,first_commit_at,merged_at,deployment_id,opened_at,ready_at,first_review_at,"
    "approved_at,additions,deletions,commits,url",
    "incidents": "incident_id,service,created_at,resolved_at,severity,caused_by_deployment_id",
    "builds": "build_id,service,branch,status,started_at,finished_at,is_default_branch",
}
TS_COLUMNS = {
    "deployments": ("started_at", "finished_at"),
    "changes": ("first_commit_at", "merged_at", "opened_at", "ready_at", "first_review_at", "approved_at"),
    "incidents": ("created_at", "resolved_at"),
    "builds": ("started_at", "finished_at"),
}
PROD_ENVS = {"production", "prod", "prod-eu", "prod-us", "production-canary"}
SUCCESS = {"success", "succeeded"}  # compared lower-cased
KNOWN_STATUSES = {
    "success",
    "SUCCESS",
    "succeeded",
    "failed",
    "failure",
    "error",
    "cancelled",
    "canceled",
    "aborted",
    "in_progress",
    "running",
}
TIERS = ("elite", "high", "medium", "low")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


@functools.cache
def _read_cached(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _read(folder: Path, entity: str) -> pd.DataFrame:
    return _read_cached(folder / f"{entity}.csv").copy()


def _utc(text: pd.Series) -> pd.Series:
    """ISO-8601 text (``Z``, ``+HH:MM`` offset, or naive = UTC) -> UTC timestamps; blank/invalid -> NaT.

    Parsed by hand on purpose: pandas 2.3 ``to_datetime(..., format="ISO8601", utc=True)`` reads a
    naive value that follows an offset value with that previous row's offset.
    """
    base = pd.to_datetime(text.str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S", errors="coerce", utc=True)
    tail = text.str.slice(19)
    utc = tail.isin(["", "Z"])
    offset = tail[~utc].str.extract(r"^([+-])(\d\d):(\d\d)$")
    seconds = (offset[1].astype(float) * 3600 + offset[2].astype(float) * 60) * offset[0].map(
        {"+": 1, "-": -1}
    )
    shift = pd.to_timedelta(seconds.reindex(text.index).fillna(0), unit="s")
    ok = utc | offset[0].reindex(text.index).notna()
    return (base - shift).where(ok & (text.str.len() >= 19))


def _typed_deployments(folder: Path) -> pd.DataFrame:
    dep = _read(folder, "deployments")
    dep["start"] = _utc(dep.started_at)
    dep["finish"] = _utc(dep.finished_at)
    dep["ok_prod"] = (
        dep.environment.str.lower().isin(PROD_ENVS)
        & dep.status.str.lower().isin(SUCCESS)
        & dep.finish.notna()
    )
    return dep


def _with_profile(frame: pd.DataFrame, services: pd.DataFrame) -> pd.DataFrame:
    profile = services.set_index("service").team.map(team_profiles(8))
    return frame.assign(profile=frame.service.map(profile))


def _deploying_finish(changes: pd.DataFrame, ok: pd.DataFrame) -> pd.Series:
    """Finish of the deployment that shipped each change (named, else first ok prod finishing >= merged)."""
    ok = ok[["deployment_id", "service", "finish"]]
    named = changes.deployment_id.map(ok.set_index("deployment_id").finish)
    blank = changes[changes.deployment_id == ""].sort_values("merged")
    linked = pd.merge_asof(
        blank.reset_index(),
        ok.sort_values("finish").rename(columns={"deployment_id": "linked_id"}),
        left_on="merged",
        right_on="finish",
        by="service",
        direction="forward",
    ).set_index("index")
    return named.fillna(linked.finish)


def _failed_deployments(ok: pd.DataFrame, incidents: pd.DataFrame) -> set[str]:
    """The pipeline's rule: an incident names it, a cause-less incident follows it within 24 h, or rolled back."""
    failed = set(incidents.caused_by_deployment_id[incidents.caused_by_deployment_id != ""])
    blank = incidents[incidents.caused_by_deployment_id == ""].sort_values("created")
    near = pd.merge_asof(
        blank,
        ok[["service", "finish", "deployment_id"]].sort_values("finish"),
        left_on="created",
        right_on="finish",
        by="service",
        direction="backward",
        tolerance=pd.Timedelta("24h"),
    )
    failed |= set(near.deployment_id.dropna())
    seq = ok.sort_values(["service", "finish"])
    next_is_rollback = seq.groupby("service").is_rollback.shift(-1) == "true"
    return failed | set(seq.deployment_id[next_is_rollback])


# ---------------------------------------------------------------------------------------------
# fixtures: one organisation with bad rows, the same one without
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dirty(module_tmp: Path) -> tuple[Path, dict[str, int]]:
    folder = module_tmp / "dirty"
    return folder, generate_demo_org(folder, today=TODAY)


@pytest.fixture(scope="module")
def clean(module_tmp: Path) -> Path:
    folder = module_tmp / "clean"
    generate_demo_org(folder, today=TODAY, inject_bad_rows=False)
    return folder


# ---------------------------------------------------------------------------------------------
# reproducibility and file contract
# ---------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes_and_another_seed_differs(dirty, tmp_path):
    folder, counts = dirty
    again = generate_demo_org(tmp_path / "again", today=TODAY)
    other = generate_demo_org(tmp_path / "other", today=TODAY, seed=8)
    assert again == counts
    for entity in HEADERS:
        original = (folder / f"{entity}.csv").read_bytes()
        assert (tmp_path / "again" / f"{entity}.csv").read_bytes() == original, entity
        assert (tmp_path / "other" / f"{entity}.csv").read_bytes() != original, entity
    assert other != counts


def test_headers_are_exactly_the_canonical_columns(dirty):
    folder, _ = dirty
    for entity, header in HEADERS.items():
        with open(folder / f"{entity}.csv", encoding="utf-8", newline="") as f:
            assert f.readline() == header + "\n", entity


def test_row_counts_match_the_stated_scale(dirty):
    folder, counts = dirty
    for entity in HEADERS:
        assert counts[entity] == len(_read(folder, entity)), entity
    assert counts["services"] == 40
    service_months = 40 * MONTHS_COVERED
    assert 18 * service_months <= counts["deployments"] <= 31 * service_months  # ~25 per service-month
    assert 125 * service_months <= counts["builds"] <= 210 * service_months  # ~167 per service-month
    assert 1.25 * service_months <= counts["incidents"] <= 2.1 * service_months  # ~1.7 per service-month
    assert counts["deployments"] < counts["changes"] < 4 * counts["deployments"]


# ---------------------------------------------------------------------------------------------
# time window
# ---------------------------------------------------------------------------------------------


def test_every_timestamp_is_inside_the_window_and_none_is_in_the_future(dirty):
    folder, _ = dirty
    for entity, columns in TS_COLUMNS.items():
        frame = _read(folder, entity)
        for column in columns:
            raw = frame[column]
            parsed = _utc(raw)
            unparseable = raw[(raw != "") & parsed.isna()]
            expected = ["not-a-date"] if (entity, column) == ("builds", "started_at") else []
            assert unparseable.tolist() == expected, (entity, column)
            assert parsed.max() <= WINDOW_END, (entity, column)
            assert parsed.min() >= WINDOW_START, (entity, column)


def test_window_is_the_full_months_plus_the_current_partial_month(dirty):
    folder, _ = dirty
    expected = [str(p) for p in pd.period_range("2024-05", "2026-05", freq="M")]
    for entity, column in (
        ("deployments", "started_at"),
        ("builds", "finished_at"),
        ("changes", "merged_at"),
    ):
        months = _utc(_read(folder, entity)[column]).dropna().dt.strftime("%Y-%m")
        assert sorted(months.unique()) == expected, entity


@pytest.mark.parametrize(
    ("today", "months", "expected"),
    [
        (dt.date(2026, 1, 1), 3, ["2025-10", "2025-11", "2025-12"]),  # the 1st: no partial month yet
        (dt.date(2026, 2, 15), 2, ["2025-12", "2026-01", "2026-02"]),  # across the year end
    ],
)
def test_window_follows_today_and_months(tmp_path, today, months, expected):
    generate_demo_org(tmp_path, services=6, teams=4, months=months, today=today)
    end = pd.Timestamp(today, tz="UTC")
    builds = _utc(_read(tmp_path, "builds").finished_at).dropna()
    assert sorted(builds.dt.strftime("%Y-%m").unique()) == expected
    for entity, columns in TS_COLUMNS.items():
        frame = _read(tmp_path, entity)
        for column in columns:
            stamps = _utc(frame[column]).dropna()
            assert stamps.max() <= end, (entity, column)
            assert stamps.min() >= pd.Timestamp(expected[0], tz="UTC"), (entity, column)


def test_unfinished_deployments_only_in_the_current_partial_month(clean):
    dep = _typed_deployments(clean)
    unfinished = dep[dep.finished_at == ""]
    assert len(unfinished) >= 1
    assert set(unfinished.status) <= {"in_progress", "running"}
    assert (unfinished.start >= PARTIAL_MONTH).all()
    assert not dep[dep.finished_at != ""].status.isin(["in_progress", "running"]).any()


def test_timestamps_mostly_utc_z_some_with_offset_a_few_naive(clean):
    stamps = pd.concat([_read(clean, "deployments").started_at, _read(clean, "builds").started_at])
    z = stamps.str.endswith("Z").mean()
    offset = stamps.str.contains(r"[+-]\d\d:\d\d$").mean()
    naive = stamps.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d").mean()
    assert 0.90 <= z <= 0.96 and 0.03 <= offset <= 0.07 and 0.01 <= naive <= 0.03
    assert z + offset + naive == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------
# DORA realism per team profile
# ---------------------------------------------------------------------------------------------


def test_deployment_frequency_and_lead_time_follow_the_team_profiles(clean):
    services = _read(clean, "services")
    dep = _with_profile(_typed_deployments(clean), services)
    ok = dep[dep.ok_prod]
    per_service_month = (
        ok.groupby("profile").size()
        / services.assign(profile=services.team.map(team_profiles(8))).groupby("profile").size()
        / MONTHS_COVERED
    )

    changes = _read(clean, "changes")
    changes["merged"] = _utc(changes.merged_at)
    changes["first"] = _utc(changes.first_commit_at)
    lead_hours = (_deploying_finish(changes, ok) - changes["first"]).dt.total_seconds() / 3600
    lead_p50 = (
        _with_profile(changes.assign(lead=lead_hours), services)
        .dropna(subset=["lead"])
        .groupby("profile")
        .lead.median()
    )

    freq = [per_service_month[t] for t in TIERS]
    lead = [lead_p50[t] for t in TIERS]
    assert freq == sorted(freq, reverse=True) and len(set(freq)) == 4, freq
    assert lead == sorted(lead) and len(set(lead)) == 4, lead
    # DORA clusters: per service per month >= 30 (several a day), 4-30, 1-4, < 1 ...
    assert freq[0] >= 30 and 4 <= freq[1] < 30 and 1 <= freq[2] < 4 and freq[3] < 1, freq
    # ... and lead time < 1 day, 1 day - 1 week, 1 week - 1 month, 1 - 6 months.
    assert lead[0] < 24 and 24 <= lead[1] < 168 and 168 <= lead[2] < 720 and 720 <= lead[3] < 4320, lead


def test_pull_request_flow_is_ordered_and_follows_the_team_profiles(clean):
    services = _read(clean, "services")
    changes = _with_profile(_read(clean, "changes"), services)
    t = {c: _utc(changes[c]) for c in TS_COLUMNS["changes"]}
    opened, ready, review, approved = t["opened_at"], t["ready_at"], t["first_review_at"], t["approved_at"]
    # Every change has an opening time; the flow's times are in order and inside first commit .. merge.
    assert opened.notna().all()
    assert (t["first_commit_at"] <= opened).all() and (opened <= t["merged_at"]).all()
    assert ((ready.isna()) | ((opened <= ready) & (ready <= review.fillna(t["merged_at"])))).all()
    assert ((review.isna()) | ((opened <= review) & (review <= t["merged_at"]))).all()
    assert ((approved.isna()) | ((review <= approved) & (approved <= t["merged_at"]))).all()
    assert (approved.isna() | review.notna()).all()  # an approval is a review
    # Some drafts, some unreviewed merges, sizes as whole numbers and links to the pull request.
    assert 0.05 < ready.notna().mean() < 0.4
    size = changes.additions.astype(int) + changes.deletions.astype(int)
    assert (changes.commits.astype(int) >= 1).all() and (size >= 1).all()
    assert changes.url.str.fullmatch(r"https://github\.com/[a-z0-9-]+/[a-z0-9-]+/pull/\d+").all()
    # Slower tiers: more changes merged without review, longer pickup and bigger pull requests.
    by = changes.assign(
        unreviewed=review.isna(),
        pickup=(review - ready.fillna(opened)).dt.total_seconds() / 3600,
        size=size,
    ).groupby("profile")
    unreviewed = [by.unreviewed.mean()[p] for p in TIERS]
    pickup = [by.pickup.median()[p] for p in TIERS]
    sizes = [by["size"].median()[p] for p in TIERS]
    assert unreviewed == sorted(unreviewed) and unreviewed[0] > 0 and unreviewed[-1] < 0.5, unreviewed
    assert pickup == sorted(pickup) and len(set(pickup)) == 4, pickup
    assert sizes == sorted(sizes) and len(set(sizes)) == 4, sizes


def test_change_failure_rate_and_restore_time_follow_the_team_profiles(clean):
    services = _read(clean, "services")
    dep = _with_profile(_typed_deployments(clean), services)
    ok = dep[dep.ok_prod]
    incidents = _with_profile(_read(clean, "incidents"), services)
    incidents["created"] = _utc(incidents.created_at)
    incidents["resolved"] = _utc(incidents.resolved_at)

    failed = _failed_deployments(ok, incidents)
    cfr = ok.assign(failed=ok.deployment_id.isin(failed)).groupby("profile").failed.mean()
    restore = (
        ((incidents.resolved - incidents.created).dt.total_seconds() / 3600)
        .groupby(incidents.profile)
        .median()
    )

    rates = [cfr[t] for t in TIERS]
    hours = [restore[t] for t in TIERS]
    assert rates == sorted(rates), rates
    assert rates[0] <= 0.06 and 0.08 <= rates[1] <= 0.18 and rates[3] >= 0.25, rates
    assert hours == sorted(hours), hours
    assert hours[0] < 1 and hours[1] < 24 and 24 <= hours[2] < 168 and hours[3] >= 168, hours


# ---------------------------------------------------------------------------------------------
# references and failure signals
# ---------------------------------------------------------------------------------------------


def test_named_deployments_exist_and_make_sense(dirty):
    folder, _ = dirty
    dep = _typed_deployments(folder)
    ids = set(dep.deployment_id)
    changes = _read(folder, "changes")
    incidents = _read(folder, "incidents")
    named_changes = changes[changes.deployment_id != ""]
    named_incidents = incidents[incidents.caused_by_deployment_id != ""]
    assert set(named_changes.deployment_id) <= ids
    assert set(named_incidents.caused_by_deployment_id) <= ids
    assert 0.25 <= len(named_changes) / len(changes) <= 0.35
    assert len(named_incidents) > 0

    first = dep.drop_duplicates("deployment_id").set_index("deployment_id")  # the duplicate is appended last
    shipped = first.loc[named_changes.deployment_id]
    assert (shipped.service.to_numpy() == named_changes.service.to_numpy()).all()
    assert shipped.ok_prod.all()
    assert (shipped.finish.to_numpy() >= _utc(named_changes.merged_at).to_numpy()).all()
    cause = first.loc[named_incidents.caused_by_deployment_id]
    assert (cause.service.to_numpy() == named_incidents.service.to_numpy()).all()
    assert (cause.finish.to_numpy() <= _utc(named_incidents.created_at).to_numpy()).all()


def test_every_successful_release_carries_changes_and_a_few_are_pending(clean):
    dep = _typed_deployments(clean)
    ok = dep[dep.ok_prod]
    changes = _read(clean, "changes")
    changes["merged"] = _utc(changes.merged_at)
    changes["first"] = _utc(changes.first_commit_at)
    assert (changes["first"] < changes.merged).all()
    shipped_by = _deploying_finish(changes, ok)
    pending = changes[shipped_by.isna()]
    assert 1 <= len(pending) <= 0.01 * len(changes)
    assert (pending.merged >= WINDOW_END - pd.Timedelta(days=3)).all()

    blank = changes[changes.deployment_id == ""].sort_values("merged")
    linked = pd.merge_asof(
        blank,
        ok[["service", "finish", "deployment_id"]]
        .rename(columns={"deployment_id": "shipped_by"})
        .sort_values("finish"),
        left_on="merged",
        right_on="finish",
        by="service",
        direction="forward",
    )
    releases = set(linked.shipped_by.dropna()) | set(changes.deployment_id[changes.deployment_id != ""])
    regular = ok[ok.is_rollback == "false"]
    assert set(regular.deployment_id) <= releases  # including each service's first deployment
    assert not releases & set(ok.deployment_id[ok.is_rollback == "true"])  # a rollback ships no new change


def test_rollbacks_hotfixes_and_incident_kinds_are_all_present(clean):
    dep = _typed_deployments(clean)
    ok = dep[dep.ok_prod].sort_values(["service", "finish"])
    previous = ok.groupby("service").shift(1)
    rollbacks = ok[ok.is_rollback == "true"]
    hotfixes = ok[ok.is_hotfix == "true"]
    assert len(rollbacks) >= 20 and len(hotfixes) >= 5
    assert set(dep[dep.is_rollback == "true"].deployment_id) == set(rollbacks.deployment_id)
    # A rollback redeploys an earlier commit of the same service.
    prod = dep[dep.environment.str.lower().isin(PROD_ENVS)]
    first_seen = prod.groupby(["service", "commit_sha"]).start.min()
    seen = first_seen.loc[list(zip(rollbacks.service, rollbacks.commit_sha, strict=True))].to_numpy()
    assert np.mean(seen < rollbacks.start.to_numpy()) > 0.9

    incidents = _read(clean, "incidents")
    incidents["created"] = _utc(incidents.created_at)
    named = set(incidents.caused_by_deployment_id)
    assert previous.loc[hotfixes.index].deployment_id.isin(named).all()  # hotfixes follow a named incident

    blank = incidents[incidents.caused_by_deployment_id == ""].sort_values("created")
    last = pd.merge_asof(
        blank,
        ok[["service", "finish"]].sort_values("finish"),
        left_on="created",
        right_on="finish",
        by="service",
        direction="backward",
    )
    gap = last.created - last.finish
    assert (gap <= pd.Timedelta("6h")).sum() >= 20  # linked to a deployment by time only
    assert (gap.isna() | (gap > pd.Timedelta("24h"))).sum() >= 100  # unrelated to any deployment

    unresolved = incidents[incidents.resolved_at == ""]
    assert 1 <= len(unresolved) <= 40
    assert (unresolved.created >= WINDOW_END - pd.Timedelta(days=60)).all()


# ---------------------------------------------------------------------------------------------
# services, builds, raw spellings
# ---------------------------------------------------------------------------------------------


def test_services_monorepo_tiers_and_uneven_teams(dirty):
    folder, _ = dirty
    services = _read(folder, "services")
    assert services.service.is_unique
    assert set(services.team) == set(team_names(8))
    sizes = services.team.value_counts()
    assert sizes.max() >= 2 * sizes.min()
    mono = services[services.repo == "acme/monorepo"]
    assert 4 <= len(mono) <= 6 and mono.team.nunique() >= 2
    rest = services[services.repo != "acme/monorepo"]
    assert (rest.repo == "acme/" + rest.service).all()
    assert set(services.tier) == {"tier-1", "tier-2", "tier-3"}


def test_builds_branches_flags_flakiness_and_durations(clean):
    builds = _read(clean, "builds")
    is_default = builds.branch.isin(["main", "master"])
    assert (is_default | builds.branch.str.match(r"^feature/[A-Z]{3}-\d+-[a-z-]+$")).all()
    assert builds[builds.branch == "master"].service.nunique() >= 1
    assert builds[builds.branch == "main"].service.nunique() >= 30
    flag = builds.is_default_branch
    assert 0.02 <= (flag == "").mean() <= 0.08
    assert ((flag == "true") == is_default)[flag != ""].all()
    assert set(builds.status) <= KNOWN_STATUSES - {"in_progress", "running"}

    builds["start"] = _utc(builds.started_at)
    builds["finish"] = _utc(builds.finished_at)
    minutes = (builds.finish - builds.start).dt.total_seconds() / 60
    assert 3 <= minutes.median() <= 30 and minutes.quantile(0.95) > 2.5 * minutes.median()

    # Flaky services: failures immediately re-run, successfully, on the same branch.
    runs = builds.sort_values(["service", "branch", "start"])
    nxt = runs.groupby(["service", "branch"]).shift(-1)
    failed = runs.status.isin(["failed", "failure", "error"])
    rerun = (
        failed & nxt.status.str.lower().isin(SUCCESS) & ((nxt.start - runs.finish) <= pd.Timedelta("5min"))
    )
    share = (rerun.groupby(runs.service).sum() / failed.groupby(runs.service).sum()).sort_values()
    assert share.iloc[-1] >= 0.5 and share.median() < 0.1


def test_raw_spellings_and_value_formats(clean):
    dep = _read(clean, "deployments")
    assert set(dep.environment) == {
        "production",
        "prod",
        "Prod-EU",
        "prod-us",
        "production-canary",
        "staging",
        "dev",
        "preprod",
    }
    assert set(dep.status) <= KNOWN_STATUSES and len(set(dep.status) & KNOWN_STATUSES) >= 10
    assert dep.deployment_id.str.fullmatch(r"dep-\d{6}").all() and dep.deployment_id.is_unique
    assert dep.commit_sha.str.fullmatch(r"[0-9a-f]{40}").all()
    for column in ("is_rollback", "is_hotfix"):
        assert set(dep[column]) == {"true", "false"}
    assert _read(clean, "changes").change_id.str.fullmatch(r"chg-\d{6}").all()
    assert _read(clean, "incidents").incident_id.str.fullmatch(r"inc-\d{6}").all()
    assert _read(clean, "builds").build_id.str.fullmatch(r"bld-\d{6}").all()
    assert set(_read(clean, "incidents").severity) <= {"sev1", "sev2", "sev3", "sev4"}


# ---------------------------------------------------------------------------------------------
# bad rows
# ---------------------------------------------------------------------------------------------


def _bad_rows(folder: Path) -> dict[str, int]:
    dep = _typed_deployments(folder)
    duplicated = dep[dep.deployment_id.duplicated(keep=False)]
    incidents = _read(folder, "incidents")
    builds = _read(folder, "builds")
    return {
        "unknown_status": int((~dep.status.isin(KNOWN_STATUSES)).sum()),
        "finished_before_started": int((dep.finish < dep.start).sum()),
        "duplicate_id": int(dep.deployment_id.duplicated().sum()),
        "duplicate_differs": int(len(duplicated.drop_duplicates()) == len(duplicated) > 0),
        "bad_build_time": int((_utc(builds.started_at).isna() | _utc(builds.finished_at).isna()).sum()),
        "resolved_before_created": int((_utc(incidents.resolved_at) < _utc(incidents.created_at)).sum()),
    }


def test_bad_rows_present_exactly_when_injected(dirty, clean):
    folder, counts = dirty
    assert _bad_rows(folder) == {
        "unknown_status": 1,
        "finished_before_started": 1,
        "duplicate_id": 1,
        "duplicate_differs": 1,
        "bad_build_time": 1,
        "resolved_before_created": 1,
    }
    assert set(_bad_rows(clean).values()) == {0}
    assert _read(folder, "deployments").status.eq("exploded").sum() == 1
    assert _read(folder, "builds").started_at.eq("not-a-date").sum() == 1
    # The bad rows are appended: otherwise the files are the clean ones.
    extra = {"services": 0, "deployments": 3, "changes": 0, "incidents": 1, "builds": 1}
    for entity in HEADERS:
        dirty_bytes = (folder / f"{entity}.csv").read_bytes()
        clean_bytes = (clean / f"{entity}.csv").read_bytes()
        assert dirty_bytes.startswith(clean_bytes), entity
        assert dirty_bytes[len(clean_bytes) :].count(b"\n") == extra[entity], entity
        assert counts[entity] == len(_read(clean, entity)) + extra[entity], entity


# ---------------------------------------------------------------------------------------------
# interface
# ---------------------------------------------------------------------------------------------


def test_reports_progress_per_entity_and_prints_nothing(tmp_path, capsys):
    messages: list[str] = []
    counts = generate_demo_org(tmp_path, services=5, teams=3, months=1, today=TODAY, progress=messages.append)
    assert capsys.readouterr() == ("", "")
    assert len(messages) == len(counts) == 8  # five delivery files and three platform ones
    for message, entity in zip(
        messages,
        [
            "services",
            "deployments",
            "changes",
            "incidents",
            "builds",
            "catalog_entities",
            "ci_config_scans",
            "docs_pages",
        ],
        strict=True,
    ):
        assert entity in message
    platform = ("catalog_entities", "ci_config_scans", "docs_pages")
    # the canonical files, the platform files, and the security reports' folder (platform_kpi/demo/security.py)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*(f"{e}.csv" for e in (*HEADERS, *platform)), "security"]
    )


def test_more_teams_than_services_and_extra_team_names(tmp_path):
    counts = generate_demo_org(tmp_path, services=3, teams=20, months=1, today=TODAY)
    assert counts["services"] == 3
    assert team_names(20)[-1] == "team-20" and len(set(team_names(20))) == 20
    assert list(team_profiles(5).values()) == ["elite", "high", "medium", "low", "elite"]
    with pytest.raises(ValueError):
        generate_demo_org(tmp_path, services=0)


def test_names_are_stable_business_ids():
    assert re.fullmatch(r"[a-z]+", team_names(8)[0])
    assert team_names(8) == [
        "payments",
        "checkout",
        "search",
        "identity",
        "platform",
        "data",
        "mobile",
        "growth",
    ]


# ---------------------------------------------------------------------------------------------
# platform adoption: catalog snapshots, CI scans and documents (platform_kpi/demo/platform.py)
# ---------------------------------------------------------------------------------------------


def test_platform_files_agree_with_the_services_and_adoption_rises(dirty):
    folder, counts = dirty
    services = _read(folder, "services")
    catalog, scans, docs = (_read(folder, e) for e in ("catalog_entities", "ci_config_scans", "docs_pages"))
    assert {e: counts[e] for e in ("catalog_entities", "ci_config_scans", "docs_pages")} == {
        "catalog_entities": len(catalog),
        "ci_config_scans": len(scans),
        "docs_pages": len(docs),
    }
    components = catalog[catalog["kind"] == "Component"]
    # every catalog service is a demo service with its repository; owners are the services' teams
    team_of = dict(zip(services["service"], services["team"], strict=True))
    repo_of = dict(zip(services["service"], services["repo"], strict=True))
    assert set(components["name"]) == set(services["service"])
    assert (components["repo"] == components["name"].map(repo_of)).all()
    owned = components[components["owner"] != ""]
    assert (owned["owner"] == "group:default/" + owned["name"].map(team_of)).all()
    assert set(catalog.loc[catalog["kind"] == "Group", "name"]) == set(services["team"])
    # one scan per repository per snapshot; every time is inside the window
    assert set(scans["scanned_at"]) == set(catalog["snapshot_at"])
    assert set(scans["repo"]) == set(services["repo"])
    for times in (catalog["snapshot_at"], scans["scanned_at"], docs["updated_at"]):
        t = _utc(times)
        assert t.notna().all() and (t >= WINDOW_START).all() and (t <= WINDOW_END).all()
    assert set(docs["service"]) <= set(services["service"])
    # the monorepo's services share one CI file: one scan row set per repository
    per_snapshot = scans.groupby(["scanned_at", "repo", "path"]).size()
    assert per_snapshot.max() <= 2  # the template reference (and actions/checkout on GitHub)
    # adoption rises: services with every criterion in the first and the last snapshot, by hand
    approved = scans["reference"].str.match(
        r"^(acme/platform-workflows/|platform/ci-templates/|platform-pipeline-library$)"
    )
    on_ci = set(zip(scans.loc[approved, "scanned_at"], scans.loc[approved, "repo"], strict=True))

    def adoption(snapshot: str) -> float:
        s = components[(components["snapshot_at"] == snapshot) & (components["lifecycle"] == "production")]
        ok = (
            (s["source_template"] != "")
            & (s["owner"] != "")
            & (s["techdocs_ref"] != "")
            & ((s["pagerduty_service"] != "") | (s["runbook_url"] != ""))
            & np.array([(snapshot, r) in on_ci for r in s["repo"]])
        )
        return ok.mean()

    snapshots = sorted(set(components["snapshot_at"]))
    assert adoption(snapshots[0]) < 0.15 < 0.5 < adoption(snapshots[-1])
    # some services are off the paved road at the end, some lifecycles are not production
    assert adoption(snapshots[-1]) < 0.9
    assert {"deprecated", "experimental"} <= set(components["lifecycle"])
    # before moving, GitHub repositories use the look-alike fork, not the approved workflows
    assert scans["reference"].str.startswith("acme/platform-workflows-fork/").any()


def test_demo_alerts_belong_to_its_services_and_incidents_and_noise_falls(dirty, tmp_path):
    from platform_kpi.demo.alerts import NOISY_SOURCES, generate_alerts

    folder, _ = dirty
    for name in ("services.csv", "incidents.csv"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    counts = generate_alerts(tmp_path, today=TODAY)
    first = (tmp_path / "alerts.csv").read_bytes()
    assert (
        generate_alerts(tmp_path, today=TODAY) == counts and (tmp_path / "alerts.csv").read_bytes() == first
    )
    alerts = _read(tmp_path, "alerts")
    assert counts == {"alerts": len(alerts)}
    assert set(alerts.service) <= set(_read(folder, "services").service)
    linked = alerts[alerts.incident_id != ""]
    assert len(linked) > 100 and set(linked.incident_id) <= set(_read(folder, "incidents").incident_id)
    noise = alerts.resolved_by.isin(["auto", "timeout"]) & (alerts.acknowledged_by != "person")
    month = alerts.created_at.str[:7]
    months = sorted(month.unique())
    early, late = noise[month.isin(months[:6])].mean(), noise[month.isin(months[-6:])].mean()
    assert early > 0.3 and late < 0.25, (early, late)
    # the three noisy checks raise most of the early noise
    top = alerts[noise & month.isin(months[:12])].alert_source.value_counts().index[:3]
    assert set(top) == set(NOISY_SOURCES)
