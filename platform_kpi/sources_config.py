"""``sources.yaml``: which systems to read, how their names map to ours, and where the tokens are.

The file names environment variables, never tokens: a token is read from the variable when a sync
starts, and a missing one is an error naming the source and the variable. See
``config/sources.example.yaml`` for every key with comments. The file's model and the view the
connectors use (``SourcesConfig``) live with every other configuration file's in platform_kpi.config;
this module is where the connectors find them.
"""

from __future__ import annotations

from pathlib import Path

from platform_kpi.config import DEFAULT_BASE_URLS as DEFAULT_BASE_URLS
from platform_kpi.config import DEFAULT_TOKEN_ENV as DEFAULT_TOKEN_ENV
from platform_kpi.config import EMPTY_SOURCES, ConfigError, SourcesConfig, load_sources
from platform_kpi.config import SCOPE_KEYS as SCOPE_KEYS
from platform_kpi.config import SOURCES as SOURCES
from platform_kpi.config import ServiceMapping as ServiceMapping
from platform_kpi.config import SourceConfig as SourceConfig

#: sources.yaml is unusable, or a token variable it names is not set (the one ConfigError type)
SourcesConfigError = ConfigError
EMPTY = EMPTY_SOURCES


def load_sources_config(path: Path | str | None) -> SourcesConfig:
    """Parse ``sources.yaml`` (see platform_kpi.config.SourcesFile); ``None`` means no API source."""
    return load_sources(path)
