"""Every configuration file of the product as a typed model, validated once, with one error type.

The files: ``catalog/kpis.yaml`` (the KPI catalog, its groups and the DORA tier names),
``catalog/benchmarks/dora_<year>.yaml`` (DORA performance clusters),
``catalog/benchmarks/quick_check_<edition>.yaml`` (DORA Quick Check benchmarks), ``config/kpi.yaml`` (KPI rules and
targets), ``config/costs.yaml`` (cost rules and cost sources), ``config/delivery.yaml`` (where the
monthly report goes) and ``sources.yaml`` (the API sources). ``load_config`` reads all of them for a
run; the pipeline then passes the typed objects down instead of reading files again.

Any mistake is a :class:`ConfigError` whose message is ``<file>: <key path>: <problem>``, e.g.
``config/kpi.yaml: targets.change_failure_rate.op: must be one of <=, >=, <, >, got the text '=<'``. The key path is
dotted, with list positions in brackets (``services[2].team``); a problem with the file as a whole
names ``(file)``, one with its top level ``(top level)``, and bad YAML the line and column. Unknown
keys are errors that name the key (a typo is never silently ignored).

Secrets are never in these files: they name environment variables, resolved to
:class:`connectors.http.Secret` objects that print as ``***``. Pure Python: no Dagster.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from connectors.http import HttpPolicy, Secret
from platform_kpi.settings import CATALOG_DIR, DEFAULT_CONFIG, bundled

DEFAULT_COST_CONFIG = bundled("config") / "costs.yaml"
DEFAULT_DELIVERY_CONFIG = bundled("config") / "delivery.yaml"

# ratio: sum(x) / sum(w) over the observations (w is the denominator, e.g. builds for cost per build).
AGGREGATES = ("sum", "mean", "p50", "p90", "p95", "ratio")
GRAINS = ("monthly", "weekly")
CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
COST_KINDS = ("ci_compute", "deployment")
PROMETHEUS_SERIES = ("cpu_usage", "cpu_request", "memory_usage", "memory_request")

# The API sources of sources.yaml, what each lists (its scope key), and their defaults.
SOURCES = ("github", "gitlab", "jenkins", "pagerduty", "opsgenie", "sql")
#: platform adoption sources (issue 13): the service catalog, repository scans, documentation
SOURCES += ("backstage_catalog", "github_repo_scans", "gitlab_repo_scans", "confluence_pages")
#: security and compliance sources (issue 14): HCP Terraform / Terraform Enterprise health assessments
SOURCES += ("hcp_terraform",)
#: service-management systems over REST (issue 15): Jira Cloud and the ServiceNow Table API
SOURCES += ("jira", "servicenow")
SCOPE_KEYS = {
    "github": "repos",
    "gitlab": "projects",
    "jenkins": "jobs",
    "pagerduty": "services",
    "opsgenie": "services",
    "sql": "entities",  # a database's "scopes" are the entities its queries return
    "backstage_catalog": "kinds",
    "github_repo_scans": "repos",
    "gitlab_repo_scans": "projects",
    "confluence_pages": "spaces",
    "hcp_terraform": "workspaces",
    "jira": "entities",  # like a database, a REST service desk's "scopes" are the entities it reads
    "servicenow": "entities",
}
#: what a SQL source's queries may return (their canonical columns: connectors.sql.ENTITIES)
SQL_ENTITIES = ("incidents", "deployments", "tickets", "reviews")
#: what the REST service desks read: Jira issues as tickets and reviews, ServiceNow records as tickets and incidents
JIRA_ENTITIES = ("tickets", "reviews")
SERVICENOW_ENTITIES = ("tickets", "incidents")
DEFAULT_BASE_URLS = {
    "github": "https://api.github.com",
    "gitlab": "https://gitlab.com/api/v4",
    "jenkins": None,
    "pagerduty": "https://api.pagerduty.com",
    "opsgenie": "https://api.opsgenie.com",
    "sql": None,
    "backstage_catalog": None,
    "github_repo_scans": "https://api.github.com",
    "gitlab_repo_scans": "https://gitlab.com/api/v4",
    "confluence_pages": None,
    "hcp_terraform": "https://app.terraform.io/api/v2",
    "jira": None,
    "servicenow": None,
}
DEFAULT_TOKEN_ENV = {
    "github": "GITHUB_TOKEN",
    "gitlab": "GITLAB_TOKEN",
    "jenkins": "JENKINS_API_TOKEN",
    "pagerduty": "PAGERDUTY_TOKEN",
    "opsgenie": "OPSGENIE_API_KEY",
    "sql": "KPI_SQL_PASSWORD",
    "backstage_catalog": "BACKSTAGE_TOKEN",
    "github_repo_scans": "GITHUB_TOKEN",
    "gitlab_repo_scans": "GITLAB_TOKEN",
    "confluence_pages": "CONFLUENCE_API_TOKEN",
    "hcp_terraform": "TFE_TOKEN",
    "jira": "JIRA_API_TOKEN",
    "servicenow": "SERVICENOW_PASSWORD",
}


class ConfigError(ValueError):
    """A configuration file is wrong: ``<file>: <key path>: <problem>``, one line, no secret in it."""

    def __init__(self, file: Path | str, key: str, problem: str) -> None:
        self.file, self.key, self.problem = display_path(file), key, problem
        #: every (key path, problem) found in the file; the message names the first
        self.problems: list[tuple[str, str]] = [(key, problem)]
        super().__init__(f"{self.file}: {key}: {problem}")


def display_path(path: Path | str) -> str:
    """A file as the user knows it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


# --- reading and validating ---------------------------------------------------------------------


def read_yaml(path: Path, *, what: str = "file") -> Any:
    """The YAML document at ``path`` (None when empty); a missing file or bad YAML is a ConfigError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            path, "(file)", f"not found; expected the {what} here. Pass the path of an existing file."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "(file)", f"cannot be read: {exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(path, *_yaml_problem(exc)) from None
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a value YAML cannot build, e.g. 2024-13-01
        raise ConfigError(path, "(file)", f"not valid YAML: {exc}. {_FIX_YAML}") from None


_FIX_YAML = "Fix the file there and run again."


def _yaml_problem(exc: yaml.MarkedYAMLError) -> tuple[str, str]:
    """(line and column, problem) of a YAML syntax error, with where the construct it broke began."""
    where = "(file)"
    if exc.problem_mark is not None:
        where = f"line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1}"
    detail = exc.problem or "syntax error"
    if exc.context and exc.context_mark is not None:
        detail += (
            f" ({exc.context} at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1})"
        )
    elif exc.context:
        detail += f" ({exc.context})"
    return where, f"not valid YAML: {detail}. {_FIX_YAML}"


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], doc: Any, path: Path, context: Mapping[str, Any] | None = None) -> M:
    """``doc`` (a parsed YAML document; None is an empty file) validated as ``model``.

    The first problem becomes the ConfigError (one line); ``.problems`` of the error lists them all.
    """
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(path, "(top level)", f"must be a mapping (key: value), got {_kind(doc)}")
    try:
        return model.model_validate(doc, context=dict(context or {}))
    except ValidationError as exc:
        problems = [_problem(e) for e in exc.errors(include_url=False)]
        error = ConfigError(path, *problems[0])
        error.problems = problems
        raise error from None


def _kind(value: Any) -> str:
    """What a YAML value is, for "got ..." in a message (short, and never a whole mapping)."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    return type(value).__name__


def key_path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


_TYPE_WORDS = {
    "string_type": "must be text",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a mapping (key: value)",
    "model_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
    "dataclass_type": "must be a mapping (key: value)",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "date_type": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "must be a date (YYYY-MM-DD)",
    "path_type": "must be a path",
}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def _problem(error: Mapping[str, Any]) -> tuple[str, str]:
    """(key path, problem) of one pydantic error, in this module's words."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    loc = list(error["loc"])
    prefix = ""
    if loc and loc[-1] == "[key]":  # a mapping key itself is wrong
        loc.pop()
        prefix = "the key "
    loc += list(ctx.get("at", ()))
    if kind == "missing":
        text = "required, but missing"
    elif kind in _TYPE_WORDS:
        text = f"{prefix}{_TYPE_WORDS[kind]}, got {_kind(value)}"
    elif kind in _BOUNDS:
        bound = next(v for k, v in ctx.items() if k in ("gt", "ge", "lt", "le"))
        text = f"must be {_BOUNDS[kind]} {bound}, got {_kind(value)}"
    elif kind == "too_short":
        text = "must not be empty"
    elif kind == "value_error":
        text = str(ctx.get("error", error["msg"]))
    elif kind == "extra_forbidden":
        text = "unknown key"
    else:  # our own PydanticCustomError messages, and anything unforeseen
        text = error["msg"]
    return key_path(loc), text


def problem(message: str, at: tuple[Any, ...] = ()) -> PydanticCustomError:
    """A validation problem in our words; ``at`` extends the key path below the value validated."""
    return PydanticCustomError("config", message.replace("{", "{{").replace("}", "}}"), {"at": at})


class Model(BaseModel):
    """A part of a configuration file: unknown keys are errors, and ``key: null`` means "default"."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    #: fields a loader sets, never read from the file
    internal: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known = [name for name in cls.model_fields if name not in cls.internal]
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.75)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise problem(f"unknown key{hint}; expected one of: {', '.join(known)}", (str(key),))
        return {k: v for k, v in data.items() if v is not None or cls.model_fields[k].is_required()}


def one_of(*choices: str) -> AfterValidator:
    def check(value: str) -> str:
        if value not in choices:
            raise problem(f"must be one of {', '.join(choices)}, got {_kind(value)}")
        return value

    return AfterValidator(check)


def _scalar_text(value: Any) -> Any:
    """Names in YAML are often numbers (a PagerDuty id, a job called 2024): read them as text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _listed(value: Any) -> Any:
    """A single name where a list is expected is a list of one."""
    return [value] if isinstance(value, str | int | float) and not isinstance(value, bool) else value


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise problem(f"must be a number, got {_kind(value)}")
    return value


def _non_empty(value: str) -> str:
    if not value.strip():
        raise problem("must not be empty")
    return value.strip()


Name = Annotated[str, BeforeValidator(_scalar_text)]
NonEmpty = Annotated[str, BeforeValidator(_scalar_text), AfterValidator(_non_empty)]
Names = Annotated[tuple[Name, ...], BeforeValidator(_listed)]
Number = Annotated[float, BeforeValidator(_not_bool)]
NonNegative = Annotated[float, BeforeValidator(_not_bool), Field(ge=0)]
Positive = Annotated[float, BeforeValidator(_not_bool), Field(gt=0)]
PositiveInt = Annotated[int, BeforeValidator(_not_bool), Field(gt=0)]


# --- catalog/kpis.yaml -----------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


class Kpi(Model):
    """One KPI of the catalog: its one name and exact definition everywhere."""

    id: NonEmpty
    name: NonEmpty
    unit: NonEmpty
    better: Annotated[str, one_of("higher", "lower")]
    measure: NonEmpty  #: the observation stream in marts.kpi_observations
    aggregate: Annotated[str, one_of(*AGGREGATES)]
    grains: tuple[Annotated[str, one_of(*GRAINS)], ...] = ("monthly",)
    empty: Annotated[str, one_of("zero", "null")] = "null"  #: a period without observations: 0 or NULL
    tiered: bool = False  #: the DORA benchmark files have clusters for it
    #: answers of people (surveys): no value for a scope with fewer respondents than the config's
    #: survey_min_respondents, so no small group's answers can be read off a number
    anonymous: bool = False
    definition: Annotated[str, AfterValidator(_one_line)]


class KpiGroup(Model):
    """KPIs shown together, in reading order: a page's tile row, the report's summary, a comparison.

    A KPI may sit in any number of groups, but in at most one ``headline`` group (the keys that
    lead the organisation's view)."""

    id: NonEmpty
    name: NonEmpty
    description: NonEmpty
    headline: bool = False
    kpis: Annotated[tuple[NonEmpty, ...], Field(min_length=1)]


class Catalog(Model):
    """catalog/kpis.yaml: every KPI, the KPI groups, and the DORA tier names best first."""

    tiers: Annotated[tuple[NonEmpty, ...], Field(min_length=1)]
    kpis: Annotated[tuple[Kpi, ...], Field(min_length=1)]
    groups: tuple[KpiGroup, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        first: dict[str, int] = {}
        for i, kpi in enumerate(self.kpis):
            if kpi.id in first:
                raise problem(f"duplicate KPI id {kpi.id} (also kpis[{first[kpi.id]}])", ("kpis", i, "id"))
            first[kpi.id] = i
        seen_groups: dict[str, int] = {}
        headline: dict[str, str] = {}
        for g, group in enumerate(self.groups):
            if group.id in seen_groups:
                raise problem(
                    f"duplicate group id {group.id} (also groups[{seen_groups[group.id]}])",
                    ("groups", g, "id"),
                )
            seen_groups[group.id] = g
            for k, kid in enumerate(group.kpis):
                at = ("groups", g, "kpis", k)
                if kid not in first:
                    raise problem(f"{kid} is not a KPI id of the catalog", at)
                if kid in group.kpis[:k]:
                    raise problem(f"{kid} is listed twice in group {group.id}", at)
                if group.headline:
                    if kid in headline:
                        raise problem(
                            f"{kid} is already in headline group {headline[kid]}; a KPI leads in one headline "
                            "group only (list it in a group without headline: true to show it again)",
                            at,
                        )
                    headline[kid] = group.id
        return self

    def kpi(self, kpi_id: str) -> Kpi:
        return next(k for k in self.kpis if k.id == kpi_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(k.id for k in self.kpis)

    def group(self, group_id: str) -> KpiGroup:
        for group in self.groups:
            if group.id == group_id:
                return group
        raise KeyError(
            f"no KPI group {group_id!r} in the catalog (groups: {', '.join(g.id for g in self.groups)})"
        )


def load_catalog_file(path: Path | None = None) -> Catalog:
    path = Path(path or CATALOG_DIR / "kpis.yaml")
    return parse(Catalog, read_yaml(path, what="KPI catalog"), path)


@functools.lru_cache(maxsize=1)
def shipped_catalog() -> Catalog:
    """The catalog this version of the product ships (read once per process)."""
    return load_catalog_file()


# --- catalog/benchmarks/dora_<year>.yaml -------------------------------------------------------------


class BenchmarkMetric(Model):
    better: Annotated[str, one_of("higher", "lower")]
    #: tier -> bound in the KPI's unit (null: the catch-all last tier)
    tiers: dict[Name, Number | None]


class BenchmarkFile(Model):
    """DORA performance clusters of one report year: per KPI, a bound per tier (first match wins)."""

    year: int
    source: str = ""
    metrics: dict[Name, BenchmarkMetric]

    @model_validator(mode="after")
    def _match_catalog(self, info: ValidationInfo) -> BenchmarkFile:
        catalog: Catalog | None = (info.context or {}).get("catalog")
        if catalog is None:
            return self
        for kid, metric in self.metrics.items():
            if kid not in catalog.ids:
                raise problem("not a KPI id of the catalog", ("metrics", kid))
            if metric.better != catalog.kpi(kid).better:
                raise problem(
                    f"disagrees with the catalog ({catalog.kpi(kid).better})", ("metrics", kid, "better")
                )
            if tuple(metric.tiers) != catalog.tiers:
                raise problem(
                    f"must list {', '.join(catalog.tiers)} in that order", ("metrics", kid, "tiers")
                )
        return self

    def rows(self) -> list[dict[str, Any]]:
        """Tier bounds as rows (benchmark_year, kpi_id, tier, tier_rank, better, bound)."""
        return [
            {
                "benchmark_year": self.year,
                "kpi_id": kid,
                "tier": tier,
                "tier_rank": rank,
                "better": metric.better,
                "bound": bound,
            }
            for kid, metric in self.metrics.items()
            for rank, (tier, bound) in enumerate(metric.tiers.items(), start=1)
        ]


def benchmark_path(year: int, catalog_dir: Path | None = None) -> Path:
    return Path(catalog_dir or CATALOG_DIR) / "benchmarks" / f"dora_{year}.yaml"


def benchmark_years(catalog_dir: Path | None = None) -> list[str]:
    folder = Path(catalog_dir or CATALOG_DIR) / "benchmarks"
    return sorted(p.stem.removeprefix("dora_") for p in folder.glob("dora_*.yaml"))


def load_benchmark_file(year: int, catalog: Catalog, catalog_dir: Path | None = None) -> BenchmarkFile:
    path = benchmark_path(year, catalog_dir)
    return parse(
        BenchmarkFile, read_yaml(path, what=f"DORA benchmark clusters of {year}"), path, {"catalog": catalog}
    )


# --- catalog/benchmarks/quick_check_<edition>.yaml ----------------------------------------------------

#: The five DORA metrics the Quick Check scores, as KPI ids of the catalog, in DORA's order.
QUICK_CHECK_KPIS = (
    "lead_time_for_changes_p50_hours",
    "deployment_frequency",
    "failed_deployment_recovery_time_p50_hours",
    "change_failure_rate",
    "rework_rate",
)


def _score(value: float) -> float:
    if not 0 <= value <= 10:
        raise problem(f"must be on the Quick Check's 0-10 scale, got {_kind(value)}")
    return value


class QuickCheckStat(Model):
    """One metric of one benchmark row: mean and standard deviation as the file stores them."""

    mean: Annotated[float, BeforeValidator(_not_bool), AfterValidator(_score)]
    sd: Positive


class QuickCheckCuts(Model):
    """Benchmark rows of one cut (industries or organisation sizes): row name -> KPI id -> mean, sd.

    ``inverted`` lists the KPI ids this cut stores as 10 - score (instability: change fail and rework
    as p/10; the 2025 org-size file also stores recovery that way), so the score is 10 - stored."""

    inverted: tuple[NonEmpty, ...] = ()
    rows: dict[Name, dict[Name, QuickCheckStat]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_metrics(self) -> QuickCheckCuts:
        for i, kid in enumerate(self.inverted):
            if kid not in QUICK_CHECK_KPIS:
                raise problem(
                    f"{kid} is not a Quick Check metric ({', '.join(QUICK_CHECK_KPIS)})", ("inverted", i)
                )
        for row, metrics in self.rows.items():
            for kid in metrics:
                if kid not in QUICK_CHECK_KPIS:
                    raise problem(
                        f"not a Quick Check metric ({', '.join(QUICK_CHECK_KPIS)})", ("rows", row, kid)
                    )
        return self

    def score_rows(self, cut_type: str, cut: str, edition: int) -> list[dict[str, Any]]:
        """The row ``cut`` on the score scale (10 best): one dict per metric it has."""
        return [
            {
                "edition": edition,
                "cut_type": cut_type,
                "cut": cut,
                "kpi_id": kid,
                "mean": 10 - stat.mean if kid in self.inverted else stat.mean,
                "sd": stat.sd,
                "stored_mean": stat.mean,
            }
            for kid, stat in self.rows[cut].items()
        ]


class QuickCheckFile(Model):
    """DORA Quick Check benchmark of one edition: the survey distribution (mean, sd) per industry and
    per organisation size, on the Quick Check's 0-10 scale."""

    edition: int
    source: str = ""
    industries: QuickCheckCuts
    org_sizes: QuickCheckCuts = Field(default_factory=QuickCheckCuts)


def quick_check_path(edition: int, catalog_dir: Path | None = None) -> Path:
    return Path(catalog_dir or CATALOG_DIR) / "benchmarks" / f"quick_check_{edition}.yaml"


def quick_check_editions(catalog_dir: Path | None = None) -> list[str]:
    folder = Path(catalog_dir or CATALOG_DIR) / "benchmarks"
    return sorted(p.stem.removeprefix("quick_check_") for p in folder.glob("quick_check_*.yaml"))


def load_quick_check_file(edition: int, catalog_dir: Path | None = None) -> QuickCheckFile:
    path = quick_check_path(edition, catalog_dir)
    return parse(QuickCheckFile, read_yaml(path, what=f"DORA Quick Check benchmark of {edition}"), path)


@dataclass(frozen=True)
class QuickCheckBenchmark:
    """The benchmark rows a run compares with: the chosen edition's industry row and org-size row."""

    edition: int
    industry: str
    org_size: str | None
    source: str
    rows: tuple[dict[str, Any], ...]  #: score-scale mean and sd per (cut_type, kpi_id)


def select_quick_check(
    choice: QuickCheckChoice, kpi_path: Path, catalog_dir: Path | None = None
) -> QuickCheckBenchmark:
    """The chosen rows of the chosen edition; an industry or org size the file lacks is a ConfigError
    on config/kpi.yaml naming the rows the file has."""
    file = load_quick_check_file(choice.edition, catalog_dir)
    rows: list[dict[str, Any]] = []
    for key, cuts, name in (
        ("industry", file.industries, choice.industry),
        ("org_size", file.org_sizes, choice.org_size),
    ):
        if name is None:
            continue
        if name not in cuts.rows:
            have = ", ".join(cuts.rows) or "none"
            raise ConfigError(
                kpi_path,
                f"quick_check.{key}",
                f"the {choice.edition} Quick Check benchmark has no {key.replace('_', ' ')} row {name!r}; "
                f"it has: {have}",
            )
        rows += cuts.score_rows(key, name, file.edition)
    return QuickCheckBenchmark(file.edition, choice.industry, choice.org_size, file.source, tuple(rows))


# --- config/kpi.yaml ---------------------------------------------------------------------------------

_TARGET_KEYS = {
    "absolute": ("op", "value"),
    "relative": ("baseline", "change"),
    "trend": ("direction", "months"),
}


class Target(Model):
    """A KPI's target: absolute (op, value), relative to a baseline (baseline, change) or a trend
    (direction over the previous ``months``)."""

    kind: Annotated[str, one_of(*_TARGET_KEYS)]
    op: Annotated[str, one_of("<=", ">=", "<", ">")] | None = None
    value: Number | None = None
    baseline: Annotated[str, one_of("previous_year", "previous_month")] | None = None
    change: Number | None = None
    direction: Annotated[str, one_of("up", "down")] | None = None
    months: PositiveInt | None = None

    @model_validator(mode="before")
    @classmethod
    def _trend_months_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("kind") == "trend" and data.get("months") is None:
            return {**data, "months": 3}
        return data

    @model_validator(mode="after")
    def _keys_of_kind(self) -> Target:
        keys = _TARGET_KEYS[self.kind]
        for key in keys:
            if getattr(self, key) is None:
                raise problem(f"required for {self.kind} targets ({', '.join(keys)})", (key,))
        for other in {k for ks in _TARGET_KEYS.values() for k in ks} - set(keys):
            if getattr(self, other) is not None:
                raise problem(f"not a key of {self.kind} targets (they take {', '.join(keys)})", (other,))
        return self


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise problem(f"not a valid regular expression: {exc}") from None
    return pattern


def _date(value: Any) -> Any:
    """A date written as a YAML date, a timestamp (its day) or ISO text with stray spaces."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise problem(f"must be a date (YYYY-MM-DD), got {_kind(value)}") from None
    return value


def _share(value: float) -> float:
    if not 0 <= value <= 1:
        raise problem(f"must be between 0 and 1 (a share of the previous rows), got {_kind(value)}")
    return value


class QuickCheckChoice(Model):
    """config/kpi.yaml quick_check: which Quick Check edition, industry row and organisation-size row
    the scores are placed against."""

    edition: int = 2025
    industry: NonEmpty = "all"
    org_size: NonEmpty | None = None

    @field_validator("edition")
    @classmethod
    def _file_exists(cls, edition: int, info: ValidationInfo) -> int:
        catalog_dir = (info.context or {}).get("catalog_dir")
        if catalog_dir is not None and not quick_check_path(edition, catalog_dir).is_file():
            have = ", ".join(quick_check_editions(catalog_dir)) or "none"
            raise problem(
                f"no DORA Quick Check benchmark for {edition} (catalog/benchmarks/quick_check_{edition}.yaml); "
                f"available editions: {have}"
            )
        return edition


GOLDEN_PATH_CRITERIA = ("scaffolded", "ci_template", "owner", "techdocs", "runbook")


class TemplateRelease(Model):
    """A release of a shared CI template; with ``released``, it counts for drift only from that day."""

    version: NonEmpty
    released: Annotated[dt.date, BeforeValidator(_date)] | None = None


def _release(value: Any) -> Any:
    """A release written as its version alone (``v3``) is a release without a date."""
    return (
        {"version": value} if isinstance(value, str | int | float) and not isinstance(value, bool) else value
    )


class PipelineTemplate(Model):
    """One approved shared CI template: a glob over the reference found in CI configuration (a workflow
    ``uses:`` without its @version, a GitLab include's project/file or component, a Jenkins library
    name) and its releases, newest first (for pinned-version drift)."""

    name: NonEmpty
    pattern: NonEmpty
    releases: tuple[Annotated[TemplateRelease, BeforeValidator(_release)], ...] = ()


class DocumentationRules(Model):
    """Which documents are key documents, and how recent an edit keeps one fresh."""

    freshness_days: PositiveInt = 180
    key_kinds: Names = ("runbook", "techdocs", "readme")
    key_labels: Names = ()


class PlatformAdoption(Model):
    """config/kpi.yaml platform_adoption: the golden-path definition and the rules of the platform
    adoption KPIs (golden_path_*, pipeline_template_coverage, documentation_freshness)."""

    #: catalog Component types that are services (counted in the denominators)
    service_types: Names = ("service",)
    #: lifecycles left out of every denominator
    excluded_lifecycles: Names = ("deprecated", "experimental")
    #: the criteria a service must all meet to be on the golden path
    golden_path: Annotated[
        tuple[Annotated[str, one_of(*GOLDEN_PATH_CRITERIA)], ...], BeforeValidator(_listed)
    ] = GOLDEN_PATH_CRITERIA
    #: globs over backstage.io/source-template that count as approved scaffolder templates
    approved_scaffolder_templates: Names = ("*",)
    pipeline_templates: tuple[PipelineTemplate, ...] = ()
    #: a pin more than this many releases behind the newest is drift
    max_releases_behind: Annotated[int, BeforeValidator(_not_bool), Field(ge=0)] = 1
    documentation: DocumentationRules = Field(default_factory=DocumentationRules)


_SEVERITIES = ("critical", "high", "medium", "low")


def _severity_days(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, days in value.items():
            name = str(key).strip().lower()
            if name not in _SEVERITIES:
                raise problem(f"unknown severity (known: {', '.join(_SEVERITIES)})", (str(key),))
            out[name] = days
        return out
    return value


class SecuritySettings(Model):
    """config/kpi.yaml security: the vulnerability fix SLA per severity (days; a severity not listed has
    no SLA and stays out of the SLA KPIs) and which service each Terraform workspace belongs to (a
    workspace not listed is the service of the same name)."""

    sla_days: Annotated[
        dict[str, Annotated[float, BeforeValidator(_not_bool), Field(gt=0)]], BeforeValidator(_severity_days)
    ] = Field(default_factory=lambda: {"critical": 7.0, "high": 30.0})
    workspaces: dict[NonEmpty, NonEmpty] = Field(default_factory=dict)


def _weights(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, weight in value.items():
            name = str(key).strip().lower()
            if not name:
                raise problem("a severity name is blank", (str(key),))
            if name in out:
                raise problem("severity given twice (names are matched case-insensitively)", (str(key),))
            out[name] = weight
        return out
    return value


class PlatformIncidents(Model):
    """config/kpi.yaml platform_incidents: which incidents are the platform's and how much each weighs.

    An incident is on the platform when its service is owned by one of ``owner_teams`` or is one of
    ``services``. platform_incident_rate adds up ``weights[severity]`` (severity names matched
    case-insensitively: SEV1, P1, critical, ... as the incident source spells them) and
    ``default_weight`` for a severity not listed (or none)."""

    owner_teams: tuple[NonEmpty, ...] = ("platform",)
    services: tuple[NonEmpty, ...] = ()
    weights: Annotated[
        dict[str, Annotated[float, BeforeValidator(_not_bool), Field(ge=0)]], BeforeValidator(_weights)
    ] = Field(
        default_factory=lambda: {
            "sev1": 10.0,
            "sev2": 5.0,
            "sev3": 2.0,
            "sev4": 1.0,
            "p1": 10.0,
            "p2": 5.0,
            "p3": 2.0,
            "p4": 1.0,
            "p5": 1.0,
        }  # fmt: skip
    )
    default_weight: NonNegative = 1.0


class SloPrometheus(Model):
    """Where the SLOs' queries are evaluated (Prometheus ``GET /api/v1/query_range``)."""

    url: str | None = None  #: e.g. http://prometheus:9090; None: only SLO result files are read
    history_days: PositiveInt = 90  #: how far back the first evaluation of an SLO reaches
    lookback_days: Annotated[int, BeforeValidator(_not_bool), Field(ge=0)] = 2  #: days re-evaluated each run


class SloSettings(Model):
    """config/kpi.yaml slos: the SLO spec files (OpenSLO v1, Sloth prometheus/v1), which SLOs are
    platform SLOs, and how much of a month must have data for its attainment to count."""

    #: spec files or folders, relative to kpi.yaml (``<files>/slos`` is always read too)
    paths: Names = ()
    #: platform SLOs: an SLO's name or id, its service, or a label selector ``key=value``
    platform: tuple[NonEmpty, ...] = ()
    #: the share of a month's hours with data below which the month does not count as met
    min_coverage: Annotated[float, BeforeValidator(_not_bool), Field(ge=0, le=1)] = 0.9
    prometheus: SloPrometheus = Field(default_factory=SloPrometheus)


class KpiRules(Model):
    """config/kpi.yaml: the rules every KPI is computed with, and the targets."""

    production_environment_pattern: Annotated[str, AfterValidator(_regex)] = r"^(prod|production)([-_.].*)?$"
    incident_link_window_hours: NonNegative = 24.0
    default_branches: tuple[NonEmpty, ...] = ("main", "master")
    benchmark_year: int = 2024
    targets: dict[str, Target] = Field(default_factory=dict)
    quick_check: QuickCheckChoice = Field(default_factory=QuickCheckChoice)
    #: input times before this date are quarantined (a 0001 or 1970 default, not an event)
    earliest_event_date: Annotated[dt.date, BeforeValidator(_date)] = dt.date(2000, 1, 1)
    #: input times more than this many hours after the run are quarantined (a year-2999 typo)
    future_tolerance_hours: NonNegative = 24.0
    #: the largest share of an entity's previously published file rows a run may lose before it stops
    #: instead of publishing (0.5: stop when a file now gives less than half the rows; 1: never stop)
    row_drop_threshold: Annotated[float, BeforeValidator(_not_bool), AfterValidator(_share)] = 0.5
    #: reviewers that are bots (matched case-insensitively), besides any login ending in [bot] and GitHub
    #: users of type Bot: their reviews and approvals are not reviews in the pull-request flow
    review_bot_logins: tuple[NonEmpty, ...] = ()
    #: days that are not business days besides Saturdays and Sundays (review cycle times count business days)
    holidays: tuple[Annotated[dt.date, BeforeValidator(_date)], ...] = ()
    #: survey KPIs (anonymous in the catalog) have no value for a group with fewer respondents than this
    survey_min_respondents: PositiveInt = 5
    platform_adoption: PlatformAdoption = Field(default_factory=PlatformAdoption)
    #: the security and compliance KPIs' settings (vulnerability SLA per severity, workspace services)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    #: platform_incident_rate's platform-owned services and severity weights
    platform_incidents: PlatformIncidents = Field(default_factory=PlatformIncidents)
    #: the SLOs' spec files, platform SLOs and coverage rule (platform_kpi.slos)
    slos: SloSettings = Field(default_factory=SloSettings)

    @field_validator("benchmark_year")
    @classmethod
    def _benchmarks_exist(cls, year: int, info: ValidationInfo) -> int:
        catalog_dir = (info.context or {}).get("catalog_dir")
        if catalog_dir is not None and not benchmark_path(year, catalog_dir).is_file():
            have = ", ".join(benchmark_years(catalog_dir)) or "none"
            raise problem(
                f"no DORA benchmark file for {year} (catalog/benchmarks/dora_{year}.yaml); available years: {have}"
            )
        return year

    @field_validator("targets")
    @classmethod
    def _known_kpis(cls, targets: dict[str, Target], info: ValidationInfo) -> dict[str, Target]:
        catalog: Catalog | None = (info.context or {}).get("catalog")
        if catalog is not None:
            for kid in targets:
                if kid not in catalog.ids:
                    raise problem(f"unknown KPI id (known: {', '.join(sorted(catalog.ids))})", (kid,))
        return targets


def load_rules(
    path: Path | None = None, catalog: Catalog | None = None, catalog_dir: Path | None = None
) -> KpiRules:
    path = Path(path or DEFAULT_CONFIG)
    context = {"catalog": catalog or shipped_catalog(), "catalog_dir": catalog_dir or CATALOG_DIR}
    return parse(KpiRules, read_yaml(path, what="KPI rules and targets"), path, context)


# --- config/costs.yaml -------------------------------------------------------------------------------


def _category(value: str) -> str:
    by_lower = {c.lower(): c for c in CHARGE_CATEGORIES}
    if value.lower() not in by_lower:
        raise problem(f"unknown ChargeCategory {value} (known: {', '.join(CHARGE_CATEGORIES)})")
    return by_lower[value.lower()]


def _currency(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise problem(f"not a three-letter ISO 4217 code, got {_kind(value)}")
    return value


Category = Annotated[str, AfterValidator(_category)]
Currency = Annotated[str, BeforeValidator(_currency)]


class ChargeCategories(Model):
    unit_costs: tuple[Category, ...] = ("Usage",)  #: count in cost_per_build and cost_per_deploy
    cloud_cost: tuple[Category, ...] = CHARGE_CATEGORIES  #: count in cloud_cost (net spend)


class Attribution(Model):
    #: the first of these tag keys present on a cost row names its service (resp. team)
    service_tag_keys: Annotated[tuple[NonEmpty, ...], AfterValidator(lambda v: v or ("service",))] = (
        "service",
    )
    team_tag_keys: Annotated[tuple[NonEmpty, ...], AfterValidator(lambda v: v or ("team",))] = ("team",)
    namespace_services: dict[Name, Name] = Field(default_factory=dict)  #: namespace -> service


class CostRule(Model):
    """What makes a cost row CI compute (resp. deployment infrastructure): any condition matching.
    Values are glob patterns."""

    sub_account_ids: tuple[NonEmpty, ...] = ()
    service_names: tuple[NonEmpty, ...] = ()
    service_categories: tuple[NonEmpty, ...] = ()
    providers: tuple[NonEmpty, ...] = ()
    resource_ids: tuple[NonEmpty, ...] = ()
    tags: dict[Name, str] = Field(default_factory=dict)  #: tag key -> pattern


class FocusSource(Model):
    paths: Names = ()  #: exports (files or folders), relative to costs.yaml


class AwsCostExplorerSource(Model):
    enabled: bool = False
    region: NonEmpty = "us-east-1"
    endpoint_url: str | None = None
    start: dt.date | None = None  #: default: the first day of the month 12 months ago
    end: dt.date | None = None  #: exclusive; default: today (UTC)
    metric: NonEmpty = "AmortizedCost"
    group_by_tag: NonEmpty = "service"


class OpenCostSource(Model):
    url: str | None = None
    window: NonEmpty = "30d"
    step: NonEmpty = "1d"
    aggregate: NonEmpty = "cluster,namespace"


def _step(value: Any) -> Any:
    text = str(value).strip()
    if not re.fullmatch(r"\d+[smhd]?", text):
        raise problem(f"{value!r} is not a duration like 60s, 5m or 1h")
    return text


class PrometheusSource(Model):
    url: str | None = None
    cluster: NonEmpty = "default"  #: the cluster name when the series carry no cluster label
    days: PositiveInt = 30
    step: Annotated[str, BeforeValidator(_step)] = "1h"
    queries: dict[Annotated[str, one_of(*PROMETHEUS_SERIES)], NonEmpty] = Field(default_factory=dict)


class CostSources(Model):
    focus: FocusSource = FocusSource()
    aws_cost_explorer: AwsCostExplorerSource = AwsCostExplorerSource()
    opencost: OpenCostSource = OpenCostSource()
    prometheus: PrometheusSource = PrometheusSource()


class CostConfig(Model):
    """config/costs.yaml: reporting currency and rates, what counts, attribution, CI-compute and
    deployment rules, and the cost sources."""

    internal: ClassVar[frozenset[str]] = frozenset({"path"})

    path: Path = DEFAULT_COST_CONFIG  #: the file it was read from (relative paths in it start there)
    reporting_currency: Currency = "USD"
    #: 1 unit of the currency = RATE units of the reporting currency
    fx_rates: dict[Currency, Positive] = Field(default_factory=dict)
    charge_categories: ChargeCategories = ChargeCategories()
    attribution: Attribution = Attribution()
    ci_compute: CostRule = CostRule()
    deployment: CostRule = CostRule()
    sources: CostSources = CostSources()

    @property
    def unit_cost_categories(self) -> tuple[str, ...]:
        return self.charge_categories.unit_costs

    @property
    def cloud_cost_categories(self) -> tuple[str, ...]:
        return self.charge_categories.cloud_cost

    @property
    def service_tag_keys(self) -> tuple[str, ...]:
        return self.attribution.service_tag_keys

    @property
    def team_tag_keys(self) -> tuple[str, ...]:
        return self.attribution.team_tag_keys

    @property
    def namespace_services(self) -> dict[str, str]:
        return self.attribution.namespace_services

    def rule(self, kind: str) -> CostRule:
        return getattr(self, kind)

    def focus_paths(self, files_dir: Path | None) -> list[Path]:
        """FOCUS export paths: the configured ones (relative to this file) and ``files_dir/focus``."""
        paths = [(self.path.parent / p).resolve() for p in self.sources.focus.paths]
        if files_dir is not None and (files_dir / "focus").is_dir():
            paths.append(files_dir / "focus")
        return paths


def cost_config_path_for(kpi_config: Path | None) -> Path:
    """The costs.yaml beside ``kpi_config`` when there is one, else the shipped config/costs.yaml."""
    return _beside(kpi_config, "costs.yaml") or DEFAULT_COST_CONFIG


def load_cost_config(path: Path | None = None) -> CostConfig:
    path = Path(path or DEFAULT_COST_CONFIG)
    config = parse(CostConfig, read_yaml(path, what="cost configuration"), path)
    return config.model_copy(update={"path": path})


# --- config/delivery.yaml ----------------------------------------------------------------------------


class Webhook(Model):
    #: the environment variable holding the incoming-webhook URL (a secret: never in the file)
    url_env: NonEmpty | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_url(cls, data: Any) -> Any:
        if isinstance(data, dict) and "url" in data:
            raise problem(
                "not allowed: the URL is a secret; name the environment variable that holds it in url_env",
                ("url",),
            )
        return data


class DeliveryConfig(Model):
    """config/delivery.yaml: where a written report also goes. The webhook URL comes from the
    environment variable the file names, as a Secret: never printed, stored or put in an error."""

    internal: ClassVar[frozenset[str]] = frozenset({"webhook_url"})

    webhook: Webhook = Webhook()
    directory: Path | None = None  #: copy the month's folder here too
    timeout_seconds: Positive = 10.0
    webhook_url: Secret | None = None

    @property
    def webhook_env(self) -> str | None:
        return self.webhook.url_env

    @property
    def enabled(self) -> bool:
        return bool(self.webhook_url or self.directory)


def load_delivery_config(
    path: Path | None = None, env: Mapping[str, str] | None = None, *, required: bool = True
) -> DeliveryConfig:
    """The delivery file at ``path`` (default: the shipped one), its webhook URL read from ``env``.

    A missing file means no delivery when ``required`` is false (the default file, or the one beside
    the KPI config); a file named explicitly must exist."""
    env = os.environ if env is None else env
    path = Path(path or DEFAULT_DELIVERY_CONFIG)
    if not required and not path.is_file():
        return DeliveryConfig()
    config = parse(DeliveryConfig, read_yaml(path, what="delivery configuration"), path)
    url = (env.get(config.webhook_env) or "").strip() if config.webhook_env else ""
    if url and not url.startswith(("https://", "http://")):  # never show the value: it is the secret
        raise ConfigError(
            path, "webhook.url_env", f"the value of ${config.webhook_env} is not an http(s) URL"
        )
    return config.model_copy(update={"webhook_url": Secret(url) if url else None})


# --- sources.yaml ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceConfig:
    """One source system as configured: where it is, what to read, how to map its names."""

    name: str
    base_url: str
    token_env: str
    scopes: tuple[str, ...]  #: repos / projects / jobs / services to read
    environments: Mapping[str, str]  #: vendor environment name (lower-case) -> our environment name
    options: Mapping[str, Any] = field(default_factory=dict)  #: source-specific keys
    file: str = "sources.yaml"  #: the file it was read from, for error messages

    def token(self, env: Mapping[str, str] | None = None) -> Secret:
        env = os.environ if env is None else env
        value = (env.get(self.token_env) or "").strip()
        if not value:
            raise ConfigError(
                self.file,
                f"{self.name}.token_env",
                f"environment variable {self.token_env} is not set; it must hold the {self.name} API token "
                "(see .env.example)",
            )
        return Secret(value)


@dataclass(frozen=True)
class ServiceMapping:
    """Our service, its team, and where it lives in each source."""

    service: str
    team: str
    tier: str | None
    repo: str | None
    #: (source, scope, path prefix or None): a repo/project/job/vendor service this service owns;
    #: with a path only the part of a shared repository (monorepo) under that path.
    locations: tuple[tuple[str, str, str | None], ...]


@dataclass(frozen=True)
class SourcesConfig:
    """sources.yaml as the connectors use it (built by SourcesFile.build)."""

    path: Path | None
    sources: Mapping[str, SourceConfig]
    services: tuple[ServiceMapping, ...]
    history_days: int = 400
    lookback_hours: float = 24.0
    http: HttpPolicy = field(default_factory=HttpPolicy)

    def history_start(self, now: dt.datetime) -> dt.datetime:
        return now - dt.timedelta(days=self.history_days)

    @property
    def lookback(self) -> dt.timedelta:
        return dt.timedelta(hours=self.lookback_hours)

    def secrets(self, env: Mapping[str, str] | None = None) -> list[Secret]:
        """Every configured source's token that is set: what error messages must never show."""
        env = os.environ if env is None else env
        return [Secret(v) for sc in self.sources.values() if (v := (env.get(sc.token_env) or "").strip())]

    def mapping_rows(self) -> list[tuple[str, str, str | None, str]]:
        """(source, scope, path, service) for ops.source_service_map."""
        return [(src, scope, path, s.service) for s in self.services for src, scope, path in s.locations]

    def environment_rows(self) -> list[tuple[str, str, str]]:
        """(source, original lower-case, environment) for ops.source_environments."""
        return [
            (name, orig, env) for name, cfg in self.sources.items() for orig, env in cfg.environments.items()
        ]


EMPTY_SOURCES = SourcesConfig(path=None, sources={}, services=())  #: no sources.yaml: no API source


def _http_keys(value: Any) -> Any:
    if isinstance(value, dict):
        known = [f.name for f in dataclasses.fields(HttpPolicy)]
        for key in value:
            if key not in known:
                raise problem(f"unknown setting; expected one of: {', '.join(known)}", (str(key),))
    return value


class _ApiSource(Model):
    """What every API source takes; ``options`` are the source-specific keys the connectors read."""

    common: ClassVar[frozenset[str]] = frozenset({"enabled", "base_url", "token_env", "environments"})

    enabled: bool = True
    base_url: NonEmpty | None = None  #: default: the vendor's public API
    token_env: NonEmpty | None = None  #: the environment variable holding the token
    #: our environment name -> the vendor's names for it
    environments: dict[Name, Names] = Field(default_factory=dict)
    per_page: PositiveInt | None = None
    recheck_days: NonNegative | None = None  #: unfinished deployments/runs are re-read while this young
    freshness_hours: Positive | None = None  #: the freshness check warns after this long without a sync


class GithubSource(_ApiSource):
    repos: Names = ()
    deployment_workflows: dict[Name, NonEmpty] = Field(default_factory=dict)  #: workflow file -> environment
    run_window_days: Positive | None = None
    #: read each merged pull request's size, reviews and ready-for-review time (3 requests more each
    #: through REST; nested in the same query through GraphQL)
    pr_flow: bool | None = None
    #: pull requests and deployments through the GraphQL API (default true); false reads them through
    #: REST, for a GitHub Enterprise Server or proxy without /graphql
    graphql: bool | None = None
    #: read Dependabot and code-scanning alerts and artifact attestations (security KPIs)
    security_alerts: bool | None = None


class GitlabSource(_ApiSource):
    projects: Names = ()
    #: read each merged merge request's approvals and notes (2 requests more each)
    pr_flow: bool | None = None


class JenkinsSource(_ApiSource):
    jobs: Names = ()
    user_env: NonEmpty | None = None  #: the environment variable holding the user name
    deployment_jobs: dict[Name, NonEmpty] = Field(default_factory=dict)  #: job -> environment


class PagerdutySource(_ApiSource):
    services: Names = ()
    limit: PositiveInt | None = None
    window_days: Positive | None = None
    #: read each incident's alerts and the incident log entries (alert noise KPIs; one request more per
    #: incident); default true
    alerts: bool | None = None


class OpsgenieSource(_ApiSource):
    services: Names = ()
    limit: PositiveInt | None = None


class SqlQuery(Model):
    """One entity's query: it returns the entity's canonical columns (connectors.sql.ENTITIES)."""

    query: NonEmpty


class SqlSource(_ApiSource):
    """A database reached with a SQLAlchemy URL (``url``, without its password: that comes from the
    variable ``password_env`` names), one query per entity, read incrementally on ``updated_at``."""

    url: NonEmpty
    password_env: NonEmpty | None = None  #: the variable holding the password (none: no password)
    entities: dict[Literal[SQL_ENTITIES], SqlQuery] = Field(default_factory=dict)  # type: ignore[valid-type]
    chunk_rows: PositiveInt | None = None  #: rows read and written per transaction (default 5,000)

    @field_validator("url")
    @classmethod
    def _no_password(cls, value: str) -> str:
        from sqlalchemy.engine import make_url  # only a sources.yaml with a database pays the import

        try:
            url = make_url(value)
        except Exception:  # never echo the value: it may hold a password
            raise problem("is not a SQLAlchemy URL (dialect+driver://user@host:port/database)") from None
        if url.password is not None:
            raise problem("holds a password; remove it and name the variable that holds it in password_env")
        return value


class BackstageCatalogSource(_ApiSource):
    """The Backstage catalog (base_url: the catalog API, e.g. https://backstage.example.com/api/catalog)."""

    kinds: Names = ("component", "system", "group")
    limit: PositiveInt | None = None  #: entities per page (the API's default is 20)


class GithubRepoScansSource(_ApiSource):
    """CI configuration (workflows, Jenkinsfile) and TechDocs commits of GitHub repositories."""

    repos: Names = ()
    ref: NonEmpty | None = None  #: the branch scanned (default: HEAD, the default branch)
    docs_paths: Names = ("mkdocs.yml", "docs")


class GitlabRepoScansSource(_ApiSource):
    """.gitlab-ci.yml includes and TechDocs commits of GitLab projects."""

    projects: Names = ()
    ref: NonEmpty | None = None  #: the branch scanned (default: main)
    docs_paths: Names = ("mkdocs.yml", "docs")


class ConfluencePagesSource(_ApiSource):
    """Confluence Cloud pages (REST v2) of the listed space ids (base_url: https://<site>.atlassian.net)."""

    spaces: Names = ()
    user_env: NonEmpty | None = None  #: the environment variable holding the Atlassian account email
    limit: PositiveInt | None = None  #: pages per request (at most 250)


class ServiceEntry(Model):
    """One of our services, its team, and where it lives in each source."""

    service: NonEmpty
    team: NonEmpty
    tier: Name | None = None
    repo: Name | None = None  #: a GitHub/GitLab repository
    paths: Names = ()  #: in a shared repository (monorepo): the part this service owns
    gitlab_projects: Names = ()
    jenkins_jobs: Names = ()
    pagerduty_services: Names = ()
    opsgenie_services: Names = ()
    confluence_spaces: Names = ()  #: Confluence space ids whose pages document this service


class HcpTerraformSource(_ApiSource):
    """HCP Terraform / Terraform Enterprise health assessments (drift) of an organisation's workspaces."""

    organization: NonEmpty | None = None
    workspaces: Names = ()  #: workspace names to read; none: every workspace of the organisation


class JiraQuery(Model):
    """Which Jira issues are one entity: a JQL filter without ORDER BY (the connector adds the
    ``updated`` bound and its own order)."""

    jql: NonEmpty

    @field_validator("jql")
    @classmethod
    def _no_order(cls, value: str) -> str:
        if re.search(r"\border\s+by\b", value, re.IGNORECASE):
            raise problem(
                "must not end in ORDER BY: the connector orders by updated time to read incrementally"
            )
        return value


class JiraSource(_ApiSource):
    """Jira Cloud (REST v3, base_url https://<site>.atlassian.net): platform support tickets and
    architecture reviews as JQL filters, read incrementally on ``updated`` with their changelogs."""

    entities: dict[Literal[JIRA_ENTITIES], JiraQuery] = Field(default_factory=dict)  # type: ignore[valid-type]
    user_env: NonEmpty | None = None  #: the variable holding the Atlassian account email (default JIRA_USER)
    team_field: NonEmpty | None = None  #: the issue field naming the requesting team (e.g. customfield_10001)
    service_field: NonEmpty = (
        "components"  #: the issue field naming the service (components, labels or a custom field)
    )
    max_results: PositiveInt | None = None  #: issues per search page (default 100)


class ServiceNowQuery(Model):
    """Which records of which table are one entity: the table and an encoded query (``sysparm_query``)."""

    table: Name
    query: str = ""  #: e.g. assignment_group.name=Platform Support (no ORDERBY: the connector adds its own)

    @field_validator("query")
    @classmethod
    def _no_order(cls, value: str) -> str:
        if "ORDERBY" in value.upper():
            raise problem(
                "must not hold ORDERBY: the connector orders by sys_updated_on to read incrementally"
            )
        return value


class ServiceNowSource(_ApiSource):
    """The ServiceNow Table API (base_url https://<instance>.service-now.com): support requests and
    incidents, read incrementally on ``sys_updated_on`` with display values and sys ids together."""

    entities: dict[Literal[SERVICENOW_ENTITIES], ServiceNowQuery] = Field(default_factory=dict)  # type: ignore[valid-type]
    auth: Literal["basic", "bearer"] = (
        "basic"  #: basic: user_env + the password in token_env; bearer: an OAuth token
    )
    user_env: NonEmpty | None = None  #: the variable holding the user name (default SERVICENOW_USER)
    team_field: NonEmpty | None = None  #: the field naming the requesting team (e.g. u_requesting_group)
    service_field: NonEmpty = (
        "cmdb_ci"  #: the reference field naming the service (cmdb_ci or business_service)
    )
    limit: PositiveInt | None = None  #: records per page (default 1,000)


class SourcesFile(Model):
    """sources.yaml: which systems to read, how their names map to ours, and where the tokens are."""

    history_days: PositiveInt = 400  #: how far back the first sync of a stream reads
    lookback_hours: NonNegative = 24.0  #: every sync re-reads this much before its cursor
    http: Annotated[HttpPolicy, BeforeValidator(_http_keys)] = HttpPolicy()
    github: GithubSource | None = None
    gitlab: GitlabSource | None = None
    jenkins: JenkinsSource | None = None
    pagerduty: PagerdutySource | None = None
    opsgenie: OpsgenieSource | None = None
    sql: SqlSource | None = None
    backstage_catalog: BackstageCatalogSource | None = None
    github_repo_scans: GithubRepoScansSource | None = None
    gitlab_repo_scans: GitlabRepoScansSource | None = None
    confluence_pages: ConfluencePagesSource | None = None
    hcp_terraform: HcpTerraformSource | None = None
    jira: JiraSource | None = None
    servicenow: ServiceNowSource | None = None
    services: tuple[ServiceEntry, ...] = ()

    @model_validator(mode="after")
    def _complete(self) -> SourcesFile:
        for name in SOURCES:
            section: _ApiSource | None = getattr(self, name)
            if section is None or not section.enabled:
                continue
            if not (_base_url(section) or DEFAULT_BASE_URLS[name]):
                raise problem(f"required: {name} has no public API to default to", (name, "base_url"))
            scope = SCOPE_KEYS[name]
            if not getattr(section, scope) and name not in ("opsgenie", "hcp_terraform"):
                raise problem("lists nothing to read", (name, scope))
            if name == "hcp_terraform" and not getattr(section, "organization", None):
                raise problem("required: the organization whose workspaces to read", (name, "organization"))
        first: dict[str, int] = {}
        for i, entry in enumerate(self.services):
            if entry.service in first:
                raise problem(
                    f"{entry.service} is listed twice (also services[{first[entry.service]}])",
                    ("services", i, "service"),
                )
            first[entry.service] = i
        return self

    def build(self, path: Path) -> SourcesConfig:
        """The runtime view the connectors use (vendor environment names looked up lower-case, each
        service's locations in every source)."""
        sources = {}
        for name in SOURCES:
            section: _ApiSource | None = getattr(self, name)
            if section is None or not section.enabled:
                continue
            scope = SCOPE_KEYS[name]
            sources[name] = SourceConfig(
                name=name,
                base_url=_base_url(section) or DEFAULT_BASE_URLS[name],
                token_env=getattr(section, "password_env", None)
                or section.token_env
                or DEFAULT_TOKEN_ENV[name],
                scopes=tuple(getattr(section, scope)),
                environments={
                    vendor.strip().lower(): ours
                    for ours, names in section.environments.items()
                    for vendor in names
                },
                # a SQL source's queries (a service desk's filters) are its "scopes" and what its connector reads
                options=section.model_dump(
                    exclude=set(_ApiSource.common) | ({scope} if scope != "entities" else set()),
                    exclude_none=True,
                ),
                file=display_path(path),
            )
        services = []
        for entry in self.services:
            locations: list[tuple[str, str, str | None]] = []
            if entry.repo:
                for src in ("github", "gitlab"):
                    locations += [(src, entry.repo, p) for p in entry.paths or (None,)]
            for src, values in (
                ("gitlab", entry.gitlab_projects),
                ("jenkins", entry.jenkins_jobs),
                ("pagerduty", entry.pagerduty_services),
                ("opsgenie", entry.opsgenie_services),
                ("confluence_pages", entry.confluence_spaces),
            ):
                locations += [(src, v, None) for v in values]
            services.append(
                ServiceMapping(
                    service=entry.service,
                    team=entry.team,
                    tier=entry.tier or None,
                    repo=entry.repo or None,
                    locations=tuple(locations),
                )
            )
        return SourcesConfig(
            path=path,
            sources=sources,
            services=tuple(services),
            history_days=self.history_days,
            lookback_hours=self.lookback_hours,
            http=self.http,
        )


def _base_url(section: _ApiSource) -> str | None:
    return getattr(section, "url", None) or section.base_url


def load_sources(path: Path | str | None) -> SourcesConfig:
    """sources.yaml at ``path``; None means no API source is configured."""
    if path is None:
        return EMPTY_SOURCES
    path = Path(path)
    return parse(SourcesFile, read_yaml(path, what="sources file"), path).build(path)


# --- one run's configuration ------------------------------------------------------------------------


@dataclass(frozen=True)
class Configuration:
    """Everything a run reads from configuration files, validated together before anything runs."""

    kpi_path: Path  #: config/kpi.yaml or the copy the run was pointed at
    catalog: Catalog
    rules: KpiRules
    benchmarks: BenchmarkFile  #: the clusters of rules.benchmark_year
    quick_check: QuickCheckBenchmark  #: the Quick Check rows of rules.quick_check
    costs: CostConfig
    delivery: DeliveryConfig
    sources: SourcesConfig


def _beside(kpi_config: Path | None, name: str) -> Path | None:
    if kpi_config is not None:
        beside = Path(kpi_config).with_name(name)
        if beside.is_file():
            return beside
    return None


def load_config(
    kpi_path: Path | str | None = None,
    *,
    sources: Path | str | None = None,
    delivery: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    catalog_dir: Path | None = None,
) -> Configuration:
    """Read and validate every configuration file of a run, once.

    ``kpi_path`` is the KPI rules file (default config/kpi.yaml); costs.yaml and delivery.yaml are
    read from beside it when there, else the shipped ones; ``delivery`` names another delivery file;
    ``sources`` is the sources.yaml (None: no API source). Raises ConfigError on the first problem.
    """
    kpi_path = Path(kpi_path or DEFAULT_CONFIG)
    catalog_dir = Path(catalog_dir or CATALOG_DIR)
    catalog = (
        load_catalog_file(catalog_dir / "kpis.yaml") if catalog_dir != CATALOG_DIR else shipped_catalog()
    )
    rules = load_rules(kpi_path, catalog, catalog_dir)
    return Configuration(
        kpi_path=kpi_path,
        catalog=catalog,
        rules=rules,
        benchmarks=load_benchmark_file(rules.benchmark_year, catalog, catalog_dir),
        quick_check=select_quick_check(rules.quick_check, kpi_path, catalog_dir),
        costs=load_cost_config(cost_config_path_for(kpi_path)),
        delivery=delivery_config_for(kpi_path, delivery, env),
        sources=load_sources(sources),
    )


def delivery_config_for(
    kpi_config: Path | None, delivery: Path | str | None = None, env: Mapping[str, str] | None = None
) -> DeliveryConfig:
    """The delivery file named (it must exist), else the one beside the KPI config, else the shipped
    one (a missing default means no delivery)."""
    if delivery is not None:
        return load_delivery_config(Path(delivery), env)
    return load_delivery_config(_beside(kpi_config, "delivery.yaml"), env, required=False)
