"""sources.yaml: the shipped example parses; mistakes are errors naming the file and the key."""

from __future__ import annotations

import pytest

from platform_kpi.sources_config import SourcesConfigError, load_sources_config
from tests.repo import REPO_ROOT


def test_the_example_parses_into_every_source_and_mapping():
    config = load_sources_config(REPO_ROOT / "config" / "sources.example.yaml")
    assert list(config.sources) == ["github", "gitlab", "jenkins", "pagerduty", "opsgenie"]
    assert config.sources["github"].environments["prod-eu"] == "production"
    assert ("github", "acme/monorepo", "services/ledger/", "ledger") in config.mapping_rows()
    assert config.sources["jenkins"].options["deployment_jobs"] == {"payments/deploy-prod": "production"}
    assert config.sources["github"].token_env == "GITHUB_TOKEN"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("githb: {repos: [a/b]}", "unknown key(s) ['githb']"),
        ("github: {token_env: X}", "github.repos lists nothing to read"),
        ("services: [{service: a, team: t}, {service: a, team: u}]", "service a is listed twice"),
        ("services: [{service: a}]", "services[0] needs at least `service` and `team`"),
        ("http: {retries: 3}", "unknown setting(s) ['retries']"),
    ],
)
def test_mistakes_name_the_key(tmp_path, text, message):
    path = tmp_path / "sources.yaml"
    path.write_text(text)
    with pytest.raises(SourcesConfigError if "setting" not in message else ValueError) as err:
        load_sources_config(path)
    assert message in str(err.value)
