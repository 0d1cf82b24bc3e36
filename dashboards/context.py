"""What the router hands every page: the warehouse it reads, that file's version and the filters."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboards.filters import Filters

KEY = "_kpi_context"


@dataclass(frozen=True)
class Context:
    warehouse: Path
    version: float
    filters: Filters

    @property
    def db(self) -> tuple[str, float]:
        """The (path, version) pair every cached query takes first."""
        return str(self.warehouse), self.version


def set_context(ctx: Context) -> None:
    st.session_state[KEY] = ctx


def get() -> Context:
    return st.session_state[KEY]
