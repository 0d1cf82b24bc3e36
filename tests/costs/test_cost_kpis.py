"""Golden tests of the cost KPIs, every expected value computed by hand in the comments.

The organisation: api and web (team payments), indexer (team search). January 2026 has 7 builds
(api 4, web 1, indexer 2) and 3 successful production deployments (api 2, indexer 1); February has
2 api builds and 1 api deployment. config: USD reporting, EUR at 1.1, no rate for GBP; CI compute =
sub-account ci-runners or tag cost-category=ci; deployment = tag cost-category=deploy.
"""

from __future__ import annotations

import pytest

from tests.costs.helpers import build_cost_warehouse, focus_csv, focus_row, kpi, query

BUILD_HEADER = "build_id,service,branch,status,started_at,finished_at"
DEPLOY_HEADER = "deployment_id,service,environment,status,started_at,finished_at"


def _builds() -> str:
    rows = [
        "b1,api,main,success,2026-01-03T10:00:00Z,2026-01-03T10:10:00Z",
        "b2,api,main,failure,2026-01-04T10:00:00Z,2026-01-04T10:10:00Z",
        "b3,api,feature,success,2026-01-05T10:00:00Z,2026-01-05T10:10:00Z",
        "b4,api,main,canceled,2026-01-06T10:00:00Z,2026-01-06T10:01:00Z",
        "b5,web,main,success,2026-01-07T10:00:00Z,2026-01-07T10:10:00Z",
        "b6,indexer,main,success,2026-01-08T10:00:00Z,2026-01-08T10:10:00Z",
        "b7,indexer,main,success,2026-01-31T23:55:00Z,2026-01-31T23:59:00Z",
        "b8,api,main,success,2026-02-02T10:00:00Z,2026-02-02T10:10:00Z",
        "b9,api,main,success,2026-02-03T10:00:00Z,2026-02-03T10:10:00Z",
    ]
    return "\n".join([BUILD_HEADER, *rows]) + "\n"


def _deployments() -> str:
    rows = [
        "d1,api,production,success,2026-01-05T11:00:00Z,2026-01-05T11:05:00Z",
        "d2,api,production,success,2026-01-20T11:00:00Z,2026-01-20T11:05:00Z",
        "d3,indexer,production,success,2026-01-21T11:00:00Z,2026-01-21T11:05:00Z",
        "d4,api,staging,success,2026-01-22T11:00:00Z,2026-01-22T11:05:00Z",  # not production
        "d5,api,production,failed,2026-01-23T11:00:00Z,2026-01-23T11:05:00Z",  # not successful
        "d6,api,production,success,2026-02-05T11:00:00Z,2026-02-05T11:05:00Z",
    ]
    return "\n".join([DEPLOY_HEADER, *rows]) + "\n"


def _costs() -> str:
    ci = {"cost-category": "ci"}
    deploy = {"cost-category": "deploy"}
    rows = [
        # 1: CI compute of api: 40
        focus_row(EffectiveCost="40", Tags={**ci, "service": "api"}),
        # 2: CI compute of team search, no service: 14
        focus_row(EffectiveCost="14", Tags={**ci, "team": "search"}),
        # 3: CI compute of the shared runner account, untagged: 21, unattributed
        focus_row(EffectiveCost="21", SubAccountId="ci-runners"),
        # 4: a credit on api's CI: -10, not a unit cost (Usage only), but reduces cloud_cost
        focus_row(EffectiveCost="-10", ChargeCategory="Credit", Tags={**ci, "service": "api"}),
        # 5: web's CI across the month boundary, 3 h in January and 9 h in February: 24 -> 6 + 18
        focus_row(
            EffectiveCost="24",
            ChargePeriodStart="2026-01-31T21:00:00Z",
            ChargePeriodEnd="2026-02-01T09:00:00Z",
            Tags={**ci, "service": "web"},
        ),
        # 6: api's deployment infrastructure: 30
        focus_row(EffectiveCost="30", Tags={**deploy, "service": "api"}),
        # 7: indexer's deployment infrastructure billed in EUR: 10 EUR x 1.1 = 11 USD
        focus_row(EffectiveCost="10", BillingCurrency="EUR", Tags={**deploy, "app": "indexer"}),
        # 8: api's other usage (neither CI nor deployment): 100, cloud_cost only
        focus_row(EffectiveCost="100", Tags={"service": "api"}),
        # 9: tax, untagged: 5, unattributed, cloud_cost at org scope only
        focus_row(EffectiveCost="5", ChargeCategory="Tax", ServiceName="Tax"),
        # 10: api's CI billed in GBP, no rate: flagged and never summed
        focus_row(EffectiveCost="50", BillingCurrency="GBP", Tags={**ci, "service": "api"}),
    ]
    return focus_csv(rows)


@pytest.fixture(scope="module")
def warehouse(module_tmp):
    tmp = module_tmp
    return build_cost_warehouse(
        tmp, {"builds.csv": _builds(), "deployments.csv": _deployments(), "focus/2026-01.csv": _costs()}
    )


def test_cost_per_build_org_team_service(warehouse):
    # January CI compute in USD, Usage only: 40 + 14 + 21 + 6 = 81, over 7 builds.
    row = kpi(warehouse, "cost_per_build", "2026-01")
    assert row["value"] == pytest.approx(81 / 7)
    assert row["sample_size"] == 7
    assert row["unit"] == "currency"
    # payments: api 40 + web 6 = 46 over api 4 + web 1 builds.
    assert kpi(warehouse, "cost_per_build", "2026-01", "team", "payments")["value"] == pytest.approx(46 / 5)
    # search: 14 (team tag only) over 2 indexer builds.
    assert kpi(warehouse, "cost_per_build", "2026-01", "team", "search")["value"] == pytest.approx(7.0)
    assert kpi(warehouse, "cost_per_build", "2026-01", "service", "api")["value"] == pytest.approx(10.0)
    assert kpi(warehouse, "cost_per_build", "2026-01", "service", "web")["value"] == pytest.approx(6.0)
    # indexer has builds but no CI cost tagged with its service: 0 per build.
    assert kpi(warehouse, "cost_per_build", "2026-01", "service", "indexer")["value"] == pytest.approx(0.0)


def test_month_boundary_split_pro_rata_by_hours(warehouse):
    # February: the 18 (9 of 12 hours) of web's CI over the 2 api builds.
    assert kpi(warehouse, "cost_per_build", "2026-02")["value"] == pytest.approx(9.0)
    assert kpi(warehouse, "cost_per_build", "2026-02", "team", "payments")["value"] == pytest.approx(9.0)
    # web has the cost but no builds in February: no value, sample size 0.
    web = kpi(warehouse, "cost_per_build", "2026-02", "service", "web")
    assert web["value"] is None and web["sample_size"] == 0
    months = query(
        warehouse,
        "select month::varchar as month, cost_rows, split_rows, effective_cost_reporting from marts.cost_monthly "
        "where service = 'web' and cost_kind = 'ci_compute' order by month",
    )
    assert [(r["month"], r["cost_rows"], r["split_rows"], r["effective_cost_reporting"]) for r in months] == [
        ("2026-01-01", 1, 1, pytest.approx(6.0)),
        ("2026-02-01", 1, 1, pytest.approx(18.0)),
    ]


def test_cost_per_deploy_with_two_currencies(warehouse):
    # 30 USD + 10 EUR x 1.1 = 41 over the 3 successful production deployments of January.
    row = kpi(warehouse, "cost_per_deploy", "2026-01")
    assert row["value"] == pytest.approx(41 / 3)
    assert row["sample_size"] == 3
    assert kpi(warehouse, "cost_per_deploy", "2026-01", "service", "api")["value"] == pytest.approx(15.0)
    assert kpi(warehouse, "cost_per_deploy", "2026-01", "service", "indexer")["value"] == pytest.approx(11.0)
    # February: 1 deployment, no deployment cost: 0.
    assert kpi(warehouse, "cost_per_deploy", "2026-02")["value"] == pytest.approx(0.0)


def test_cloud_cost_includes_credits_and_taxes_and_unattributed_at_org_only(warehouse):
    # 40 + 14 + 21 - 10 + 6 + 30 + 11 + 100 + 5 = 217 (GBP left out).
    assert kpi(warehouse, "cloud_cost", "2026-01")["value"] == pytest.approx(217.0)
    # payments: 40 - 10 + 6 + 30 + 100 = 166; search: 14 + 11 = 25; 217 - 166 - 25 = 26 unattributed.
    assert kpi(warehouse, "cloud_cost", "2026-01", "team", "payments")["value"] == pytest.approx(166.0)
    assert kpi(warehouse, "cloud_cost", "2026-01", "team", "search")["value"] == pytest.approx(25.0)
    assert kpi(warehouse, "cloud_cost", "2026-01", "service", "api")["value"] == pytest.approx(160.0)
    assert kpi(warehouse, "cloud_cost", "2026-02")["value"] == pytest.approx(18.0)


def test_unattributed_costs_are_reported(warehouse):
    rows = query(
        warehouse,
        "select cost_kind, charge_category, sub_account_id, unattributed_reason, effective_cost_reporting "
        "from marts.cost_unattributed where month = date '2026-01-01' order by cost_kind",
    )
    assert [(r["cost_kind"], r["charge_category"], r["sub_account_id"]) for r in rows] == [
        ("ci_compute", "Usage", "ci-runners"),
        ("other", "Tax", "222222222222"),
    ]
    assert [r["effective_cost_reporting"] for r in rows] == [pytest.approx(21.0), pytest.approx(5.0)]
    assert all(r["unattributed_reason"] == "no service or team tag" for r in rows)


def test_currency_without_rate_is_flagged_not_summed(warehouse):
    rows = query(warehouse, "select * from marts.cost_currency_flags")
    assert len(rows) == 1
    assert rows[0]["billing_currency"] == "GBP"
    assert rows[0]["effective_cost"] == pytest.approx(50.0)
    assert rows[0]["cost_rows"] == 1
    assert "no rate from GBP to USD" in rows[0]["reason"]


def test_months_without_cost_data_have_no_value(tmp_path):
    # Builds in January, costs only in February: January's cost per build is unknown, not 0.
    wh = build_cost_warehouse(
        tmp_path,
        {
            "builds.csv": _builds(),
            "focus/feb.csv": focus_csv(
                [
                    focus_row(
                        EffectiveCost="8",
                        ChargePeriodStart="2026-02-02T00:00:00Z",
                        ChargePeriodEnd="2026-02-03T00:00:00Z",
                        Tags={"cost-category": "ci"},
                    )
                ]
            ),
        },
    )
    jan = kpi(wh, "cost_per_build", "2026-01")
    assert jan["value"] is None and jan["sample_size"] == 0
    assert kpi(wh, "cost_per_build", "2026-02")["value"] == pytest.approx(4.0)


def test_unit_cost_charge_categories_are_configurable(tmp_path):
    # Counting credits in unit costs too: January CI = 81 - 10 = 71 over 7 builds.
    from tests.costs.helpers import COSTS_YAML

    yaml = COSTS_YAML + "charge_categories:\n  unit_costs: [Usage, Credit]\n"
    wh = build_cost_warehouse(
        tmp_path,
        {"builds.csv": _builds(), "deployments.csv": _deployments(), "focus/2026-01.csv": _costs()},
        costs_yaml=yaml,
    )
    assert kpi(wh, "cost_per_build", "2026-01")["value"] == pytest.approx(71 / 7)
