"""Demo engineering organisation: a realistic, reproducible data set for demos and benchmarks.

The platform-KPI product is demonstrated on a made-up company ("acme") whose teams
deliberately span the DORA performance tiers: some teams ship to production several
times a day with changes reaching customers within hours, others release every few
months and need days to recover from an outage.  :func:`generate_demo_org` writes
that company's source data as the canonical CSV files the pipeline ingests:

* ``services.csv``     - the service catalogue (owning team, repository, criticality tier)
* ``deployments.csv``  - every deployment to every environment, with rollbacks and hotfixes
* ``changes.csv``      - merged code changes and the deployment that shipped them
* ``incidents.csv``    - production incidents, some caused by a deployment
* ``builds.csv``       - CI runs on default and feature branches, including flaky services

The data is generated from a seed, so the same arguments always give byte-identical
files, and it is fully vectorised, so a 1,000-service organisation (about two million
builds) is produced in seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from platform_kpi.demo.platform import generate_platform_files
from platform_kpi.demo.security import generate_demo_security

__all__ = [
    "ENTITY_COLUMNS",
    "PRODUCTION_ENVIRONMENTS",
    "PROFILES",
    "TeamProfile",
    "generate_demo_org",
    "team_names",
    "team_profiles",
]

# --------------------------------------------------------------------------------------
# Output contract
# --------------------------------------------------------------------------------------

#: Canonical files (entity -> columns, in file order).  The pipeline's connectors read these.
ENTITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "services": ("service", "team", "repo", "tier"),
    "deployments": (
        "deployment_id",
        "service",
        "environment",
        "status",
        "started_at",
        "finished_at",
        "commit_sha",
        "is_rollback",
        "is_hotfix",
    ),
    "changes": (
        "change_id",
        "service",
        "first_commit_at",
        "merged_at",
        "deployment_id",
        "opened_at",
        "ready_at",
        "first_review_at",
        "approved_at",
        "additions",
        "deletions",
        "commits",
        "url",
    ),
    "incidents": (
        "incident_id",
        "service",
        "created_at",
        "resolved_at",
        "severity",
        "caused_by_deployment_id",
    ),
    "builds": (
        "build_id",
        "service",
        "branch",
        "status",
        "started_at",
        "finished_at",
        "is_default_branch",
    ),
}

_STR = pa.string()
_BOOL = pa.bool_()
_INT = pa.int64()
_COUNTS = frozenset({"additions", "deletions", "commits"})
_SCHEMAS: dict[str, pa.Schema] = {
    name: pa.schema(
        [(col, _BOOL if col.startswith("is_") else _INT if col in _COUNTS else _STR) for col in cols]
    )
    for name, cols in ENTITY_COLUMNS.items()
}

# Environment spellings as they come out of real deployment tools.  The first five are
# production (``production-canary`` too); ``preprod`` is *not* production.
_ENVIRONMENTS = ("production", "prod", "Prod-EU", "prod-us", "production-canary", "staging", "preprod", "dev")
#: Environment names (lower-cased) that count as production.
PRODUCTION_ENVIRONMENTS = frozenset(e.lower() for e in _ENVIRONMENTS[:5])
_PROD_ENV_CODES = np.arange(5)
_PROD_ENV_P = np.array([0.50, 0.22, 0.10, 0.10, 0.08])
_NONPROD_ENV_CODES = np.arange(5, 8)
_NONPROD_ENV_P = np.array([0.60, 0.25, 0.15])

# Outcome codes and their raw spellings (varied case and vocabulary, like real tools).
_SUCCESS, _FAILED, _CANCELLED, _RUNNING = 0, 1, 2, 3
_STATUS_WORDS = (
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
)
_STATUS_BASE = np.array([0, 3, 6, 9])
_STATUS_CUT = np.array([[0.70, 0.85], [0.50, 0.80], [0.50, 0.85], [0.60, 2.0]])

# Timestamp notation: most sources write UTC with "Z", some a local offset, a few no zone.
_TS_Z, _TS_OFFSET, _TS_NAIVE = 0, 1, 2
_TS_STYLE_P = np.array([0.93, 0.05, 0.02])
_OFFSETS = ("+01:00", "+02:00", "+05:30", "-05:00", "-08:00", "+09:00")
_OFFSET_SECONDS = np.array([3600, 7200, 19800, -18000, -28800, 32400], dtype=np.int64)
_TS_SUFFIXES = pa.array(["Z", "", *_OFFSETS], type=_STR)

_SEVERITIES = ("sev1", "sev2", "sev3", "sev4")

_DAY = 86_400
_HOUR = 3_600
_DAYS_PER_MONTH = 30.436875
_KEY = np.int64(1) << np.int64(40)  # > any epoch second we produce; service * _KEY + t sorts per service
_NEVER = np.int64(np.iinfo(np.int64).max // 4)

# --------------------------------------------------------------------------------------
# Organisation model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamProfile:
    """How a team of a given DORA performance tier works (rates are per service)."""

    name: str
    service_share: float  #: share of the organisation's services owned by teams of this tier
    prod_deploys_per_month: float  #: production deployments per service per month
    nonprod_deploys_per_month: float  #: extra non-production deployments (besides rehearsals)
    deploy_minutes: float  #: median deployment duration
    deploy_failure_rate: float  #: deployments that fail outright (status failed)
    change_failure_rate: float  #: successful production deployments that then degrade service
    extra_changes_per_deploy: float  #: batch size beyond the first change (Poisson mean)
    commit_to_merge_hours: float  #: median time from first commit to merge
    restore_hours: float  #: median time to restore service after an incident
    detect_minutes: float  #: median time from a bad deployment to the incident being raised
    fix_hours: float  #: median time from a bad deployment to its rollback (hotfixes take twice as long)
    unrelated_incidents_per_month: float  #: incidents not caused by a deployment (before filtering)
    builds_per_month: float  #: CI runs per service per month
    build_minutes: float  #: median CI run duration
    build_failure_rate: float  #: CI runs that fail


#: The four tiers, best first.  Team *i* gets ``PROFILES[i % 4]``.
PROFILES: tuple[TeamProfile, ...] = (
    TeamProfile("elite", 0.25, 60.0, 0.0, 4.0, 0.01, 0.04, 0.8, 3.0, 0.4, 8.0, 0.3, 0.7, 262.0, 6.0, 0.07),
    TeamProfile("high", 0.30, 12.0, 1.0, 8.0, 0.02, 0.12, 1.5, 24.0, 3.0, 45.0, 4.0, 0.9, 180.0, 9.0, 0.10),
    TeamProfile(
        "medium", 0.25, 2.5, 3.0, 15.0, 0.04, 0.20, 4.0, 144.0, 36.0, 180.0, 36.0, 1.1, 90.0, 14.0, 0.14
    ),
    TeamProfile(
        "low", 0.20, 0.6, 3.0, 30.0, 0.06, 0.42, 10.0, 720.0, 300.0, 360.0, 120.0, 1.1, 36.0, 22.0, 0.20
    ),
)


#: The pull-request flow per tier (same order as PROFILES): the share of the first-commit-to-merge time
#: a change waits for its first review (pickup: slower teams wait longer), the share merged without any
#: review, the share opened as drafts, and the median size in lines changed.
_PR_PICKUP_SHARE = np.array([0.15, 0.22, 0.32, 0.42])
_PR_UNREVIEWED = np.array([0.03, 0.07, 0.14, 0.28])
_PR_DRAFT = np.array([0.12, 0.15, 0.20, 0.25])
_PR_SIZE_LINES = np.array([70.0, 140.0, 280.0, 560.0])


def _attr(name: str) -> np.ndarray:
    return np.array([getattr(p, name) for p in PROFILES], dtype=np.float64)


_TEAM_NAMES = (
    "payments",
    "checkout",
    "search",
    "identity",
    "platform",
    "data",
    "mobile",
    "growth",
    "notifications",
    "billing",
    "catalog",
    "fulfilment",
    "pricing",
    "messaging",
    "analytics",
    "security",
)
_SERVICE_NOUNS = (
    "api",
    "gateway",
    "worker",
    "web",
    "ledger",
    "router",
    "indexer",
    "scheduler",
    "notifier",
    "store",
    "sync",
    "events",
    "reports",
    "cache",
    "profile",
    "ingest",
    "export",
    "admin",
    "auth",
    "queue",
    "graph",
    "feed",
    "config",
    "audit",
)
_BRANCH_SLUGS = (
    "retry-logic",
    "new-endpoint",
    "fix-timeout",
    "bump-deps",
    "refactor",
    "add-metrics",
    "cleanup",
    "feature-flag",
    "cache-layer",
    "schema-change",
    "perf",
    "logging",
)


def team_names(teams: int = 8) -> list[str]:
    """Names of the demo organisation's teams (``payments``, ``checkout``, ... then ``team-17`` ...)."""
    return [_TEAM_NAMES[i] if i < len(_TEAM_NAMES) else f"team-{i + 1:02d}" for i in range(teams)]


def team_profiles(teams: int = 8) -> dict[str, str]:
    """Team -> performance tier (``elite``/``high``/``medium``/``low``) used by :func:`generate_demo_org`."""
    return {name: PROFILES[i % len(PROFILES)].name for i, name in enumerate(team_names(teams))}


@dataclass(frozen=True)
class _Window:
    """The reporting window: ``months`` full months plus the current month up to today 00:00 UTC."""

    start: int
    end: int
    current_month_start: int
    day_starts: np.ndarray
    day_weights: np.ndarray

    @classmethod
    def ending(cls, today: dt.date, months: int) -> _Window:
        first = _month_start(today, months)
        n_days = (today - first).days
        offsets = np.arange(n_days, dtype=np.int64)
        weekday = (first.weekday() + offsets) % 7
        weights = np.where(weekday < 5, 1.0, 0.15)
        return cls(
            start=_epoch(first),
            end=_epoch(today),
            current_month_start=_epoch(_month_start(today, 0)),
            day_starts=_epoch(first) + offsets * _DAY,
            day_weights=weights / weights.sum(),
        )

    @property
    def months(self) -> float:
        return (self.end - self.start) / _DAY / _DAYS_PER_MONTH

    def sample(self, rng: np.random.Generator, n: int, *, working_hours: bool = True) -> np.ndarray:
        """Epoch seconds of ``n`` events; work happens mostly on weekdays around 14:00 UTC."""
        if working_hours:
            day = rng.choice(self.day_starts.size, size=n, p=self.day_weights)
            in_hours = rng.random(n) < 0.85
            tod = np.where(in_hours, rng.normal(14 * _HOUR, 3 * _HOUR, n), rng.uniform(0, _DAY, n))
        else:
            day = rng.integers(0, self.day_starts.size, n)
            tod = rng.uniform(0, _DAY, n)
        return self.day_starts[day] + np.clip(tod, 0, _DAY - 1).astype(np.int64)


def _month_start(d: dt.date, back: int) -> dt.date:
    idx = d.year * 12 + d.month - 1 - back
    return dt.date(idx // 12, idx % 12 + 1, 1)


def _epoch(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days * _DAY


@dataclass(frozen=True)
class _Org:
    teams: list[str]
    team_profile: np.ndarray
    service: list[str]
    service_team: np.ndarray
    profile: np.ndarray  # per service
    tier: np.ndarray
    repo: list[str]
    uses_master: np.ndarray
    flaky: np.ndarray
    deploy_jitter: np.ndarray
    build_jitter: np.ndarray
    incident_jitter: np.ndarray

    @property
    def n(self) -> int:
        return len(self.service)


def _allocate_services(rng: np.random.Generator, services: int, team_profile: np.ndarray) -> np.ndarray:
    """Services per team: tier shares are fixed, teams within a tier get uneven (random) sizes.

    Every team owns at least a few services (up to 3) so that a team's monthly KPIs rest on more
    than one service's luck.
    """
    n_teams = team_profile.size
    counts = np.zeros(n_teams, dtype=np.int64)
    if services < n_teams:
        counts[:services] = 1
        return counts
    present = [p for p in range(len(PROFILES)) if (team_profile == p).any()]
    least = min(3, services // n_teams)
    teams_per = np.array([(team_profile == p).sum() for p in present]) * least
    share = np.array([PROFILES[p].service_share for p in present])
    raw = share / share.sum() * services
    alloc = np.floor(raw).astype(np.int64)
    alloc[np.argsort(-(raw - alloc), kind="stable")[: services - alloc.sum()]] += 1
    while (alloc < teams_per).any():  # every team gets its minimum
        short = int(np.flatnonzero(alloc < teams_per)[0])
        donor = int(np.argmax(alloc - teams_per))
        alloc[donor] -= 1
        alloc[short] += 1
    for p, a in zip(present, alloc, strict=True):
        members = np.flatnonzero(team_profile == p)
        weights = rng.gamma(1.5, size=members.size)
        counts[members] = least + rng.multinomial(a - least * members.size, weights / weights.sum())
    return counts


def _build_org(rng: np.random.Generator, services: int, teams: int) -> _Org:
    names = team_names(teams)
    team_profile = np.arange(teams) % len(PROFILES)
    counts = _allocate_services(rng, services, team_profile)

    service: list[str] = []
    service_team: list[int] = []
    for t, (team, count) in enumerate(zip(names, counts, strict=True)):
        nouns = [_SERVICE_NOUNS[i] for i in rng.permutation(len(_SERVICE_NOUNS))]
        for k in range(int(count)):
            lap, noun = divmod(k, len(nouns))
            service.append(f"{team}-{nouns[noun]}" + (f"-{lap + 1}" if lap else ""))
            service_team.append(t)
    team_of = np.array(service_team, dtype=np.int64)
    profile = team_profile[team_of]
    n = len(service)

    tier = rng.choice(3, size=n, p=[0.20, 0.45, 0.35])

    # The monorepo: 4-6 services, taken round-robin from different teams (when there are enough).
    in_mono = np.zeros(n, dtype=bool)
    owners = rng.permutation(np.flatnonzero(counts > 0))
    want = min(n, 4 + int(rng.integers(0, 3))) if n >= 4 and owners.size >= 2 else 0
    while in_mono.sum() < want:
        for t in owners:
            free = np.flatnonzero((team_of == t) & ~in_mono)
            if free.size and in_mono.sum() < want:
                in_mono[free[rng.integers(free.size)]] = True
    repo = ["acme/monorepo" if m else f"acme/{s}" for s, m in zip(service, in_mono, strict=True)]

    # A few old services (slower tiers, own repo) still build from ``master``.
    old_candidates = np.flatnonzero(~in_mono & (profile >= 2))
    uses_master = np.zeros(n, dtype=bool)
    picked = old_candidates[rng.random(old_candidates.size) < 0.25]
    if picked.size == 0 and old_candidates.size:
        picked = old_candidates[[rng.integers(old_candidates.size)]]
    uses_master[picked] = True

    flaky = rng.random(n) < 0.12
    if not flaky.any():
        flaky[rng.integers(n)] = True

    return _Org(
        teams=names,
        team_profile=team_profile,
        service=service,
        service_team=team_of,
        profile=profile,
        tier=tier,
        repo=repo,
        uses_master=uses_master,
        flaky=flaky,
        deploy_jitter=rng.lognormal(0.0, 0.25, n),
        build_jitter=rng.lognormal(0.0, 0.30, n),
        incident_jitter=rng.lognormal(0.0, 0.30, n),
    )


# --------------------------------------------------------------------------------------
# Simulation (everything in epoch seconds, vectorised)
# --------------------------------------------------------------------------------------

_NONE, _EXPLICIT, _WINDOW, _ROLLBACK, _HOTFIX = 0, 1, 2, 3, 4


def _spelling(status: np.ndarray, u: np.ndarray) -> np.ndarray:
    cut = _STATUS_CUT[status]
    return _STATUS_BASE[status] + (u > cut[:, 0]) + (u > cut[:, 1])


def _ts_style(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    style = rng.choice(3, size=n, p=_TS_STYLE_P).astype(np.int8)
    offset = rng.integers(0, len(_OFFSETS), n).astype(np.int8)
    return style, offset


def _next_in_group(group: np.ndarray) -> np.ndarray:
    """For rows sorted by group: does the next row belong to the same group?"""
    same = np.zeros(group.size, dtype=bool)
    same[:-1] = group[1:] == group[:-1]
    return same


@dataclass
class _Deployments:
    svc: np.ndarray
    env: np.ndarray
    status: np.ndarray
    spelling: np.ndarray
    start: np.ndarray
    finish: np.ndarray  # meaningless where status is running
    sha: np.ndarray  # (n, 20) uint8
    is_prod: np.ndarray
    is_rollback: np.ndarray
    is_hotfix: np.ndarray
    ts_style: np.ndarray
    ts_offset: np.ndarray
    ok_prod: np.ndarray  # rows of successful production deployments, sorted by (service, finish)
    mechanism: np.ndarray  # per ok_prod row: how (if at all) the deployment degraded service

    @property
    def n(self) -> int:
        return self.svc.size


def _simulate_deployments(rng: np.random.Generator, org: _Org, win: _Window) -> _Deployments:
    prof = org.profile
    services = np.arange(org.n)

    # Production deployments at the team's cadence.
    p_svc = np.repeat(
        services, rng.poisson(_attr("prod_deploys_per_month")[prof] * org.deploy_jitter * win.months)
    )
    p_start = win.sample(rng, p_svc.size)
    p_env = rng.choice(_PROD_ENV_CODES, size=p_svc.size, p=_PROD_ENV_P)
    p_sha = rng.integers(0, 256, size=(p_svc.size, 20), dtype=np.uint8)

    # A fifth of them are rehearsed on a non-production environment with the same commit.
    src = np.flatnonzero(rng.random(p_svc.size) < 0.20)
    r_start = p_start[src] - rng.integers(15 * 60, 4 * _HOUR, src.size)
    r_env = rng.choice(_NONPROD_ENV_CODES, size=src.size, p=_NONPROD_ENV_P)
    inside = r_start >= win.start
    src, r_start, r_env = src[inside], r_start[inside], r_env[inside]
    r_svc = p_svc[src]
    r_sha = p_sha[src]

    # Slower teams also deploy to test environments on their own.
    q_svc = np.repeat(
        services, rng.poisson(_attr("nonprod_deploys_per_month")[prof] * org.deploy_jitter * win.months)
    )
    q_start = win.sample(rng, q_svc.size)
    q_env = rng.choice(_NONPROD_ENV_CODES, size=q_svc.size, p=_NONPROD_ENV_P)
    q_sha = rng.integers(0, 256, size=(q_svc.size, 20), dtype=np.uint8)

    svc = np.concatenate([p_svc, r_svc, q_svc])
    start = np.concatenate([p_start, r_start, q_start])
    env = np.concatenate([p_env, r_env, q_env])
    sha = np.concatenate([p_sha, r_sha, q_sha])
    is_prod = env < 5
    n = svc.size
    rp = prof[svc]

    duration = np.maximum(30, rng.lognormal(np.log(_attr("deploy_minutes")[rp] * 60), 0.5)).astype(np.int64)
    fail_rate = np.where(is_prod, _attr("deploy_failure_rate")[rp], 0.06)
    u = rng.random(n)
    status = np.where(u < fail_rate, _FAILED, np.where(u < fail_rate + 0.015, _CANCELLED, _SUCCESS))
    cut_short = rng.uniform(0.1, 0.9, n)
    duration = np.where(status == _SUCCESS, duration, np.maximum(20, duration * cut_short).astype(np.int64))

    start = np.maximum(start, win.start)
    start = np.where(start + duration > win.end - 1, win.end - 1 - duration, start)
    finish = start + duration

    # A few deployments of the last day and a half are still running.
    recent = start >= max(win.current_month_start, win.end - 36 * _HOUR)
    running = recent & (rng.random(n) < 0.05)
    in_partial = np.flatnonzero(start >= win.current_month_start)
    if not running.any() and in_partial.size:
        running[in_partial[np.argmax(start[in_partial])]] = True
    status[running] = _RUNNING

    # Successful production deployments in (service, finish) order, finishes strictly increasing.
    ok = np.flatnonzero(is_prod & (status == _SUCCESS))
    ok = ok[np.lexsort((finish[ok], svc[ok]))]
    m = ok.size
    key = svc[ok] * _KEY + finish[ok]
    key = np.maximum.accumulate(key - np.arange(m)) + np.arange(m)
    finish[ok] = key - svc[ok] * _KEY

    # Which of them degrade service, and how it shows.
    degraded = rng.random(m) < _attr("change_failure_rate")[prof[svc[ok]]]
    how = rng.choice([_EXPLICIT, _WINDOW, _ROLLBACK, _HOTFIX], size=m, p=[0.35, 0.25, 0.30, 0.10])
    mechanism = np.where(degraded, how, _NONE)
    has_next = _next_in_group(svc[ok])
    fixed_forward = np.isin(mechanism, (_ROLLBACK, _HOTFIX))
    mechanism[fixed_forward & ~has_next] = _EXPLICIT  # nothing after it to roll back with
    fixed_forward = np.isin(mechanism, (_ROLLBACK, _HOTFIX))
    after_fix = np.zeros(m, dtype=bool)
    after_fix[1:] = fixed_forward[:-1]
    mechanism[after_fix & fixed_forward] = _EXPLICIT  # a rollback/hotfix is not itself rolled back
    fixed_forward = np.isin(mechanism, (_ROLLBACK, _HOTFIX))

    # The next successful production deployment becomes the rollback / hotfix, moved up in time.
    src = np.flatnonzero(fixed_forward)
    tgt = ok[src + 1]
    is_rb = mechanism[src] == _ROLLBACK
    fix = rng.lognormal(np.log(_attr("fix_hours")[prof[svc[ok[src]]]] * _HOUR), 0.6)
    gap = np.maximum(5 * 60, np.where(is_rb, fix, 2 * fix)).astype(np.int64)
    new_start = np.minimum(start[tgt], finish[ok[src]] + gap)
    finish[tgt] = new_start + (finish[tgt] - start[tgt])
    start[tgt] = new_start
    is_rollback = np.zeros(n, dtype=bool)
    is_hotfix = np.zeros(n, dtype=bool)
    is_rollback[tgt[is_rb]] = True
    is_hotfix[tgt[~is_rb]] = True
    # A rollback redeploys the commit that ran before the bad deployment.
    back = src[is_rb]
    has_prev = back > 0
    has_prev[has_prev] = svc[ok[back[has_prev] - 1]] == svc[ok[back[has_prev]]]
    sha[ok[back[has_prev] + 1]] = sha[ok[back[has_prev] - 1]]

    spelling = _spelling(status, rng.random(n))
    ts_style, ts_offset = _ts_style(rng, n)

    # Final row order = deployment id order: by start time.
    order = np.lexsort((svc, start))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return _Deployments(
        svc=svc[order],
        env=env[order],
        status=status[order],
        spelling=spelling[order],
        start=start[order],
        finish=finish[order],
        sha=sha[order],
        is_prod=is_prod[order],
        is_rollback=is_rollback[order],
        is_hotfix=is_hotfix[order],
        ts_style=ts_style[order],
        ts_offset=ts_offset[order],
        ok_prod=rank[ok],
        mechanism=mechanism,
    )


@dataclass
class _Changes:
    svc: np.ndarray
    first_commit: np.ndarray
    merged: np.ndarray
    deployment: np.ndarray  # deployment row, -1 = not named
    ts_style: np.ndarray
    ts_offset: np.ndarray


@dataclass
class _PullFlow:
    """The pull-request flow of each change (epoch seconds; -1 = none)."""

    opened: np.ndarray
    ready: np.ndarray  # -1 unless opened as a draft
    first_review: np.ndarray  # -1 when merged without review
    approved: np.ndarray  # -1 when nobody approved
    additions: np.ndarray
    deletions: np.ndarray
    commits: np.ndarray


def _simulate_pull_flow(rng: np.random.Generator, org: _Org, changes: _Changes) -> _PullFlow:
    """Split each change's first commit -> merge into coding, pickup, review and approval -> merge.

    The four spans are drawn (lognormal) and scaled to fill the change's time exactly, so every time
    stays in order and inside the window. The file holds the already-filtered first human review: the
    bots and self-reviews a real source has are not representable here (the simulator adds some).
    """
    n = changes.svc.size
    prof = org.profile[changes.svc]
    span = (changes.merged - changes.first_commit).astype(np.float64)
    coding = rng.lognormal(np.log(0.45), 0.6, n)
    pickup = rng.lognormal(np.log(_PR_PICKUP_SHARE[prof]), 0.8)
    review = rng.lognormal(np.log(0.25), 0.7, n)
    tail = rng.lognormal(np.log(0.05), 0.8, n)  # approval -> merge
    reviewed = rng.random(n) >= _PR_UNREVIEWED[prof]
    draft = rng.random(n) < _PR_DRAFT[prof]
    approves = rng.random(n) < 0.9
    ready_at = rng.random(n) * 0.8  # a draft is marked ready this far into its wait for review
    pickup, review = np.where(reviewed, pickup, 0.0), np.where(reviewed, review, 0.0)
    scale = span / (coding + pickup + review + tail)
    opened = changes.first_commit + np.floor(coding * scale).astype(np.int64)
    first_review = opened + np.floor(pickup * scale).astype(np.int64)
    approved = first_review + np.floor(review * scale).astype(np.int64)
    ready = opened + np.floor(pickup * scale * ready_at).astype(np.int64)
    size = np.maximum(1, rng.lognormal(np.log(_PR_SIZE_LINES[prof]), 1.0)).astype(np.int64)
    deletions = np.floor(size * rng.random(n) * 0.6).astype(np.int64)
    commits = 1 + rng.poisson(np.minimum(20.0, np.sqrt(size) / 3))
    return _PullFlow(
        opened=opened,
        ready=np.where(draft, ready, -1),
        first_review=np.where(reviewed, first_review, -1),
        approved=np.where(reviewed & approves, approved, -1),
        additions=size - deletions,
        deletions=deletions,
        commits=commits,
    )


def _simulate_changes(rng: np.random.Generator, org: _Org, win: _Window, deps: _Deployments) -> _Changes:
    ok = deps.ok_prod
    svc = deps.svc[ok]
    prof = org.profile[svc]
    start, finish = deps.start[ok], deps.finish[ok]
    first = np.ones(ok.size, dtype=bool)
    first[1:] = svc[1:] != svc[:-1]
    prev_finish = np.roll(finish, 1)
    typical_gap = np.maximum(_DAY, _DAYS_PER_MONTH * _DAY / _attr("prod_deploys_per_month")[prof]).astype(
        np.int64
    )
    # Changes merged since the previous production deployment (the first one: since about one cadence ago).
    lo = np.where(first, np.maximum(win.start, start - typical_gap), prev_finish + 1)
    hi = np.where(start > lo, start, finish)

    carries = ~deps.is_rollback[ok]  # a rollback ships no new change
    per_deploy = np.where(carries, 1 + rng.poisson(_attr("extra_changes_per_deploy")[prof]), 0)
    row = np.repeat(np.arange(ok.size), per_deploy)
    merged = lo[row] + (rng.random(row.size) * (hi[row] - lo[row])).astype(np.int64)
    c_svc = svc[row]
    named = np.where(rng.random(row.size) < 0.30, ok[row], -1)

    # Pending work: a few services merged changes in the last days that are not deployed yet.
    last_finish = np.full(org.n, win.start - 1, dtype=np.int64)
    last_finish[svc] = finish  # sorted by (service, finish): the last write wins
    pending_svc = np.flatnonzero(rng.random(org.n) < 0.20)
    if pending_svc.size == 0:
        pending_svc = np.array([rng.integers(org.n)])
    pending_svc = np.repeat(pending_svc, 1 + rng.poisson(1.0, pending_svc.size))
    p_lo = np.maximum(last_finish[pending_svc] + 1, win.end - 3 * _DAY)
    p_merged = p_lo + (rng.random(pending_svc.size) * (win.end - 1 - p_lo)).astype(np.int64)
    keep = (p_merged > last_finish[pending_svc]) & (p_merged < win.end)
    pending_svc, p_merged = pending_svc[keep], p_merged[keep]

    c_svc = np.concatenate([c_svc, pending_svc])
    merged = np.concatenate([merged, p_merged])
    named = np.concatenate([named, np.full(pending_svc.size, -1, dtype=np.int64)])
    n = c_svc.size
    c_prof = org.profile[c_svc]
    coding = np.maximum(
        60, rng.lognormal(np.log(_attr("commit_to_merge_hours")[c_prof] * _HOUR), 0.9)
    ).astype(np.int64)
    first_commit = merged - coding
    early = first_commit < win.start  # keep the history inside the window
    first_commit = np.where(
        early, win.start + (rng.random(n) * (merged - win.start)).astype(np.int64), first_commit
    )

    ts_style, ts_offset = _ts_style(rng, n)
    order = np.lexsort((c_svc, merged))
    return _Changes(
        svc=c_svc[order],
        first_commit=first_commit[order],
        merged=merged[order],
        deployment=named[order],
        ts_style=ts_style[order],
        ts_offset=ts_offset[order],
    )


@dataclass
class _Incidents:
    svc: np.ndarray
    created: np.ndarray
    resolved: np.ndarray
    is_open: np.ndarray
    severity: np.ndarray
    cause: np.ndarray  # deployment row, -1 = not named
    ts_style: np.ndarray
    ts_offset: np.ndarray


def _simulate_incidents(rng: np.random.Generator, org: _Org, win: _Window, deps: _Deployments) -> _Incidents:
    # Incidents after degraded deployments: one naming the deployment, or one on the same service
    # shortly after it and before the service's next successful production deployment (the pipeline
    # links those by time), or one naming it ahead of its hotfix.
    ok = deps.ok_prod
    has_next = _next_in_group(deps.svc[ok])
    next_finish = np.where(has_next, np.roll(deps.finish[ok], -1), _NEVER)
    next_start = np.where(has_next, deps.start[np.roll(ok, -1)], _NEVER)
    pick = np.flatnonzero(np.isin(deps.mechanism, (_EXPLICIT, _WINDOW, _HOTFIX)))
    dep = ok[pick]
    how = deps.mechanism[pick]
    finished = deps.finish[dep]
    delay = rng.lognormal(np.log(_attr("detect_minutes")[org.profile[deps.svc[dep]]] * 60), 0.7)
    delay = np.clip(delay, 120, 20 * _HOUR).astype(np.int64)
    room = np.where(how == _HOTFIX, next_start[pick], next_finish[pick]) - finished
    how = np.where((how == _WINDOW) & (room < 20 * 60), _EXPLICIT, how)  # keep the time link unambiguous
    squeeze = (how != _EXPLICIT) & (delay >= room)
    delay = np.where(squeeze, np.maximum(60, room * rng.uniform(0.2, 0.9, dep.size)), delay).astype(np.int64)
    d_created = finished + delay
    d_cause = np.where(how == _WINDOW, -1, dep)
    d_svc = deps.svc[dep]

    # Incidents with no deployment behind them: at least a day after the service's last deployment.
    u_svc = np.repeat(
        np.arange(org.n),
        rng.poisson(_attr("unrelated_incidents_per_month")[org.profile] * org.incident_jitter * win.months),
    )
    u_created = win.sample(rng, u_svc.size, working_hours=False)
    prod = np.flatnonzero(deps.is_prod)
    landed = np.where(deps.status[prod] == _RUNNING, deps.start[prod], deps.finish[prod])
    keys = np.sort(deps.svc[prod] * _KEY + landed)
    at = np.searchsorted(keys, u_svc * _KEY + u_created, side="right") - 1
    before = np.where(at >= 0, keys[np.maximum(at, 0)], -1)
    last = np.where(before // _KEY == u_svc, before - u_svc * _KEY, -_NEVER)
    quiet = u_created - last > _DAY  # outside the pipeline's 24 h incident link window
    u_svc, u_created = u_svc[quiet], u_created[quiet]

    svc = np.concatenate([d_svc, u_svc])
    created = np.concatenate([d_created, u_created])
    cause = np.concatenate([d_cause, np.full(u_svc.size, -1, dtype=np.int64)])
    caused = np.concatenate([np.ones(d_svc.size, dtype=bool), np.zeros(u_svc.size, dtype=bool)])
    keep = created < win.end  # not yet raised
    svc, created, cause, caused = svc[keep], created[keep], cause[keep], caused[keep]
    n = svc.size

    severity = np.where(
        caused,
        rng.choice(4, size=n, p=[0.10, 0.30, 0.40, 0.20]),
        rng.choice(4, size=n, p=[0.05, 0.20, 0.45, 0.30]),
    )
    restore = np.maximum(300, rng.lognormal(np.log(_attr("restore_hours")[org.profile[svc]] * _HOUR), 0.55))
    resolved = created + restore.astype(np.int64)
    is_open = (resolved > win.end - 1) | ((created >= win.end - 21 * _DAY) & (rng.random(n) < 0.08))

    ts_style, ts_offset = _ts_style(rng, n)
    order = np.lexsort((svc, created))
    return _Incidents(
        svc=svc[order],
        created=created[order],
        resolved=resolved[order],
        is_open=is_open[order],
        severity=severity[order],
        cause=cause[order],
        ts_style=ts_style[order],
        ts_offset=ts_offset[order],
    )


@dataclass
class _Builds:
    svc: np.ndarray
    start: np.ndarray
    finish: np.ndarray
    spelling: np.ndarray
    on_default: np.ndarray
    ticket: np.ndarray
    flag_known: np.ndarray
    ts_style: np.ndarray
    ts_offset: np.ndarray

    @property
    def n(self) -> int:
        return self.svc.size


def _simulate_builds(rng: np.random.Generator, org: _Org, win: _Window) -> _Builds:
    prof = org.profile
    svc = np.repeat(
        np.arange(org.n), rng.poisson(_attr("builds_per_month")[prof] * org.build_jitter * win.months)
    )
    svc = svc.astype(np.int32)
    n = svc.size
    rp = prof[svc]
    start = win.sample(rng, n)
    on_default = rng.random(n) < 0.40
    ticket = rng.integers(100, 5000, n, dtype=np.int32)
    fail_rate = _attr("build_failure_rate")[rp] + np.where(org.flaky[svc], 0.18, 0.0)
    u = rng.random(n)
    status = np.where(u < fail_rate, _FAILED, np.where(u < fail_rate + 0.03, _CANCELLED, _SUCCESS)).astype(
        np.int8
    )
    median = np.log(_attr("build_minutes")[rp] * 60)
    duration = rng.lognormal(median, 0.6)
    duration = np.where(status == _SUCCESS, duration, duration * rng.uniform(0.1, 1.0, n))
    duration = np.maximum(20, duration).astype(np.int64)
    del u, fail_rate
    start = np.where(start + duration > win.end - 1, win.end - 1 - duration, start)
    finish = start + duration

    # Flaky services: a failed run is usually re-run straight away, and passes.
    rerun = np.flatnonzero(org.flaky[svc] & (status == _FAILED) & (rng.random(n) < 0.85))
    r_start = finish[rerun] + rng.integers(20, 300, rerun.size)
    r_finish = r_start + np.maximum(20, rng.lognormal(median[rerun], 0.6)).astype(np.int64)
    fits = r_finish <= win.end - 1
    rerun, r_start, r_finish = rerun[fits], r_start[fits], r_finish[fits]

    svc = np.concatenate([svc, svc[rerun]])
    start = np.concatenate([start, r_start])
    finish = np.concatenate([finish, r_finish])
    status = np.concatenate([status, np.full(rerun.size, _SUCCESS, dtype=np.int8)])
    on_default = np.concatenate([on_default, on_default[rerun]])
    ticket = np.concatenate([ticket, ticket[rerun]])
    total = svc.size
    spelling = _spelling(status, rng.random(total)).astype(np.int8)
    flag_known = rng.random(total) >= 0.04
    ts_style, ts_offset = _ts_style(rng, total)

    order = np.lexsort((svc, start))
    return _Builds(
        svc=svc[order],
        start=start[order],
        finish=finish[order],
        spelling=spelling[order],
        on_default=on_default[order],
        ticket=ticket[order],
        flag_known=flag_known[order],
        ts_style=ts_style[order],
        ts_offset=ts_offset[order],
    )


# --------------------------------------------------------------------------------------
# CSV rendering
# --------------------------------------------------------------------------------------

_WRITE_OPTIONS = pacsv.WriteOptions(quoting_style="none", quoting_header="none", batch_size=65_536)
_HEX = np.array([f"{i:02x}" for i in range(256)], dtype="S2")


def _put_digits(out: np.ndarray, col: int, value: np.ndarray, width: int) -> None:
    for k in range(width):
        out[:, col + width - 1 - k] = 48 + (value // 10**k) % 10


def _iso19(seconds: np.ndarray) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SS`` for epoch seconds (fast, byte-level)."""
    n = seconds.size
    day = (seconds // _DAY).astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    months = month.astype(np.int64)
    rem = seconds % _DAY
    out = np.empty((n, 19), dtype=np.uint8)
    out[:, [4, 7]] = ord("-")
    out[:, 10] = ord("T")
    out[:, [13, 16]] = ord(":")
    _put_digits(out, 0, months // 12 + 1970, 4)
    _put_digits(out, 5, months % 12 + 1, 2)
    _put_digits(out, 8, (day - month).astype(np.int64) + 1, 2)
    _put_digits(out, 11, rem // _HOUR, 2)
    _put_digits(out, 14, rem % _HOUR // 60, 2)
    _put_digits(out, 17, rem % 60, 2)
    return pa.Array.from_buffers(pa.binary(19), n, [None, pa.py_buffer(out)]).cast(_STR)


def _timestamps(
    seconds: np.ndarray, style: np.ndarray, offset: np.ndarray, valid: np.ndarray | None = None
) -> pa.Array:
    """ISO-8601 text: UTC with ``Z``, the same instant in a local offset, or naive (meaning UTC)."""
    shifted = np.where(style == _TS_OFFSET, _OFFSET_SECONDS[offset] + seconds, seconds)
    if valid is not None:
        shifted = np.where(valid, shifted, 0)
    suffix = np.where(style == _TS_Z, 0, np.where(style == _TS_NAIVE, 1, 2 + offset.astype(np.int64)))
    text = pc.binary_join_element_wise(_iso19(shifted), _TS_SUFFIXES.take(pa.array(suffix)), "")
    if valid is not None:
        text = pc.if_else(pa.array(valid), text, pa.nulls(len(text), _STR))
    return text


def _ids(prefix: str, first: int, stop: int, width: int) -> pa.Array:
    """``prefix-000001``-style ids for the 1-based numbers ``first .. stop-1``."""
    numbers = pc.cast(pa.array(np.arange(first, stop, dtype=np.int64)), _STR)
    return pc.binary_join_element_wise(prefix + "-", pc.utf8_lpad(numbers, width=width, padding="0"), "")


def _ref_ids(prefix: str, rows: np.ndarray, width: int) -> pa.Array:
    """Ids for row references (-1 = blank)."""
    known = rows >= 0
    numbers = pc.cast(pa.array(np.where(known, rows + 1, 0)), _STR)
    text = pc.binary_join_element_wise(prefix + "-", pc.utf8_lpad(numbers, width=width, padding="0"), "")
    return pc.if_else(pa.array(known), text, pa.nulls(rows.size, _STR))


def _id_width(n: int) -> int:
    return max(6, len(str(n)))


def _table(entity: str, columns: dict[str, pa.Array | list]) -> pa.Table:
    schema = _SCHEMAS[entity]
    return pa.table(
        [
            pa.array(columns[f.name], f.type) if isinstance(columns[f.name], list) else columns[f.name]
            for f in schema
        ],
        schema=schema,
    )


def _write(path: Path, entity: str, tables: Iterable[pa.Table]) -> None:
    with pacsv.CSVWriter(path, _SCHEMAS[entity], write_options=_WRITE_OPTIONS) as writer:
        for table in tables:
            writer.write_table(table)


def _z(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _services_table(org: _Org) -> pa.Table:
    return _table(
        "services",
        {
            "service": org.service,
            "team": [org.teams[t] for t in org.service_team],
            "repo": org.repo,
            "tier": [f"tier-{t + 1}" for t in org.tier],
        },
    )


def _deployment_tables(deps: _Deployments, org: _Org, win: _Window, bad: bool) -> Iterable[pa.Table]:
    n = deps.n
    width = _id_width(n + 2)
    names = pa.array(org.service, _STR)
    yield _table(
        "deployments",
        {
            "deployment_id": _ids("dep", 1, n + 1, width),
            "service": names.take(pa.array(deps.svc)),
            "environment": pa.array(_ENVIRONMENTS, _STR).take(pa.array(deps.env)),
            "status": pa.array(_STATUS_WORDS, _STR).take(pa.array(deps.spelling)),
            "started_at": _timestamps(deps.start, deps.ts_style, deps.ts_offset),
            "finished_at": _timestamps(deps.finish, deps.ts_style, deps.ts_offset, deps.status != _RUNNING),
            "commit_sha": pa.Array.from_buffers(
                pa.binary(40), n, [None, pa.py_buffer(_HEX[deps.sha].tobytes())]
            ).cast(_STR),
            "is_rollback": pa.array(deps.is_rollback),
            "is_hotfix": pa.array(deps.is_hotfix),
        },
    )
    if bad and n:
        t = win.start + (win.end - win.start) // 2 + 10 * _HOUR
        dup = n // 2
        other = org.service[(int(deps.svc[dup]) + 1) % org.n]
        yield _table(
            "deployments",
            {
                "deployment_id": [
                    f"dep-{n + 1:0{width}d}",
                    f"dep-{n + 2:0{width}d}",
                    f"dep-{dup + 1:0{width}d}",
                ],
                "service": [org.service[0], org.service[-1], other],
                "environment": ["production", "staging", "staging"],
                "status": ["exploded", "success", "failed"],
                "started_at": [_z(t), _z(t + 600), _z(t + 1200)],
                "finished_at": [_z(t + 300), _z(t), _z(t + 1500)],
                "commit_sha": ["0" * 40, "1" * 40, "2" * 40],
                "is_rollback": [False, False, False],
                "is_hotfix": [False, False, False],
            },
        )


def _change_tables(changes: _Changes, flow: _PullFlow, deps: _Deployments, org: _Org) -> Iterable[pa.Table]:
    n = changes.svc.size
    style, offset = changes.ts_style, changes.ts_offset

    def when(seconds: np.ndarray) -> pa.Array:
        return _timestamps(seconds, style, offset, seconds >= 0)

    # The pull request's address on GitHub: its repository and number (the change id's number).
    numbers = pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), _STR)
    repo = pa.array(org.repo, _STR).take(pa.array(changes.svc))
    url = pc.binary_join_element_wise("https://github.com/", repo, "/pull/", numbers, "")
    yield _table(
        "changes",
        {
            "change_id": _ids("chg", 1, n + 1, _id_width(n)),
            "service": pa.array(org.service, _STR).take(pa.array(changes.svc)),
            "first_commit_at": _timestamps(changes.first_commit, style, offset),
            "merged_at": _timestamps(changes.merged, style, offset),
            "deployment_id": _ref_ids("dep", changes.deployment, _id_width(deps.n + 2)),
            "opened_at": when(flow.opened),
            "ready_at": when(flow.ready),
            "first_review_at": when(flow.first_review),
            "approved_at": when(flow.approved),
            "additions": pa.array(flow.additions, _INT),
            "deletions": pa.array(flow.deletions, _INT),
            "commits": pa.array(flow.commits, _INT),
            "url": url,
        },
    )


def _incident_tables(
    inc: _Incidents, deps: _Deployments, org: _Org, win: _Window, bad: bool
) -> Iterable[pa.Table]:
    n = inc.svc.size
    width = _id_width(n + 1)
    yield _table(
        "incidents",
        {
            "incident_id": _ids("inc", 1, n + 1, width),
            "service": pa.array(org.service, _STR).take(pa.array(inc.svc)),
            "created_at": _timestamps(inc.created, inc.ts_style, inc.ts_offset),
            "resolved_at": _timestamps(inc.resolved, inc.ts_style, inc.ts_offset, ~inc.is_open),
            "severity": pa.array(_SEVERITIES, _STR).take(pa.array(inc.severity)),
            "caused_by_deployment_id": _ref_ids("dep", inc.cause, _id_width(deps.n + 2)),
        },
    )
    if bad:
        t = win.start + (win.end - win.start) // 3 + 11 * _HOUR
        yield _table(
            "incidents",
            {
                "incident_id": [f"inc-{n + 1:0{width}d}"],
                "service": [org.service[0]],
                "created_at": [_z(t)],
                "resolved_at": [_z(t - _HOUR)],
                "severity": ["sev3"],
                "caused_by_deployment_id": [None],
            },
        )


def _build_tables(
    builds: _Builds, org: _Org, win: _Window, bad: bool, chunk: int = 200_000
) -> Iterable[pa.Table]:
    n = builds.n
    width = _id_width(n + 1)
    names = pa.array(org.service, _STR)
    team_keys = pa.array([org.teams[t][:3].upper() for t in org.service_team], _STR)
    default_branch = pa.array(np.where(org.uses_master, "master", "main").tolist(), _STR)
    words = pa.array(_STATUS_WORDS, _STR)
    slugs = pa.array(_BRANCH_SLUGS, _STR)
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        svc = pa.array(builds.svc[lo:hi])
        ticket = builds.ticket[lo:hi]
        feature = pc.binary_join_element_wise(
            "feature/",
            team_keys.take(svc),
            "-",
            pc.cast(pa.array(ticket), _STR),
            "-",
            slugs.take(pa.array(ticket % len(_BRANCH_SLUGS))),
            "",
        )
        on_default = pa.array(builds.on_default[lo:hi])
        style, offset = builds.ts_style[lo:hi], builds.ts_offset[lo:hi]
        yield _table(
            "builds",
            {
                "build_id": _ids("bld", lo + 1, hi + 1, width),
                "service": names.take(svc),
                "branch": pc.if_else(on_default, default_branch.take(svc), feature),
                "status": words.take(pa.array(builds.spelling[lo:hi])),
                "started_at": _timestamps(builds.start[lo:hi], style, offset),
                "finished_at": _timestamps(builds.finish[lo:hi], style, offset),
                "is_default_branch": pa.array(builds.on_default[lo:hi], mask=~builds.flag_known[lo:hi]),
            },
        )
    if bad:
        t = win.start + (win.end - win.start) // 4 + 9 * _HOUR
        yield _table(
            "builds",
            {
                "build_id": [f"bld-{n + 1:0{width}d}"],
                "service": [org.service[0]],
                "branch": ["main" if not org.uses_master[0] else "master"],
                "status": ["failure"],
                "started_at": ["not-a-date"],
                "finished_at": [_z(t)],
                "is_default_branch": [True],
            },
        )


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def generate_demo_org(
    out_dir: Path,
    *,
    services: int = 40,
    teams: int = 8,
    months: int = 24,
    seed: int = 7,
    today: dt.date | None = None,
    inject_bad_rows: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write the demo organisation's source data as canonical CSV files into ``out_dir``.

    The organisation has ``teams`` teams (``payments``, ``checkout``, ``search``, ...) that
    cycle through the elite, high, medium and low delivery tiers (see :func:`team_profiles`)
    and own ``services`` services between them, unevenly.  History covers ``months`` full
    calendar months before ``today``'s month plus the current month up to the start of
    ``today`` (UTC; defaults to the current UTC date).  Nothing is dated in the future.  The
    default, two full years, is what year-over-year values, targets relative to the previous year
    and the report's "same month last year" need to be read.

    What the data shows, per tier: elite teams deploy to production several times a day,
    changes reach production within hours, ~4% of deployments degrade service (at or under
    DORA's elite 5%) and service is restored in under an hour; high teams deploy daily-to-weekly (lead time 1 day to
    1 week, ~12% failures, restored within a day); medium teams weekly-to-monthly (1 week
    to 1 month, ~20%, 1 day to 1 week); low teams monthly or rarer (1-6 months, ~40%, days
    to weeks).  A degraded deployment is followed by an incident naming it, by an incident
    on the same service a few hours later (before its next production deployment, so it can
    be linked by time), by a rollback (the service's next successful production deployment),
    or by an incident and then a hotfix.  Other incidents come more than a day after the
    service's last production deployment and are unrelated to it.  Raw spellings vary as in real tools (``prod``/``Prod-EU``,
    ``SUCCESS``/``succeeded``/``canceled``/``aborted``, timestamps with ``Z``, an offset or no
    zone), some CI services are flaky, and a few services share the ``acme/monorepo``.

    Same arguments give byte-identical files.

    With ``inject_bad_rows`` (the default) exactly these invalid rows are appended, for
    demonstrating data-quality checks:

    * ``deployments.csv``: a deployment with the unknown status ``exploded``; a deployment
      whose ``finished_at`` is before its ``started_at``; a row repeating an earlier
      ``deployment_id`` with different content.
    * ``builds.csv``: a build whose ``started_at`` is ``not-a-date``.
    * ``incidents.csv``: an incident resolved before it was created.

    With ``inject_bad_rows=False`` every row is valid.

    Returns the number of data rows written per file (``services``, ``deployments``,
    ``changes``, ``incidents``, ``builds``; bad rows included).  ``progress``, if given,
    is called with a short message after each file is written.
    """
    if services < 1 or teams < 1 or months < 1:
        raise ValueError("services, teams and months must all be at least 1")
    if today is None:
        today = dt.datetime.now(dt.UTC).date()
    elif isinstance(today, dt.datetime):
        today = (today.astimezone(dt.UTC) if today.tzinfo else today).date()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    window = _Window.ending(today, months)
    # A sixth stream for the pull-request flow: spawn(6)'s first five are spawn(5)'s, so adding it
    # changed none of the other columns.
    org_rng, dep_rng, chg_rng, inc_rng, bld_rng, flow_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)
    )
    org = _build_org(org_rng, services, teams)
    counts: dict[str, int] = {}

    def emit(entity: str, tables: Iterable[pa.Table]) -> None:
        path = out / f"{entity}.csv"
        rows = 0

        def counted() -> Iterable[pa.Table]:
            nonlocal rows
            for table in tables:
                rows += table.num_rows
                yield table

        _write(path, entity, counted())
        counts[entity] = rows
        if progress is not None:
            progress(f"{entity}: wrote {rows:,} rows to {path.name}")

    emit("services", [_services_table(org)])
    deps = _simulate_deployments(dep_rng, org, window)
    emit("deployments", _deployment_tables(deps, org, window, inject_bad_rows))
    changes = _simulate_changes(chg_rng, org, window, deps)
    emit("changes", _change_tables(changes, _simulate_pull_flow(flow_rng, org, changes), deps, org))
    del changes
    emit(
        "incidents",
        _incident_tables(_simulate_incidents(inc_rng, org, window, deps), deps, org, window, inject_bad_rows),
    )
    del deps
    emit("builds", _build_tables(_simulate_builds(bld_rng, org, window), org, window, inject_bad_rows))
    # Platform adoption: catalog snapshots, CI scans and documents (platform_kpi/demo/platform.py).
    counts.update(generate_platform_files(out, services=org.service, teams=[org.teams[t] for t in org.service_team], profiles=org.profile.tolist(), repos=org.repo, first=_month_start(today, months), today=today, seed=seed, progress=progress))  # fmt: skip
    generate_demo_security(out, seed=seed, today=today, months=months)  # security/ reports (issue 14)
    return counts


# --------------------------------------------------------------------------------------
# Demo costs and cluster utilization (issue: costs)
# --------------------------------------------------------------------------------------

_COST_TIER_DAILY = {"tier-1": 180.0, "tier-2": 70.0, "tier-3": 25.0}  # runtime USD per day
_COST_TIER_CORES = {"tier-1": 16.0, "tier-2": 6.0, "tier-3": 2.0}  # CPU cores requested
_COST_EFFICIENCY = {"elite": 0.72, "high": 0.60, "medium": 0.48, "low": 0.36}  # usage / requests
_FOCUS_12_COLUMNS = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ConsumedQuantity",
    "ConsumedUnit",
    "InvoiceId",
    "PricingCurrency",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
)
_FOCUS_10_COLUMNS = tuple(
    c
    for c in _FOCUS_12_COLUMNS
    if c not in ("BillingAccountType", "InvoiceId", "PricingCurrency", "ServiceSubcategory", "SubAccountType")
)


def generate_demo_costs(
    out_dir: Path,
    *,
    seed: int = 7,
    today: dt.date | None = None,
    cluster: str = "prod-eu-1",
) -> dict[str, int]:
    """Write a year of FOCUS cost exports and OpenCost allocations consistent with the demo files.

    Reads ``services.csv``, ``builds.csv`` and ``deployments.csv`` that :func:`generate_demo_org` wrote
    into ``out_dir`` and adds, for the same months:

    * ``focus/aws/BILLING_PERIOD=YYYY-MM/part-00001.parquet`` - AWS Data Exports style FOCUS 1.2 Parquet
      (Tags as a map): per service and day, CI runner compute proportional to its build minutes
      (tag ``cost-category=ci``; the runner price falls about 1.5% a month, so cost per build trends
      down), deployment tooling proportional to its production deployments (``cost-category=deploy``)
      and runtime by criticality tier; plus untagged shared-runner overhead and a weekly shared NAT
      charge (deployment infrastructure, Monday to Monday, so some cross a month boundary), a monthly
      promotional credit, tax, and weekly Savings Plan purchases (amortized: EffectiveCost 0).
    * ``focus/azure/YYYYMM/part_0_0001.csv.gz`` - Azure Cost Management style FOCUS 1.0 gzipped CSV:
      the runtime of every fourth service, which runs on Azure instead.
    * ``opencost/YYYY-MM.json`` - saved OpenCost ``/allocation`` responses (step 1d, aggregate
      cluster,namespace): each service's namespace, requests by tier, usage by its team's tier
      (elite teams use ~72% of what they request, low teams ~36%).

    Deterministic for a seed. Returns row counts.
    """
    import json
    import shutil

    import duckdb
    import pandas as pd

    out_dir = Path(out_dir)
    for stale in ("focus", "opencost"):  # a re-run with another --today must not leave old months behind
        shutil.rmtree(out_dir / stale, ignore_errors=True)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    services = con.execute(
        "select service, team, coalesce(tier, 'tier-2') as tier from read_csv(?, all_varchar=true) "
        "where service is not null and team is not null order by service",
        [str(out_dir / "services.csv")],
    ).df()
    ts = "timezone('UTC', try_cast({} as timestamptz))"
    builds = con.execute(
        f"select service, {ts.format('finished_at')}::date as day, count(*) as builds, "
        f"sum(greatest(date_diff('second', {ts.format('started_at')}, {ts.format('finished_at')}), 0)) / 60.0 as minutes "
        f"from read_csv(?, all_varchar=true) where {ts.format('finished_at')} is not null group by all",
        [str(out_dir / "builds.csv")],
    ).df()
    deploys = con.execute(
        f"select service, {ts.format('finished_at')}::date as day, count(*) as deployments "
        f"from read_csv(?, all_varchar=true) where {ts.format('finished_at')} is not null "
        f"and regexp_full_match(lower(environment), '(prod|production)([-_.].*)?') group by all",
        [str(out_dir / "deployments.csv")],
    ).df()
    for frame in (builds, deploys):
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
    today = today or dt.datetime.now(dt.UTC).date()
    first_day = min(builds["day"].min(), deploys["day"].min()) if len(builds) else today.replace(day=1)
    first = pd.Timestamp(first_day).to_period("M").to_timestamp()
    days = pd.date_range(first, pd.Timestamp(today) - pd.Timedelta(days=1), freq="D")
    rng = np.random.default_rng(seed + 4099)
    profiles = team_profiles(max(8, services["team"].nunique()))
    n = len(services)
    svc = services.assign(
        runtime=[_COST_TIER_DAILY.get(t, 70.0) for t in services["tier"]] * rng.lognormal(0.0, 0.25, n),
        cores=[_COST_TIER_CORES.get(t, 6.0) for t in services["tier"]] * rng.lognormal(0.0, 0.2, n),
        efficiency=[_COST_EFFICIENCY.get(profiles.get(t, "medium"), 0.5) for t in services["team"]],
        azure=np.arange(n) % 4 == 3,
        account=[f"{100000000000 + (sum(map(ord, t)) * 7919) % 899999999999:012d}" for t in services["team"]],
    )
    grid = pd.MultiIndex.from_product([svc["service"], days.date], names=["service", "day"]).to_frame(
        index=False
    )
    grid = grid.merge(svc, on="service").merge(builds, on=["service", "day"], how="left")
    grid = grid.merge(deploys, on=["service", "day"], how="left").fillna(
        {"builds": 0, "minutes": 0.0, "deployments": 0}
    )
    day_ts = pd.to_datetime(grid["day"])
    month_index = ((day_ts.dt.year - first.year) * 12 + day_ts.dt.month - first.month).to_numpy()
    noise = rng.lognormal(0.0, 0.05, (len(grid), 3))
    runner_price = 0.04 * (1 - 0.015 * month_index)  # USD per build minute, falling
    grid["ci"] = (grid["minutes"] * runner_price + grid["builds"] * 0.05) * noise[:, 0]
    grid["deploy"] = (grid["deployments"] * 2.5 + 1.0) * noise[:, 1]
    grid["run"] = grid["runtime"] * noise[:, 2]

    def rows(kind: str, amount: pd.Series, frame: pd.DataFrame) -> pd.DataFrame:
        service_name, category, sub = {
            "ci": ("Amazon Elastic Compute Cloud", "Compute", "CI runners"),
            "deploy": ("AWS CodeDeploy", "Developer Tools", "Deployment tooling"),
            "run": ("Amazon Elastic Kubernetes Service", "Compute", "Kubernetes"),
        }[kind]
        tag_kind = {"ci": "ci", "deploy": "deploy", "run": None}[kind]
        out = pd.DataFrame(
            {
                "day": frame["day"],
                "EffectiveCost": amount.round(6),
                "ChargeCategory": "Usage",
                "ChargeDescription": f"{sub} for " + frame["service"],
                "ServiceName": service_name,
                "ServiceCategory": category,
                "ServiceSubcategory": sub,
                "SubAccountId": frame["account"],
                "SubAccountName": frame["team"],
                "ResourceId": f"arn:aws:{kind}:eu-west-1:" + frame["account"] + ":" + frame["service"],
                "ResourceName": frame["service"],
                "ResourceType": sub,
                "tag_service": frame["service"],
                "tag_team": frame["team"],
                "tag_kind": tag_kind,
                "PricingQuantity": (amount / 0.1).round(3),
                "PricingUnit": "Hours",
            }
        )
        return out

    aws_run = grid[~grid["azure"]]
    usage = pd.concat(
        [
            rows("ci", grid["ci"], grid),
            rows("deploy", grid["deploy"], grid),
            rows("run", aws_run["run"], aws_run),
        ],
        ignore_index=True,
    )
    usage = usage[usage["EffectiveCost"] > 0]
    daily_ci = grid.groupby("day")["ci"].sum()
    shared = pd.DataFrame(
        {
            "day": daily_ci.index,
            "EffectiveCost": (daily_ci.to_numpy() * 0.08).round(6),  # runner fleet overhead nobody tags
            "ChargeCategory": "Usage",
            "ChargeDescription": "Shared CI runner fleet (untagged)",
            "ServiceName": "Amazon Elastic Compute Cloud",
            "ServiceCategory": "Compute",
            "ServiceSubcategory": "CI runners",
            "SubAccountId": "999999999999",
            "SubAccountName": "ci-runners",
            "ResourceId": "arn:aws:ec2:eu-west-1:999999999999:fleet/ci",
            "ResourceName": "ci-runner-fleet",
            "ResourceType": "Fleet",
            "tag_service": None,
            "tag_team": None,
            "tag_kind": "ci",
            "PricingQuantity": 24.0,
            "PricingUnit": "Hours",
        }
    )
    focus = pd.concat([usage, shared], ignore_index=True)
    focus["start"] = pd.to_datetime(focus["day"])
    focus["end"] = focus["start"] + pd.Timedelta(days=1)
    # Weekly charges, Monday to Monday: some cross a month boundary (split pro rata by hours downstream).
    mondays = [d for d in pd.date_range(first - pd.Timedelta(days=first.weekday()), days[-1], freq="7D")]
    weekly = []
    for monday in mondays:
        end = monday + pd.Timedelta(days=7)
        if monday < first or end > pd.Timestamp(today):
            continue
        weekly.append(
            {
                "start": monday,
                "end": end,
                "EffectiveCost": 140.0,
                "BilledCost": 140.0,
                "ChargeCategory": "Usage",
                "ChargeDescription": "Shared NAT gateway for deployment traffic",
                "ServiceName": "Amazon VPC",
                "ServiceCategory": "Networking",
                "ServiceSubcategory": "NAT Gateway",
                "SubAccountId": "999999999998",
                "SubAccountName": "platform-shared",
                "ResourceId": "arn:aws:ec2:eu-west-1:999999999998:natgateway/deploy",
                "ResourceName": "nat-deploy",
                "ResourceType": "NAT Gateway",
                "tag_kind": "deploy",
                "PricingQuantity": 168.0,
                "PricingUnit": "Hours",
            }
        )
        weekly.append(
            {
                "start": monday,
                "end": end,
                "EffectiveCost": 0.0,
                "BilledCost": 500.0,
                "ChargeCategory": "Purchase",
                "ChargeDescription": "Compute Savings Plan, 1 year, no upfront (amortized into usage)",
                "ServiceName": "Savings Plans for AWS Compute usage",
                "ServiceCategory": "Compute",
                "ServiceSubcategory": "Commitment",
                "SubAccountId": "123456789012",
                "SubAccountName": "acme-management",
                "ResourceId": "arn:aws:savingsplans::123456789012:savingsplan/demo",
                "ResourceName": "compute-sp",
                "ResourceType": "Savings Plan",
                "PricingQuantity": 1.0,
                "PricingUnit": "Commitment",
            }
        )
    month_starts = pd.date_range(first, days[-1], freq="MS")
    monthly = []
    for start in month_starts:
        end = min(start + pd.offsets.MonthBegin(1), pd.Timestamp(today))
        month_total = float(
            focus.loc[(focus["start"] >= start) & (focus["start"] < end), "EffectiveCost"].sum()
        )
        base = {
            "start": start,
            "end": end,
            "SubAccountId": "123456789012",
            "SubAccountName": "acme-management",
            "ResourceId": None,
            "ResourceName": None,
            "ResourceType": None,
            "PricingQuantity": 1.0,
            "PricingUnit": "Unit",
        }
        monthly.append(
            {
                **base,
                "EffectiveCost": round(month_total * 0.015, 6),
                "ChargeCategory": "Tax",
                "ChargeDescription": "VAT",
                "ServiceName": "Tax",
                "ServiceCategory": "Other",
                "ServiceSubcategory": "Tax",
            }
        )
        monthly.append(
            {
                **base,
                "EffectiveCost": -150.0,
                "ChargeCategory": "Credit",
                "ChargeDescription": "Promotional credit",
                "ServiceName": "AWS Credits",
                "ServiceCategory": "Other",
                "ServiceSubcategory": "Credit",
            }
        )
    focus = pd.concat([focus, pd.DataFrame(weekly), pd.DataFrame(monthly)], ignore_index=True)
    focus["BilledCost"] = (
        focus["BilledCost"].fillna(focus["EffectiveCost"])
        if "BilledCost" in focus
        else focus["EffectiveCost"]
    )
    focus["ListCost"] = (focus["BilledCost"].clip(lower=0) * 1.15).round(6)
    focus["ContractedCost"] = (focus["BilledCost"].clip(lower=0) * 1.05).round(6)
    counts = {"focus_aws": 0, "focus_azure": 0, "opencost_allocations": 0}
    con.register("focus_rows", focus.drop(columns=["day"]))
    tags = (
        "map_from_entries(list_filter([{'key': 'service', 'value': tag_service}, {'key': 'team', 'value': tag_team}, "
        "{'key': 'cost-category', 'value': tag_kind}], lambda e: e.value is not null))"
    )
    common = (
        "BilledCost, EffectiveCost, ListCost, ContractedCost, '123456789012' as BillingAccountId, "
        "'acme' as BillingAccountName, 'USD' as BillingCurrency, "
        "date_trunc('month', start) as BillingPeriodStart, date_trunc('month', start) + interval 1 month as BillingPeriodEnd, "
        "ChargeCategory, cast(null as varchar) as ChargeClass, ChargeDescription, "
        "case when ChargeCategory = 'Usage' then 'Usage-Based' else 'Recurring' end as ChargeFrequency, "
        'start as ChargePeriodStart, "end" as ChargePeriodEnd, PricingQuantity as ConsumedQuantity, '
        "PricingUnit as ConsumedUnit, PricingQuantity, PricingUnit, ResourceId, ResourceName, ResourceType, "
        "ServiceCategory, ServiceName, SubAccountId, SubAccountName"
    )
    for start in month_starts:
        folder = out_dir / "focus" / "aws" / f"BILLING_PERIOD={start:%Y-%m}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "part-00001.parquet"
        con.execute(
            f"copy (select {common}, 'Billing Account' as BillingAccountType, 'INV-' || strftime(start, '%Y%m') as InvoiceId, "
            f"'USD' as PricingCurrency, 'AWS' as ProviderName, 'AWS' as PublisherName, 'eu-west-1' as RegionId, "
            f"ServiceSubcategory, 'Account' as SubAccountType, {tags} as Tags, "
            f"from focus_rows where date_trunc('month', start) = ? order by start, ServiceName, ResourceId) "
            f"to '{target}' (format parquet)",
            [start.to_pydatetime()],
        ).fetchall()
        counts["focus_aws"] += con.execute(f"select count(*) from read_parquet('{target}')").fetchall()[0][0]
    azure = grid[grid["azure"]]
    az = rows("run", azure["run"], azure).assign(start=lambda f: pd.to_datetime(f["day"]))
    az["end"] = az["start"] + pd.Timedelta(days=1)
    az["BilledCost"] = az["EffectiveCost"]
    az["ListCost"] = (az["EffectiveCost"] * 1.15).round(6)
    az["ContractedCost"] = (az["EffectiveCost"] * 1.05).round(6)
    az["ServiceName"] = "Virtual Machines"
    az["ResourceId"] = "/subscriptions/" + az["SubAccountId"] + "/resourceGroups/" + az["ResourceName"]
    con.register("azure_rows", az.drop(columns=["day"]))
    for start in month_starts:
        folder = out_dir / "focus" / "azure" / f"{start:%Y%m}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "part_0_0001.csv.gz"
        con.execute(
            f"copy (select {common}, "
            f"'Microsoft' as ProviderName, 'Microsoft' as PublisherName, 'westeurope' as RegionId, "
            f"to_json({tags})::varchar as Tags "
            f"from azure_rows where date_trunc('month', start) = ? order by start, ResourceId) "
            f"to '{target}' (format csv, header true, compression gzip, timestampformat '%Y-%m-%dT%H:%M:%SZ')",
            [start.to_pydatetime()],
        ).fetchall()
        counts["focus_azure"] += con.execute(f"select count(*) from read_csv('{target}')").fetchall()[0][0]
    # OpenCost: one saved /allocation response per month, one allocation per namespace and day.
    util_noise = rng.lognormal(0.0, 0.08, len(grid))
    drift = 1 + 0.01 * month_index  # teams right-size their requests a little every month
    grid["cpu_req"] = grid["cores"] / drift
    grid["cpu_use"] = (grid["cores"] * grid["efficiency"] * util_noise).clip(upper=grid["cpu_req"] * 1.3)
    grid["ram_req"] = grid["cpu_req"] * 4 * 2**30
    grid["ram_use"] = grid["ram_req"] * (grid["cpu_use"] / grid["cpu_req"]).clip(upper=1.1) * 0.9
    opencost_dir = out_dir / "opencost"
    opencost_dir.mkdir(parents=True, exist_ok=True)
    # Rows in (month, day) order, each group in grid order as groupby gives them; plain lists, because
    # pandas row access costs more than building the JSON.
    grid["month"] = day_ts.dt.to_period("M")
    ordered = grid.sort_values(["month", "day"], kind="stable")
    columns = zip(
        ordered["month"].astype(str),
        ordered["day"],
        ordered["service"],
        ordered["cpu_req"].tolist(),
        ordered["cpu_use"].tolist(),
        ordered["ram_req"].tolist(),
        ordered["ram_use"].tolist(),
        strict=True,
    )
    months: dict[str, dict[dt.date, dict]] = {}
    for month, day, service, cpu_req, cpu_use, ram_req, ram_use in columns:
        per_day = months.setdefault(month, {}).setdefault(day, {})
        per_day[f"{cluster}/{service}"] = {
            "name": f"{cluster}/{service}",
            "properties": {"cluster": cluster, "namespace": service},
            "minutes": 1440.0,
            "cpuCoreRequestAverage": round(cpu_req, 4),
            "cpuCoreUsageAverage": round(cpu_use, 4),
            "ramByteRequestAverage": round(ram_req),
            "ramByteUsageAverage": round(ram_use),
            "totalCost": round(cpu_req * 24 * 0.031 + ram_req / 2**30 * 24 * 0.004, 4),
        }
    for month, by_day in months.items():
        data = []
        for day, allocations in by_day.items():
            start = dt.datetime.combine(day, dt.time(), dt.UTC)
            window = {"start": _z(int(start.timestamp())), "end": _z(int(start.timestamp()) + _DAY)}
            # The keys in OpenCost's own order: name, properties, window, start, end, then the figures.
            data.append(
                {
                    key: {
                        "name": a["name"],
                        "properties": a["properties"],
                        "window": window,
                        "start": window["start"],
                        "end": window["end"],
                        **{k: v for k, v in a.items() if k not in ("name", "properties")},
                    }
                    for key, a in allocations.items()
                }
            )
            counts["opencost_allocations"] += len(allocations)
        (opencost_dir / f"{month}.json").write_text(
            json.dumps({"code": 200, "status": "success", "data": data})
        )
    con.close()
    return counts
