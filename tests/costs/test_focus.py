"""The FOCUS connector: 1.0, 1.1 and 1.2 column sets, CSV, gzipped CSV and Parquet, folders, bad rows."""

from __future__ import annotations

import gzip

import duckdb
import pytest

from connectors import focus
from platform_kpi.costs import load_cost_sources
from platform_kpi.warehouse import write_connection
from tests.costs.helpers import (
    FOCUS_10,
    FOCUS_11,
    FOCUS_12,
    build_cost_warehouse,
    focus_csv,
    focus_row,
    query,
)


def _row(cost: str, **values) -> dict:
    return focus_row(**{"EffectiveCost": cost, "Tags": {"service": "api", "cost-category": "ci"}, **values})


def test_three_versions_load_into_one_costs_table(tmp_path):
    wh = build_cost_warehouse(
        tmp_path,
        {
            "focus/aws/v10.csv": focus_csv([_row("1.5")], FOCUS_10),
            "focus/azure/v11.csv": focus_csv([_row("2.25", ServiceSubcategory="Virtual Machines")], FOCUS_11),
            "focus/gcp/v12.csv": focus_csv(
                [_row("4", InvoiceId="INV-1", PricingCurrency="USD", ServiceSubcategory="Compute Engine")],
                FOCUS_12,
            ),
        },
    )
    rows = query(
        wh,
        "select _file, focus_version, effective_cost, service_subcategory, service, team, cost_kind "
        "from core.costs order by _file",
    )
    assert [(r["_file"], r["focus_version"], r["effective_cost"]) for r in rows] == [
        ("aws/v10.csv", "1.0", 1.5),
        ("azure/v11.csv", "1.1", 2.25),
        ("gcp/v12.csv", "1.2", 4.0),
    ]
    # A later version's optional column is used when present, NULL when the file predates it.
    assert [r["service_subcategory"] for r in rows] == [None, "Virtual Machines", "Compute Engine"]
    assert {(r["service"], r["team"], r["cost_kind"]) for r in rows} == {("api", "payments", "ci_compute")}


def test_gzipped_csv_and_parquet_read_like_csv(tmp_path):
    csv_text = focus_csv(
        [
            _row("3"),
            _row("5", ChargePeriodStart="2026-01-11T00:00:00Z", ChargePeriodEnd="2026-01-12T00:00:00Z"),
        ],
        FOCUS_12,
    )
    src = tmp_path / "src.csv"
    src.write_text(csv_text)
    parquet = tmp_path / "export.parquet"
    con = duckdb.connect()
    # A Parquet export as AWS writes it: typed amounts and instants, Tags as a MAP.
    con.execute(
        f"copy (select * replace ("
        f"  cast(EffectiveCost as decimal(18, 6)) as EffectiveCost,"
        f"  cast(BilledCost as double) as BilledCost,"
        f"  cast(ChargePeriodStart as timestamptz) as ChargePeriodStart,"
        f"  cast(ChargePeriodEnd as timestamptz) as ChargePeriodEnd,"
        f"  json_transform(Tags, '\"MAP(VARCHAR, VARCHAR)\"') as Tags)"
        f" from read_csv('{src}', all_varchar=true)) to '{parquet}' (format parquet)"
    )
    wh = build_cost_warehouse(
        tmp_path,
        {
            "focus/part-1.csv.gz": gzip.compress(csv_text.encode()),
            "focus/part-2.parquet": parquet.read_bytes(),
        },
    )
    rows = query(
        wh,
        "select _file, _line, effective_cost, charge_period_start, service, cost_kind from core.costs "
        "order by _file, _line",
    )
    assert [(r["_file"], r["_line"], r["effective_cost"]) for r in rows] == [
        ("part-1.csv.gz", 2, 3.0),
        ("part-1.csv.gz", 3, 5.0),
        ("part-2.parquet", 1, 3.0),
        ("part-2.parquet", 2, 5.0),
    ]
    assert str(rows[3]["charge_period_start"]) == "2026-01-11 00:00:00"
    assert all(r["service"] == "api" and r["cost_kind"] == "ci_compute" for r in rows)


def test_malformed_rows_are_quarantined_and_the_rest_kept(tmp_path):
    good = focus_csv(
        [_row("10"), _row("abc"), _row("7", ChargeCategory="Refund"), _row("1", Tags="{not json")]
    )
    lines = good.splitlines()
    # Line 6: a record with an extra field (not a CSV record at all).
    broken = "\n".join([*lines, lines[1] + ",surplus"]) + "\n"
    wh = build_cost_warehouse(tmp_path, {"focus/jan.csv": broken})
    kept = query(wh, "select _line, effective_cost from core.costs")
    assert [(r["_line"], r["effective_cost"]) for r in kept] == [(2, 10.0)]
    quarantined = query(wh, "select source, file, line, reason from marts.cost_quarantine order by line")
    assert [(q["file"], q["line"]) for q in quarantined] == [
        ("jan.csv", 3),
        ("jan.csv", 4),
        ("jan.csv", 5),
        ("jan.csv", 6),
    ]
    reasons = [q["reason"] for q in quarantined]
    assert reasons[0] == "EffectiveCost abc is not a number; BilledCost abc is not a number"
    assert reasons[1] == "unknown ChargeCategory Refund"
    assert reasons[2] == "Tags is not a JSON object"
    assert reasons[3].startswith("not a CSV record")


def test_missing_required_column_names_file_and_column(tmp_path):
    columns = tuple(c for c in FOCUS_10 if c != "EffectiveCost")
    with pytest.raises(
        focus.FocusFileError, match=r"v.csv is missing required FOCUS column\(s\) EffectiveCost"
    ):
        build_cost_warehouse(tmp_path, {"focus/v.csv": focus_csv([_row("1")], columns)})


def test_reloading_the_same_files_never_duplicates(tmp_path):
    files = {"focus/jan.csv": focus_csv([_row("10"), _row("20")])}
    wh = build_cost_warehouse(tmp_path, files)
    with write_connection(wh) as con:
        load_cost_sources(con, tmp_path / "warehouse-config" / "kpi.yaml", tmp_path / "warehouse-files")
        assert con.execute(
            "select count(*), sum(effective_cost::double) from raw.focus__costs"
        ).fetchone() == (2, 30.0)


def test_column_names_match_case_insensitively_and_extra_columns_are_ignored(tmp_path):
    text = focus_csv([_row("2")], FOCUS_10)
    header, body = text.split("\n", 1)
    text = header.lower() + ",x_CostCenter\n" + body.rstrip("\n") + ",cc-1\n"
    wh = build_cost_warehouse(tmp_path, {"focus/lower.csv": text})
    assert query(wh, "select effective_cost from core.costs") == [{"effective_cost": 2.0}]


def test_azure_style_csv_with_bom_crlf_and_quoted_commas(tmp_path):
    text = focus_csv([_row("1.25", ChargeDescription="Compute, D4s v5"), _row("2.5")], FOCUS_10)
    data = "\ufeff" + text.replace("\n", "\r\n")
    wh = build_cost_warehouse(tmp_path, {"focus/azure/part_0_0001.csv": data.encode("utf-8")})
    rows = query(wh, "select _line, effective_cost, charge_category from core.costs order by _line")
    assert [(r["_line"], r["effective_cost"], r["charge_category"]) for r in rows] == [
        (2, 1.25, "Usage"),
        (3, 2.5, "Usage"),
    ]
