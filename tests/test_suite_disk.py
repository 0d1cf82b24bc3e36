"""The suite's own disk use. A warehouse built for a test takes 14-50 MB even for a few rows; kept to
the end of the run, the suite's folders came to 5.2 GB and filled CI's disk after 608 tests (stop 21).
Only failed tests' folders are kept, and a module's shared folder (``module_tmp``) goes when the
module is done."""

from __future__ import annotations

import tomllib
from pathlib import Path

TESTS = Path(__file__).parent


def test_passing_tests_leave_no_folder_behind() -> None:
    pytest_options = tomllib.loads((TESTS.parent / "pyproject.toml").read_text())["tool"]["pytest"]
    assert pytest_options["ini_options"]["tmp_path_retention_policy"] == "failed"


def test_module_fixtures_use_module_tmp_not_tmp_path_factory() -> None:
    """tmp_path_factory's folders last to the end of the run: only session fixtures (in conftest.py
    files, shared by several modules) may use it."""
    offenders = sorted(
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("test_*.py")
        if path != Path(__file__) and "tmp_path_factory" in path.read_text(encoding="utf-8")
    )
    assert offenders == [], f"use the module_tmp fixture (tests/conftest.py) in {offenders}"
