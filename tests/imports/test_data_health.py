"""The Data health page shows each input file's accounting: records read, loaded and quarantined, and
whether they add up, with a warning for an entity whose file is missing."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.conftest import build_warehouse

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")


def test_data_health_shows_every_files_records_loaded_and_quarantined(tmp_path, monkeypatch):
    wh = build_warehouse(
        tmp_path,
        {
            "deployments.csv": "deployment_id,service,environment,status,finished_at\n"
            "d1,api,prod,success,2024-01-02T00:00:00Z\n"
            '"d2,api,prod,success,2024-01-03T00:00:00Z\n'  # line 3: an unbalanced quote
            "d3,api,prod,exploded,2024-01-04T00:00:00Z\n"  # line 4: unknown status
            "\n"
            "d4,api,prod,success,2024-01-05T00:00:00Z\n",
        },
    )
    monkeypatch.setenv("KPI_WAREHOUSE", str(wh))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("views/data_health.py").run()
    assert not at.exception, [e.message for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    # services.csv: 3 records, all loaded; deployments.csv: 4 records, 2 loaded, 2 quarantined.
    assert (metrics["Records read"], metrics["Loaded"], metrics["Quarantined"]) == ("7", "5", "2")
    assert metrics["Files that do not add up"] == "0"
    table = next(d.value for d in at.dataframe if "adds_up" in d.value.columns)
    deployments = table[table["file"] == "deployments.csv"].iloc[0]
    assert (deployments["records"], deployments["loaded"], deployments["quarantined"]) == (4, 2, 2)
    assert (deployments["lines"], deployments["blank_lines"], bool(deployments["adds_up"])) == (6, 1, True)
    warnings = [w.value for w in at.warning]
    assert (
        "**changes**: no changes.csv or changes.jsonl in the folder; nothing was loaded for changes."
        in warnings
    )
