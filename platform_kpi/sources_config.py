"""``sources.yaml``: which systems to read, how their names map to ours, and where the tokens are.

The file names environment variables, never tokens: a token is read from the variable when a sync
starts, and a missing one is an error naming the source and the variable. See
``config/sources.example.yaml`` for every key with comments.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from connectors.http import HttpPolicy, Secret

SOURCES = ("github", "gitlab", "jenkins", "pagerduty", "opsgenie")

DEFAULT_BASE_URLS = {
    "github": "https://api.github.com",
    "gitlab": "https://gitlab.com/api/v4",
    "jenkins": None,
    "pagerduty": "https://api.pagerduty.com",
    "opsgenie": "https://api.opsgenie.com",
}
DEFAULT_TOKEN_ENV = {
    "github": "GITHUB_TOKEN",
    "gitlab": "GITLAB_TOKEN",
    "jenkins": "JENKINS_API_TOKEN",
    "pagerduty": "PAGERDUTY_TOKEN",
    "opsgenie": "OPSGENIE_API_KEY",
}
# What each source lists (the key in sources.yaml).
SCOPE_KEYS = {"github": "repos", "gitlab": "projects", "jenkins": "jobs", "pagerduty": "services", "opsgenie": "services"}


class SourcesConfigError(ValueError):
    """sources.yaml is unusable, or a token variable it names is not set; names file, key or variable."""


@dataclass(frozen=True)
class SourceConfig:
    """One source system as configured: where it is, what to read, how to map its names."""

    name: str
    base_url: str
    token_env: str
    scopes: tuple[str, ...]  #: repos / projects / jobs / services to read
    environments: Mapping[str, str]  #: vendor environment name (lower-case) -> our environment name
    options: Mapping[str, Any] = field(default_factory=dict)  #: source-specific keys

    def token(self, env: Mapping[str, str] | None = None) -> Secret:
        env = os.environ if env is None else env
        value = (env.get(self.token_env) or "").strip()
        if not value:
            raise SourcesConfigError(
                f"{self.name}: environment variable {self.token_env} is not set; it must hold the "
                f"{self.name} API token (see .env.example)"
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
        return [(name, orig, env) for name, cfg in self.sources.items() for orig, env in cfg.environments.items()]


EMPTY = SourcesConfig(path=None, sources={}, services=())


def _list(value: Any, where: str) -> list:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [value]
    if isinstance(value, list):
        return value
    raise SourcesConfigError(f"{where} must be a list")


def _environments(raw: Any, where: str) -> dict[str, str]:
    """``{production: [prod, Prod-EU], staging: [stage]}`` -> ``{'prod': 'production', ...}``."""
    out: dict[str, str] = {}
    if raw is None:
        return out
    if not isinstance(raw, dict):
        raise SourcesConfigError(f"{where}.environments must map our environment names to lists of vendor names")
    for ours, theirs in raw.items():
        for vendor in _list(theirs, f"{where}.environments.{ours}"):
            out[str(vendor).strip().lower()] = str(ours)
    return out


def load_sources_config(path: Path | str | None) -> SourcesConfig:
    """Parse ``sources.yaml``; ``None`` means no API source is configured."""
    if path is None:
        return EMPTY
    path = Path(path)
    if not path.is_file():
        raise SourcesConfigError(f"sources config {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SourcesConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SourcesConfigError(f"{path}: expected a mapping at the top level")
    known = {*SOURCES, "services", "history_days", "lookback_hours", "http"}
    unknown = set(data) - known
    if unknown:
        raise SourcesConfigError(f"{path}: unknown key(s) {sorted(unknown)}; expected some of {sorted(known)}")
    sources: dict[str, SourceConfig] = {}
    for name in SOURCES:
        raw = data.get(name)
        if raw is None or raw.get("enabled", True) is False:
            continue
        if not isinstance(raw, dict):
            raise SourcesConfigError(f"{path}: {name} must be a mapping")
        base_url = raw.get("base_url") or DEFAULT_BASE_URLS[name]
        if not base_url:
            raise SourcesConfigError(f"{path}: {name}.base_url is required")
        scopes = tuple(str(s) for s in _list(raw.get(SCOPE_KEYS[name]), f"{name}.{SCOPE_KEYS[name]}"))
        if not scopes and name != "opsgenie":
            raise SourcesConfigError(f"{path}: {name}.{SCOPE_KEYS[name]} lists nothing to read")
        options = {
            k: v for k, v in raw.items()
            if k not in ("base_url", "token_env", SCOPE_KEYS[name], "environments", "enabled")
        }
        sources[name] = SourceConfig(
            name=name,
            base_url=str(base_url),
            token_env=str(raw.get("token_env") or DEFAULT_TOKEN_ENV[name]),
            scopes=scopes,
            environments=_environments(raw.get("environments"), f"{path}: {name}"),
            options=options,
        )
    services = []
    seen = set()
    for i, entry in enumerate(_list(data.get("services"), "services")):
        if not isinstance(entry, dict) or not entry.get("service") or not entry.get("team"):
            raise SourcesConfigError(f"{path}: services[{i}] needs at least `service` and `team`")
        name = str(entry["service"])
        if name in seen:
            raise SourcesConfigError(f"{path}: service {name} is listed twice")
        seen.add(name)
        locations: list[tuple[str, str, str | None]] = []
        repo = entry.get("repo")
        paths = [str(p) for p in _list(entry.get("paths"), f"services[{i}].paths")] or [None]
        if repo:
            for src in ("github", "gitlab"):
                locations += [(src, str(repo), p) for p in paths]
        for src, key in (
            ("gitlab", "gitlab_projects"),
            ("jenkins", "jenkins_jobs"),
            ("pagerduty", "pagerduty_services"),
            ("opsgenie", "opsgenie_services"),
        ):
            locations += [(src, str(v), None) for v in _list(entry.get(key), f"services[{i}].{key}")]
        services.append(
            ServiceMapping(
                service=name,
                team=str(entry["team"]),
                tier=str(entry["tier"]) if entry.get("tier") else None,
                repo=str(repo) if repo else None,
                locations=tuple(locations),
            )
        )
    return SourcesConfig(
        path=path,
        sources=sources,
        services=tuple(services),
        history_days=int(data.get("history_days", 400)),
        lookback_hours=float(data.get("lookback_hours", 24)),
        http=HttpPolicy.from_mapping(data.get("http")),
    )
