"""The source checkout the tests run in (data folders, pyproject, docs)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
