"""sources.yaml: the shipped example parses; mistakes are errors naming the file and the key."""

from __future__ import annotations

import pytest

from platform_kpi.config import ConfigError
from platform_kpi.sources_config import load_sources_config
from tests.repo import REPO_ROOT


def test_the_example_parses_into_every_source_and_mapping():
    config = load_sources_config(REPO_ROOT / "config" / "sources.example.yaml")
    assert list(config.sources) == [
        "github",
        "gitlab",
        "jenkins",
        "pagerduty",
        "opsgenie",
        "sql",
        "backstage_catalog",
        "github_repo_scans",
        "gitlab_repo_scans",
        "confluence_pages",
        "jira",
        "servicenow",
    ]
    assert config.sources["jira"].scopes == ("tickets", "reviews")
    assert config.sources["servicenow"].options["entities"]["tickets"]["table"] == "sc_req_item"
    assert config.sources["sql"].scopes == ("tickets", "reviews")
    assert config.sources["sql"].token_env == "ITSM_DB_PASSWORD"
    assert ("confluence_pages", "98304", None, "platform-api") in config.mapping_rows()
    assert config.sources["github"].environments["prod-eu"] == "production"
    assert ("github", "acme/monorepo", "services/ledger/", "ledger") in config.mapping_rows()
    assert config.sources["jenkins"].options["deployment_jobs"] == {"payments/deploy-prod": "production"}
    assert config.sources["github"].token_env == "GITHUB_TOKEN"


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (
            "githb: {repos: [a/b]}",
            "githb",
            "unknown key (did you mean github?); expected one of: history_days, "
            "lookback_hours, http, github, gitlab, jenkins, pagerduty, opsgenie, sql, backstage_catalog, "
            "github_repo_scans, gitlab_repo_scans, confluence_pages, hcp_terraform, jira, servicenow, services",
        ),
        ("github: {token_env: X}", "github.repos", "lists nothing to read"),
        (
            "hcp_terraform: {workspaces: [net-prod]}",
            "hcp_terraform.organization",
            "required: the organization whose workspaces to read",
        ),
        (
            "services: [{service: a, team: t}, {service: a, team: u}]",
            "services[1].service",
            "a is listed twice (also services[0])",
        ),
        ("services: [{service: a}]", "services[0].team", "required, but missing"),
        (
            "http: {retries: 3}",
            "http.retries",
            "unknown setting; expected one of: timeout, backoff_base, "
            "backoff_cap, max_attempts, give_up_after, max_rate_limit_wait, secondary_limit_wait",
        ),
        ("http: {timeout: fast}", "http.timeout", "must be a number, got the text 'fast'"),
        (
            "jenkins: {jobs: [payments]}",
            "jenkins.base_url",
            "required: jenkins has no public API to default to",
        ),
        ("github: {repos: [a/b], per_page: 0}", "github.per_page", "must be > 0, got the number 0"),
        # typos in a source's or a service's keys were silently ignored before
        (
            "github: {repos: [a/b], environment: {production: [prod]}}",
            "github.environment",
            "unknown key (did you mean environments?); expected one of: enabled, base_url, token_env, environments, "
            "per_page, recheck_days, freshness_hours, repos, deployment_workflows, run_window_days, pr_flow, "
            "graphql, security_alerts",
        ),
        (
            "services: [{service: a, team: t, pagerduty_service: [P1]}]",
            "services[0].pagerduty_service",
            "unknown key (did you mean pagerduty_services?); expected one of: service, team, tier, repo, paths, "
            "gitlab_projects, jenkins_jobs, pagerduty_services, opsgenie_services, confluence_spaces",
        ),
        ("gitlab: [acme/platform]", "gitlab", "must be a mapping (key: value), got a list"),
        (
            "github: {repos: [a/b]\n",
            "line 2, column 1",
            "not valid YAML: expected ',' or '}', but got '<stream end>' (while parsing a flow mapping at line 1, "
            "column 9). Fix the file there and run again.",
        ),
    ],
)
def test_mistakes_name_file_key_and_problem(tmp_path, text, key, problem):
    path = tmp_path / "sources.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_sources_config(path)
    assert str(err.value) == f"{path}: {key}: {problem}"
