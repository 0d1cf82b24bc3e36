"""AWS Cost Explorer through boto3 (its own SigV4 signing) against a local endpoint speaking the
Cost Explorer JSON 1.1 protocol: three pages of GetCostAndUsage, amounts as strings."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from connectors import aws_cost_explorer
from tests.costs.helpers import COSTS_YAML, LocalServer, build_cost_warehouse, kpi, query

TARGET = "AWSInsightsIndexService.GetCostAndUsage"
SECRET = "fake-secret-never-stored-0123456789"


def _group(tag_value: str, service: str, amortized: str, unblended: str) -> dict:
    return {
        "Keys": [f"service${tag_value}", service],
        "Metrics": {
            "AmortizedCost": {"Amount": amortized, "Unit": "USD"},
            "UnblendedCost": {"Amount": unblended, "Unit": "USD"},
        },
    }


def _day(day: int, groups: list[dict], estimated: bool = False) -> dict:
    return {
        "TimePeriod": {"Start": f"2026-01-{day:02d}", "End": f"2026-01-{day + 1:02d}"},
        "Total": {},
        "Groups": groups,
        "Estimated": estimated,
    }


PAGES = {
    None: {
        "ResultsByTime": [
            _day(
                10,
                [
                    _group("api", "Amazon Elastic Compute Cloud - Compute", "12.5", "12.0"),
                    _group("", "AWS Lambda", "3.25", "3.25"),
                ],
            )
        ],
        "NextPageToken": "p2",
    },
    "p2": {
        "ResultsByTime": [
            _day(
                11,
                [
                    _group("web", "Amazon Elastic Compute Cloud - Compute", "7.75", "8.0"),
                    _group("api", "Tax", "1.10", "1.10"),
                ],
                estimated=True,
            )
        ],
        "NextPageToken": "p3",
    },
    "p3": {"ResultsByTime": [_day(11, [_group("indexer", "Amazon Simple Storage Service", "0.40", "0.40")])]},
}


def _cost_explorer(request, body):
    if request.headers.get("X-Amz-Target") != TARGET:
        return (
            400,
            {"Content-Type": "application/x-amz-json-1.1"},
            json.dumps({"__type": "UnknownOperationException", "message": "unknown target"}).encode(),
        )
    doc = json.loads(body)
    if doc["TimePeriod"]["Start"] > doc["TimePeriod"]["End"]:
        return (
            400,
            {"Content-Type": "application/x-amz-json-1.1"},
            json.dumps(
                {"__type": "ValidationException", "message": "Start date must be before end date"}
            ).encode(),
        )
    page = PAGES[doc.get("NextPageToken")]
    return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(page).encode()


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE0000EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


def test_multi_page_sync_into_costs_and_kpis(aws_env, tmp_path):
    with LocalServer(_cost_explorer) as ce:
        yaml = COSTS_YAML.replace(
            "ci_compute:\n", "ci_compute:\n  service_names: ['Amazon Elastic Compute Cloud*']\n"
        )
        yaml += f"""
sources:
  aws_cost_explorer: {{enabled: true, endpoint_url: "{ce.url}", region: us-east-1,
                       start: "2026-01-01", end: "2026-02-01", group_by_tag: service}}
"""
        wh = build_cost_warehouse(tmp_path, {}, costs_yaml=yaml)
        requests = list(ce.requests)

    # Three pages, each signed by the SDK with the credentials from the environment.
    assert len(requests) == 3
    bodies = [json.loads(b) for _m, _p, _h, b in requests]
    assert [b.get("NextPageToken") for b in bodies] == [None, "p2", "p3"]
    assert bodies[0]["Granularity"] == "DAILY"
    assert bodies[0]["TimePeriod"] == {"Start": "2026-01-01", "End": "2026-02-01"}
    assert bodies[0]["Metrics"] == ["AmortizedCost", "UnblendedCost"]
    assert bodies[0]["GroupBy"] == [
        {"Type": "TAG", "Key": "service"},
        {"Type": "DIMENSION", "Key": "SERVICE"},
    ]
    for _m, _p, headers, _b in requests:
        assert headers["X-Amz-Target"] == TARGET
        assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDFAKE0000EXAMPLE/")
        assert "/us-east-1/ce/aws4_request" in headers["Authorization"]
        assert SECRET not in headers["Authorization"]

    rows = query(
        wh,
        "select service_name, charge_category, effective_cost, billed_cost, service, team, cost_kind, "
        "charge_period_start::varchar as day from core.costs order by day, service_name",
    )
    assert [
        (r["day"], r["service_name"], r["effective_cost"], r["service"], r["cost_kind"]) for r in rows
    ] == [
        ("2026-01-10 00:00:00", "AWS Lambda", 3.25, None, "other"),
        ("2026-01-10 00:00:00", "Amazon Elastic Compute Cloud - Compute", 12.5, "api", "ci_compute"),
        ("2026-01-11 00:00:00", "Amazon Elastic Compute Cloud - Compute", 7.75, "web", "ci_compute"),
        ("2026-01-11 00:00:00", "Amazon Simple Storage Service", 0.4, "indexer", "other"),
        ("2026-01-11 00:00:00", "Tax", 1.1, "api", "other"),
    ]
    assert rows[1]["billed_cost"] == 12.0
    assert rows[4]["charge_category"] == "Tax"
    # 12.5 + 3.25 + 7.75 + 1.10 + 0.40 = 25.00; payments: 12.5 + 7.75 + 1.10 = 21.35.
    assert kpi(wh, "cloud_cost", "2026-01")["value"] == pytest.approx(25.0)
    assert kpi(wh, "cloud_cost", "2026-01", "team", "payments")["value"] == pytest.approx(21.35)
    unattributed = query(wh, "select service_name, effective_cost_reporting from marts.cost_unattributed")
    assert unattributed == [{"service_name": "AWS Lambda", "effective_cost_reporting": 3.25}]
    # Nothing secret reaches the warehouse.
    dump = json.dumps(query(wh, "select * from raw.aws_ce__costs"), default=str)
    assert SECRET not in dump and "AKIDFAKE" not in dump


def test_error_response_is_named(aws_env):
    with (
        LocalServer(_cost_explorer) as ce,
        pytest.raises(
            aws_cost_explorer.CostExplorerError,
            match="ValidationException: Start date must be before end date",
        ),
    ):
        list(
            aws_cost_explorer.fetch_costs(
                start=dt.date(2026, 2, 1), end=dt.date(2026, 1, 1), endpoint_url=ce.url
            )
        )


def test_rejected_credentials_are_reported_without_the_secret(aws_env):
    def reject(_request, _body):
        doc = {
            "__type": "UnrecognizedClientException",
            "message": "The security token included in the request is invalid.",
        }
        return 400, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(doc).encode()

    with LocalServer(reject) as ce, pytest.raises(aws_cost_explorer.CostExplorerError) as info:
        list(
            aws_cost_explorer.fetch_costs(
                start=dt.date(2026, 1, 1), end=dt.date(2026, 2, 1), endpoint_url=ce.url
            )
        )
    assert "UnrecognizedClientException: The security token included in the request is invalid." in str(
        info.value
    )
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
