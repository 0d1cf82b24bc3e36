"""One configuration model: every file's mistakes are one ConfigError ``<file>: <key path>: <problem>``,
the CLI prints that one line, and a run reads each configuration file once."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from platform_kpi.catalog import read_groups
from platform_kpi.config import (
    ConfigError,
    load_benchmark_file,
    load_catalog_file,
    load_config,
    load_cost_config,
    load_rules,
    shipped_catalog,
)
from platform_kpi.settings import DEFAULT_CONFIG
from platform_kpi.warehouse import read_connection
from tests.repo import REPO_ROOT

# Every KPI id of the shipped catalog, as the unknown-id message lists them.
KNOWN_IDS = ", ".join(sorted(k.id for k in shipped_catalog().kpis))


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (
            "targets:\n  change_failure_rate: {kind: absolute, op: '=<', value: 0.15}\n",
            "targets.change_failure_rate.op",
            "must be one of <=, >=, <, >, got the text '=<'",
        ),
        (
            "targets:\n  change_failure_rate: {kind: absolute, value: 0.15}\n",
            "targets.change_failure_rate.op",
            "required for absolute targets (op, value)",
        ),
        (
            "targets:\n  rework_rate: {kind: trend, direction: down, op: '<='}\n",
            "targets.rework_rate.op",
            "not a key of trend targets (they take direction, months)",
        ),
        (
            "targets:\n  rework_rate: {kind: trend, direction: down, months: 0}\n",
            "targets.rework_rate.months",
            "must be > 0, got the number 0",
        ),
        (
            "targets:\n  change_failure_rat: {kind: absolute, op: '<=', value: 0.1}\n",
            "targets.change_failure_rat",
            f"unknown KPI id (known: {KNOWN_IDS})",
        ),
        (
            "security:\n  sla_days: {urgent: 3}\n",
            "security.sla_days.urgent",
            "unknown severity (known: critical, high, medium, low)",
        ),
        (
            "security:\n  sla_days: {critical: 0}\n",
            "security.sla_days.critical",
            "must be > 0, got the number 0",
        ),
        (
            "platform_incidents:\n  weights: {SEV1: 10, sev1: 5}\n",
            "platform_incidents.weights.sev1",
            "severity given twice (names are matched case-insensitively)",
        ),
        (
            "platform_incidents:\n  weights: {SEV2: -1}\n",
            "platform_incidents.weights.sev2",
            "must be >= 0, got the number -1",
        ),
        (
            "platform_incidents:\n  owner_team: [platform]\n",
            "platform_incidents.owner_team",
            "unknown key (did you mean owner_teams?); expected one of: owner_teams, services, weights, default_weight",
        ),
        (  # a typo was silently ignored before (the default 24 h was used)
            "incident_link_window_hour: 12\n",
            "incident_link_window_hour",
            "unknown key (did you mean incident_link_window_hours?); expected one of: "
            "production_environment_pattern, incident_link_window_hours, default_branches, benchmark_year, targets, "
            "quick_check, earliest_event_date, future_tolerance_hours, row_drop_threshold, review_bot_logins, holidays, "
            "survey_min_respondents, platform_adoption, security, platform_incidents, slos",
        ),
        (
            "incident_link_window_hours: soon\n",
            "incident_link_window_hours",
            "must be a number, got the text 'soon'",
        ),
        ("incident_link_window_hours: -1\n", "incident_link_window_hours", "must be >= 0, got the number -1"),
        ("default_branches: main\n", "default_branches", "must be a list, got the text 'main'"),
        (
            "production_environment_pattern: '(prod'\n",
            "production_environment_pattern",
            "not a valid regular expression: missing ), unterminated subpattern at position 0",
        ),
        (
            "benchmark_year: 2019\n",
            "benchmark_year",
            "no DORA benchmark file for 2019 (catalog/benchmarks/dora_2019.yaml); available years: 2023, 2024",
        ),
        ("targets: [change_failure_rate]\n", "targets", "must be a mapping (key: value), got a list"),
        ("- benchmark_year: 2024\n", "(top level)", "must be a mapping (key: value), got a list"),
        (
            "benchmark_year: 2024\n  targets: {}\n",
            "line 2, column 10",
            "not valid YAML: mapping values are not allowed here. Fix the file there and run again.",
        ),
    ],
)
def test_kpi_rules_mistakes_name_file_key_and_problem(tmp_path, text, key, problem):
    path = _write(tmp_path, "kpi.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_rules(path)
    assert str(err.value) == f"{path}: {key}: {problem}"
    assert (err.value.file, err.value.key, err.value.problem) == (str(path), key, problem)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "kpi.yaml")
    assert str(err.value) == (
        f"{tmp_path / 'kpi.yaml'}: (file): not found; expected the KPI rules and targets here. "
        "Pass the path of an existing file."
    )


def _catalog_doc() -> dict:
    """A valid catalog: the shipped one's first three KPIs and a headline group of two."""
    doc = yaml.safe_load((REPO_ROOT / "catalog" / "kpis.yaml").read_text())
    doc["kpis"] = doc["kpis"][:3]
    doc["groups"] = [
        {
            "id": "dora",
            "name": "DORA keys",
            "description": "d",
            "headline": True,
            "kpis": ["deployment_frequency", "lead_time_for_changes_p50_hours"],
        }
    ]
    return doc


def _broken_catalog(change) -> dict:
    doc = _catalog_doc()
    change(doc)
    return doc


@pytest.mark.parametrize(
    ("doc", "key", "problem"),
    [
        (
            _broken_catalog(lambda d: d["kpis"][1].update(aggregate="median")),
            "kpis[1].aggregate",
            "must be one of sum, mean, p50, p90, p95, ratio, got the text 'median'",
        ),
        (_broken_catalog(lambda d: d["kpis"][0].pop("measure")), "kpis[0].measure", "required, but missing"),
        (
            _broken_catalog(lambda d: d["kpis"][2].update(id="deployment_frequency")),
            "kpis[2].id",
            "duplicate KPI id deployment_frequency (also kpis[0])",
        ),
        (
            _broken_catalog(lambda d: d["kpis"][0].update(grains=["monthly", "daily"])),
            "kpis[0].grains[1]",
            "must be one of monthly, weekly, got the text 'daily'",
        ),
        (
            _broken_catalog(lambda d: d["kpis"][0].update(tierd=True)),
            "kpis[0].tierd",
            "unknown key (did you mean tiered?); expected one of: id, name, unit, better, measure, aggregate, grains, "
            "empty, tiered, anonymous, definition",
        ),
        (
            _broken_catalog(lambda d: d["groups"][0]["kpis"].append("mttr_hours")),
            "groups[0].kpis[2]",
            "mttr_hours is not a KPI id of the catalog",
        ),
        (
            _broken_catalog(lambda d: d["groups"][0]["kpis"].append("deployment_frequency")),
            "groups[0].kpis[2]",
            "deployment_frequency is listed twice in group dora",
        ),
        (
            _broken_catalog(lambda d: d["groups"].append({**d["groups"][0], "id": "lead"})),
            "groups[1].kpis[0]",
            "deployment_frequency is already in headline group dora; a KPI leads in one headline group only "
            "(list it in a group without headline: true to show it again)",
        ),
        (
            _broken_catalog(lambda d: d["groups"].append({**d["groups"][0], "headline": False})),
            "groups[1].id",
            "duplicate group id dora (also groups[0])",
        ),
        (_broken_catalog(lambda d: d["groups"][0].update(kpis=[])), "groups[0].kpis", "must not be empty"),
    ],
)
def test_catalog_mistakes_name_file_key_and_problem(tmp_path, doc, key, problem):
    path = _write(tmp_path, "kpis.yaml", yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as err:
        load_catalog_file(path)
    assert str(err.value) == f"{path}: {key}: {problem}"


def test_the_valid_catalog_and_a_repeat_outside_headline_groups_load(tmp_path):
    doc = _catalog_doc()
    doc["groups"].append({**doc["groups"][0], "id": "delivery", "headline": False})  # a page repeats a key
    catalog = load_catalog_file(_write(tmp_path, "kpis.yaml", yaml.safe_dump(doc)))
    assert catalog.group("delivery").kpis == ("deployment_frequency", "lead_time_for_changes_p50_hours")


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (
            "year: 2024\nmetrics:\n  deploy_frequency: {better: higher, tiers: {elite: 30, high: 4, medium: 1, low: null}}\n",
            "metrics.deploy_frequency",
            "not a KPI id of the catalog",
        ),
        (
            "year: 2024\nmetrics:\n  change_failure_rate: {better: higher, tiers: {elite: 1, high: 2, medium: 3, low: null}}\n",
            "metrics.change_failure_rate.better",
            "disagrees with the catalog (lower)",
        ),
        (
            "year: 2024\nmetrics:\n  change_failure_rate: {better: lower, tiers: {elite: 0.05, medium: 0.1, high: 0.2, low: null}}\n",
            "metrics.change_failure_rate.tiers",
            "must list elite, high, medium, low in that order",
        ),
        (
            "year: 2024\nmetrics:\n  change_failure_rate: {better: lower, tiers: {elite: five, high: 2, medium: 3, low: null}}\n",
            "metrics.change_failure_rate.tiers.elite",
            "must be a number, got the text 'five'",
        ),
        ("metrics: {}\n", "year", "required, but missing"),
    ],
)
def test_benchmark_mistakes_name_file_key_and_problem(tmp_path, text, key, problem):
    path = tmp_path / "benchmarks" / "dora_2024.yaml"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_benchmark_file(2024, shipped_catalog(), tmp_path)
    assert str(err.value) == f"{path}: {key}: {problem}"


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (
            "reporting_currency: EURO\n",
            "reporting_currency",
            "not a three-letter ISO 4217 code, got the text 'EURO'",
        ),
        ("fx_rates: {EURO: 1.1}\n", "fx_rates.EURO", "not a three-letter ISO 4217 code, got the text 'EURO'"),
        ("fx_rates: {EUR: 0}\n", "fx_rates.EUR", "must be > 0, got the number 0"),
        ("fx_rates: {EUR: true}\n", "fx_rates.EUR", "must be a number, got true"),
        (
            "charge_categories: {unit_costs: [Usage, Refund]}\n",
            "charge_categories.unit_costs[1]",
            "unknown ChargeCategory Refund (known: Usage, Purchase, Tax, Credit, Adjustment)",
        ),
        (
            "ci_compute: {tags: {cost-category: 1}}\n",
            "ci_compute.tags.cost-category",
            "must be text, got the number 1",
        ),
        (  # a typo in a source's settings was silently ignored before (OpenCost's default window was used)
            "sources: {opencost: {url: 'http://127.0.0.1:9', windw: 2d}}\n",
            "sources.opencost.windw",
            "unknown key (did you mean window?); expected one of: url, window, step, aggregate",
        ),
        (
            "sources: {prometheus: {queries: {cpu: x}}}\n",
            "sources.prometheus.queries.cpu",
            "must be one of cpu_usage, cpu_request, memory_usage, memory_request, got the text 'cpu'",
        ),
        (
            "sources: {prometheus: {step: 1x}}\n",
            "sources.prometheus.step",
            "'1x' is not a duration like 60s, 5m or 1h",
        ),
        ("attribution: [service]\n", "attribution", "must be a mapping (key: value), got a list"),
        (
            "sources: {aws_cost_explorer: {start: 2026-13-01}}\n",
            "(file)",
            "not valid YAML: month must be in 1..12. Fix the file there and run again.",
        ),
    ],
)
def test_cost_config_mistakes_name_file_key_and_problem(tmp_path, text, key, problem):
    path = _write(tmp_path, "costs.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_cost_config(path)
    assert str(err.value) == f"{path}: {key}: {problem}"


def test_cli_run_with_a_bad_config_prints_one_line_and_exits(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "services.csv").write_text("service,team\napi,payments\n")
    (tmp_path / "BAD.yaml").write_text(
        "targets:\n  change_failure_rate: {kind: absolute, op: '=<', value: 0.15}\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kpi_cli.main",
            "run",
            "--files",
            "files",
            "--warehouse",
            "w.duckdb",
            "--config",
            "BAD.yaml",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "kpi run: BAD.yaml: targets.change_failure_rate.op: must be one of <=, >=, <, >, got the text '=<'"
    ]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "w.duckdb").exists()  # nothing ran


def test_a_run_reads_each_configuration_file_once_and_writes_the_groups(tmp_path, monkeypatch):
    from pipelines.execute import run_pipeline

    config = tmp_path / "config"
    config.mkdir()
    for name in ("kpi.yaml", "costs.yaml", "delivery.yaml"):
        shutil.copyfile(DEFAULT_CONFIG.with_name(name), config / name)
    sources = _write(
        tmp_path,
        "sources.yaml",
        "github: {base_url: 'http://127.0.0.1:9', repos: [acme/api]}\nservices: [{service: api, team: payments}]\n",
    )
    files = tmp_path / "files"
    files.mkdir()
    (files / "services.csv").write_text("service,team\napi,payments\n")
    texts = {p.name: p.read_text() for p in (*config.iterdir(), sources)}
    parsed: list[str] = []
    safe_load = yaml.safe_load

    def counting(stream):
        parsed.extend(name for name, text in texts.items() if stream == text)
        return safe_load(stream)

    monkeypatch.setattr(yaml, "safe_load", counting)
    run_pipeline(
        files,
        tmp_path / "w.duckdb",
        config=config / "kpi.yaml",
        sources=sources,
        fetch_sources=False,
        as_of=dt.datetime(2030, 1, 1),
    )
    # before: costs.yaml twice (config tables, cost sources), sources.yaml once per source asset and check
    assert sorted(parsed) == ["costs.yaml", "delivery.yaml", "kpi.yaml", "sources.yaml"]
    with read_connection(tmp_path / "w.duckdb") as con:
        groups = con.execute(
            "select group_id, list(kpi_id order by position) from marts.kpi_groups group by group_id, group_order "
            "order by group_order"
        ).fetchall()
        assert read_groups(con) == {g: tuple(ids) for g, ids in groups}
    assert dict(groups) == {g.id: list(g.kpis) for g in shipped_catalog().groups}


def test_shipped_groups_keep_every_page_as_it_was():
    """The groups hold the KPI lists the pages and the report had in code, in the same order; DORA's
    five metrics lead in its two groups (throughput, instability), classic MTTR outside them."""
    throughput = (
        "lead_time_for_changes_p50_hours",
        "deployment_frequency",
        "failed_deployment_recovery_time_p50_hours",
    )
    instability = ("change_failure_rate", "rework_rate")
    tiered = (
        "deployment_frequency",
        "lead_time_for_changes_p50_hours",
        "change_failure_rate",
        "failed_deployment_recovery_time_p50_hours",
    )
    groups = {g.id: g.kpis for g in shipped_catalog().groups}
    assert groups == {
        "throughput": throughput,  # Overview and Service tiles, report summary, team sentences, trend charts
        "instability": instability,
        "also_watched": ("mttr_hours", "deployment_success_rate", "ci_pipeline_success_rate"),
        "service_trends": ("deployment_frequency", "change_failure_rate"),
        "delivery": (
            "deployment_frequency",
            "lead_time_for_changes_p50_hours",
            "lead_time_for_changes_p90_hours",
            "rework_rate",
        ),
        "stability": (
            "change_failure_rate",
            "mttr_hours",
            "failed_deployment_recovery_time_p50_hours",
            "rework_rate",
        ),
        "ci": (
            "ci_pipeline_success_rate",
            "build_duration_p50_sec",
            "build_duration_p95_sec",
            "deployment_success_rate",
        ),
        "costs": (
            "cost_per_build",
            "cost_per_deploy",
            "cloud_cost",
            "cluster_cpu_efficiency",
            "cluster_memory_efficiency",
        ),
        "dora_tiers": (*tiered, "time_to_restore_p50_hours"),  # Teams heat-map, report tier chart
        "team_comparison": ("rework_rate", "mttr_hours", "ci_pipeline_success_rate"),
        # the Delivery page's pull-request flow tiles (issue 12 §3)
        "pr_flow": (
            "coding_time_p50_hours",
            "pickup_time_p50_hours",
            "review_time_p50_hours",
            "deploy_time_p50_hours",
            "pr_size_p50_lines",
            "unreviewed_merge_rate",
        ),
        # the Operations & experience page (issue 15)
        "operations": (
            "support_resolution_time_p50_hours",
            "architecture_review_cycle_time_p50_days",
            "developer_satisfaction",
            "developer_nps",
            "enablement_reach",
            "enablement_sessions_held",
            "enablement_unique_attendees",
            # alert noise and platform incidents (their own section of the page and the report)
            "alert_actionable_ratio",
            "alerts_per_oncall_week",
            "platform_incident_rate",
            "platform_incident_mttr_hours",
            # the SLO section (issue 15)
            "platform_slo_attainment",
            "slo_attainment",
            "slo_error_budget_remaining",
        ),
        # the Platform adoption page and the report's Platform section (issue 13)
        "platform_adoption": (
            "golden_path_adoption_rate",
            "golden_path_scaffolded_rate",
            "golden_path_ci_template_rate",
            "golden_path_owner_rate",
            "golden_path_techdocs_rate",
            "golden_path_runbook_rate",
            "pipeline_template_coverage",
            "pipeline_template_drift_rate",
            "documentation_freshness",
        ),
        # the Security & compliance page's tiles and the report's security section (issue 14)
        "security": (
            "vulnerability_sla_adherence",
            "open_vulnerabilities_past_sla",
            "vulnerability_fix_time_p50_days",
            "policy_compliance_rate",
            "active_waivers",
            "expired_waivers_still_active",
            "artifact_provenance_coverage",
            "iac_drift_rate",
            "provisioning_lead_time_p50_hours",
        ),
    }
    assert [g.id for g in shipped_catalog().groups if g.headline] == ["throughput", "instability"]
    assert shipped_catalog().tiers == ("elite", "high", "medium", "low")


def test_secrets_stay_environment_variable_names(tmp_path):
    from platform_kpi.config import load_delivery_config, load_sources

    url = "https://hooks.example.invalid/services/s3cr3t"
    delivery = load_delivery_config(
        _write(tmp_path, "delivery.yaml", "webhook: {url_env: HOOK}\n"), env={"HOOK": url}
    )
    assert delivery.webhook_url.reveal() == url and delivery.enabled
    assert "s3cr3t" not in repr(delivery) and "s3cr3t" not in str(delivery)
    sources = load_sources(_write(tmp_path, "sources.yaml", "github: {repos: [a/b], token_env: MY_TOKEN}\n"))
    assert sources.sources["github"].token({"MY_TOKEN": "ghp_s3cr3t"}).reveal() == "ghp_s3cr3t"
    with pytest.raises(ConfigError) as err:
        sources.sources["github"].token({})
    assert str(err.value) == (
        f"{tmp_path / 'sources.yaml'}: github.token_env: environment variable MY_TOKEN is not set; it must hold "
        "the github API token (see .env.example)"
    )
