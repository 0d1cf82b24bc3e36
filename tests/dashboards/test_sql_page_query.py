"""The SQL page's query function (dashboards.data.run_readonly_sql) against the security corpus, with
the limits the settings give it (KPI_SQL_*)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dashboards import data
from tests.conftest import build_warehouse
from tests.sql_corpus import ALLOWED, REFUSED


@pytest.fixture(scope="module")
def warehouse(module_tmp: Path) -> Path:
    return build_warehouse(module_tmp, {})


@pytest.mark.parametrize(("query", "why"), REFUSED, ids=[q[:40] for q, _ in REFUSED])
def test_security_corpus_is_refused(warehouse: Path, tmp_path: Path, query: str, why: str) -> None:
    with pytest.raises(data.QueryError) as refused:
        data.run_readonly_sql(warehouse, query.format(tmp=tmp_path))
    assert why in str(refused.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("query", "rows"), ALLOWED, ids=[q[:40] for q, _ in ALLOWED])
def test_legitimate_queries_still_work(warehouse: Path, query: str, rows: list[dict]) -> None:
    assert data.run_readonly_sql(warehouse, query).frame.to_dict("records") == rows


def test_limits_come_from_the_settings(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_SQL_MAX_ROWS", "3")
    result = data.run_readonly_sql(warehouse, "select * from range(10)")
    assert result.truncated and len(result.frame) == 3
    monkeypatch.setenv("KPI_SQL_TIMEOUT_SEC", "2")
    started = time.monotonic()
    with pytest.raises(data.QueryError, match="Stopped after 2 s"):
        data.run_readonly_sql(warehouse, "select sum(x % 7) from range(1000000000000000) t(x)")
    assert time.monotonic() - started < 2 + 2
