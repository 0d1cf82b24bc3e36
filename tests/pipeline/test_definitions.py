"""The Dagster code location loads, is wired as documented, and its shape is pinned.

tests/pipeline/definitions_snapshot.txt lists every asset key, asset check, job, job executor and schedule; a rename
or a lost asset shows up here. Regenerate it deliberately with UPDATE_SNAPSHOTS=1.
"""

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from tests.repo import REPO_ROOT

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.txt")


def _shape() -> list[str]:
    from pipelines.definitions import defs

    repo = defs().get_repository_def() if callable(defs) else defs.get_repository_def()
    lines = [f"asset {'/'.join(k.path)}" for k in repo.assets_defs_by_key]
    for checks_def in repo.asset_checks_defs_by_key.values():
        for key in checks_def.check_keys:
            lines.append(f"check {'/'.join(key.asset_key.path)}:{key.name}")
    lines += [f"job {name}" for name in repo.job_names if not name.startswith("__")]
    # The executor of every job, the implicit one behind the UI's "Materialize" included: DuckDB's single
    # writer needs in_process (Dagster's default runs each step in its own process; see pipelines/jobs.py).
    lines += [f"executor {name} {repo.get_job(name).executor_def.name}" for name in repo.job_names]
    lines += [f"schedule {s.name} {s.cron_schedule} {s.job_name}" for s in repo.schedule_defs]
    return sorted(set(lines))


def test_definitions_match_the_snapshot():
    shape = _shape()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text("\n".join(shape) + "\n")
    assert shape == SNAPSHOT.read_text().splitlines()


def test_the_graph_runs_raw_to_report_with_blocking_checks():
    from pipelines.definitions import build_definitions

    repo = build_definitions().get_repository_def()
    graph = repo.asset_graph
    key = next(k for k in graph.get_all_asset_keys() if k.path == ["reports", "monthly_report"])
    upstream = {"/".join(k.path) for k in graph.upstream_key_iterator(key)}
    # The report sits on the published warehouse, which sits on every KPI table and the quarantine.
    assert "ops/published_warehouse" in upstream
    published = next(k for k in graph.get_all_asset_keys() if k.path == ["ops", "published_warehouse"])
    parents = {"/".join(k.path) for k in graph.get(published).parent_keys}
    assert {"marts/kpi_monthly", "marts/kpi_weekly", "ops/quarantine", "core/deployments"} <= parents
    checks = [c for cd in repo.asset_checks_defs_by_key.values() for c in cd.check_specs]
    gx = {c.asset_key.path[-1] for c in checks if c.name.startswith("gx_")}
    assert {"services", "deployments", "changes", "incidents", "cicd_builds"} <= gx
    assert all(c.blocking for c in checks if c.name.startswith(("gx_", "contract_")))


def test_monthly_schedule_writes_the_month_just_ended_on_the_first():
    from pipelines.jobs import monthly_report_schedule

    assert monthly_report_schedule.cron_schedule.split()[2:] == ["1", "*", "*"]


def test_dagster_entry_points_name_the_same_module():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    workspace = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())
    module = pyproject["tool"]["dagster"]["module_name"]
    assert module == "pipelines.definitions"
    assert workspace["load_from"][0]["python_module"]["module_name"] == module


# Our top-level packages, in the order data flows through them. Generic names such as `assets` or
# `connectors` could be shadowed by an installed distribution: each must resolve to this checkout.
PACKAGES = ("platform_kpi", "connectors", "assets", "pipelines", "dashboards", "kpi_cli")

# What each package may import of the others. The library and the source clients never touch
# Dagster; the dashboard reads published data through the library only; Dagster code (assets,
# pipelines) never imports the dashboard or the CLI; nothing imports the CLI.
ALLOWED = {
    "platform_kpi": {"connectors"},
    "connectors": {"platform_kpi"},
    "assets": {"platform_kpi", "connectors"},
    "pipelines": {"platform_kpi", "connectors", "assets"},
    "dashboards": {"platform_kpi"},
    "kpi_cli": {"platform_kpi", "connectors", "pipelines"},
}
NO_DAGSTER = ("platform_kpi", "connectors", "dashboards")


def test_generic_package_names_resolve_to_this_repo():
    import importlib

    for name in PACKAGES:
        package = importlib.import_module(name)
        assert Path(package.__file__).resolve().parent.parent == REPO_ROOT, package.__file__


def _imports(package: str) -> dict[str, set[str]]:
    """Top-level modules each file of ``package`` imports (static, so nothing runs)."""
    found = {}
    for path in (REPO_ROOT / package).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(REPO_ROOT))] = names
    return found


def test_data_flows_one_way():
    for package in PACKAGES:
        forbidden = set(PACKAGES) - ALLOWED[package] - {package}
        if package in NO_DAGSTER:
            forbidden |= {"dagster", "dagster_webserver"}
        for path, names in _imports(package).items():
            assert not names & forbidden, f"{path} imports {sorted(names & forbidden)}"


def test_no_import_cycles_between_modules():
    import graphlib

    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (REPO_ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")
            deps = set()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    deps.add(node.module)
                    deps |= {f"{node.module}.{a.name}" for a in node.names}
                elif isinstance(node, ast.Import):
                    deps |= {a.name for a in node.names}
            graph[module] = deps
    known = {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}
    list(graphlib.TopologicalSorter(known).static_order())  # raises CycleError naming the cycle


def test_dashboard_modules_load_without_dagster():
    code = (
        "import sys, pkgutil, importlib, dashboards\n"
        "for m in pkgutil.walk_packages(dashboards.__path__, 'dashboards.'):\n"
        "    if m.name.startswith('dashboards.pages') or m.name == 'dashboards.app':\n"
        "        continue  # pages draw on import; their imports are checked statically\n"
        "    importlib.import_module(m.name)\n"
        "assert 'dagster' not in sys.modules, 'a dashboard module pulled in dagster'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)


def test_no_module_reads_the_environment_at_import_time():
    # Settings are read when asked for (platform_kpi.settings.load_settings), never at import.
    offenders = []
    for package in PACKAGES:
        for path in (REPO_ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in tree.body:  # module level statements only
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    continue
                if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                    continue  # a docstring
                src = ast.unparse(node)
                if "os.environ" in src or "os.getenv" in src:
                    offenders.append(f"{path.relative_to(REPO_ROOT)}: {src[:80]}")
    assert not offenders, offenders


def test_every_model_is_documented_for_ad_hoc_sql():
    # docs/tables.md is generated by `kpi docs` from a demo warehouse; a new model needs a regeneration.
    from platform_kpi.models import discover_models

    doc = (REPO_ROOT / "docs" / "tables.md").read_text()
    missing = [m.table for m in discover_models() if f"### `{m.table}`" not in doc]
    assert not missing, f"run `kpi docs --warehouse <demo warehouse>`; undocumented: {missing}"
    for table in ("marts.kpi_monthly", "marts.kpi_weekly", "marts.kpi_definitions", "ops.quarantine"):
        assert f"### `{table}`" in doc
