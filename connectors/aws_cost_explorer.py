"""AWS Cost Explorer: daily cost per service tag and AWS service (GetCostAndUsage).

The AWS SDK (boto3) signs the requests (SigV4) and finds the credentials itself: the usual
``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` (/ ``AWS_SESSION_TOKEN``) variables or a profile; they
are never passed through, logged or stored here. The request asks for ``Granularity=DAILY``, two
metrics (the configured effective one, default ``AmortizedCost``, and ``UnblendedCost`` as billed
cost), grouped by ``TAG <tag>`` and ``DIMENSION SERVICE``, and follows ``NextPageToken`` to the end.
Amounts come back as strings and stay strings in the records (typed in staging). No Dagster imports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

SOURCE = "aws_cost_explorer"
BILLED_METRIC = "UnblendedCost"


class CostExplorerError(RuntimeError):
    """Cost Explorer could not be queried; the message says why and never carries credentials."""


def _client(region: str, endpoint_url: str | None):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "ce",
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=10, read_timeout=60),
    )


def group_records(page: dict[str, Any], page_no: int, metric: str, tag_key: str) -> Iterator[dict[str, Any]]:
    """Flat records of one GetCostAndUsage page: one per day x (tag value, service) group."""
    line = 0
    for result in page.get("ResultsByTime") or []:
        period = result.get("TimePeriod") or {}
        for group in result.get("Groups") or []:
            line += 1
            keys = list(group.get("Keys") or [])
            tag_part = next((k for k in keys if "$" in k), "")
            service = next((k for k in keys if "$" not in k), None)
            # A TAG group key is "<key>$<value>"; "<key>$" means the cost carries no such tag.
            tag_value = tag_part.split("$", 1)[1] if "$" in tag_part else ""
            metrics = group.get("Metrics") or {}
            effective = metrics.get(metric) or {}
            billed = metrics.get(BILLED_METRIC) or {}
            yield {
                "period_start": period.get("Start"),
                "period_end": period.get("End"),
                "tag_key": tag_key,
                "tag_value": tag_value,
                "service_name": service,
                "metric": metric,
                "effective_cost": effective.get("Amount"),
                "effective_unit": effective.get("Unit"),
                "billed_cost": billed.get("Amount"),
                "billed_unit": billed.get("Unit"),
                "estimated": str(bool(result.get("Estimated", False))).lower(),
                "_page": page_no,
                "_line": line,
            }


def fetch_costs(
    *,
    start: dt.date,
    end: dt.date,
    tag_key: str = "service",
    metric: str = "AmortizedCost",
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    max_pages: int = 10_000,
) -> Iterator[dict[str, Any]]:
    """Records of every page of GetCostAndUsage for the days [start, end)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    client = _client(region, endpoint_url)
    metrics = [metric] if metric == BILLED_METRIC else [metric, BILLED_METRIC]
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": metrics,
        "GroupBy": [{"Type": "TAG", "Key": tag_key}, {"Type": "DIMENSION", "Key": "SERVICE"}],
    }
    token: str | None = None
    for page_no in range(1, max_pages + 1):
        try:
            page = client.get_cost_and_usage(**request, **({"NextPageToken": token} if token else {}))
        except NoCredentialsError as exc:
            raise CostExplorerError(
                f"{SOURCE}: no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
            ) from exc
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise CostExplorerError(
                f"{SOURCE}: GetCostAndUsage page {page_no} failed: {err.get('Code', 'error')}: {err.get('Message', '')}"
            ) from exc
        except BotoCoreError as exc:
            raise CostExplorerError(f"{SOURCE}: GetCostAndUsage page {page_no} failed: {exc}") from exc
        yield from group_records(page, page_no, metric, tag_key)
        token = page.get("NextPageToken")
        if not token:
            return
    raise CostExplorerError(f"{SOURCE}: more than {max_pages} pages; narrow the time period")
