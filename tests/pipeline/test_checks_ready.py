"""Great Expectations costs seconds to import and set up; a run gets it ready in the background from its
start, so the domain checks, which come after the load and the models, do not wait for it. A run
without those checks does not load it at all. Each case runs in a fresh process, as `kpi run` does."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.repo import REPO_ROOT

_RUN = """
import json, sys
from pathlib import Path
from pipelines.execute import run_pipeline
from platform_kpi import validation
from tests.pipeline.test_run import write_files
root = Path(sys.argv[1])
summary = run_pipeline(write_files(root / "files"), root / "warehouse.duckdb", checks=sys.argv[2] == "checks")
print(json.dumps({
    "checks_passed": summary.checks_passed,
    "gx_loaded": "great_expectations" in sys.modules,
    "built_in": validation.READY.built_in,
}))
"""


def _run(tmp_path, checks: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(tmp_path), checks], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_checks_find_great_expectations_made_ready_in_the_background(tmp_path):
    ran = _run(tmp_path, "checks")
    assert ran["checks_passed"] >= 9
    assert ran["built_in"] == "prepare-great-expectations"


def test_a_run_without_checks_does_not_load_great_expectations(tmp_path):
    ran = _run(tmp_path, "none")
    assert ran["checks_passed"] == 0 and not ran["gx_loaded"]
