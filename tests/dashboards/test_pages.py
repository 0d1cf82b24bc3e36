"""AppTest of every dashboard page on the demo warehouse: numbers equal marts.kpi_monthly, filters
live in the URL, empty states say why, and the SQL page refuses anything but a read-only SELECT."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from platform_kpi.catalog import format_value, kpi_group
from platform_kpi.warehouse import read_connection
from tests.dashboards.demo import TODAY

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
PAGES = [
    "overview",
    "delivery",
    "stability",
    "ci",
    "operations",
    "security",
    "teams",
    "service",
    "platform",
    "data_health",
    "reports",
    "sql",
]


@pytest.fixture
def app(demo: Path, monkeypatch: pytest.MonkeyPatch):
    def _open(page: str = "overview", warehouse: Path | None = None, **params: str) -> AppTest:
        monkeypatch.setenv("KPI_WAREHOUSE", str(warehouse or demo / "warehouse.duckdb"))
        monkeypatch.setenv("KPI_REPORTS_DIR", str(demo / "reports"))
        monkeypatch.setenv("KPI_TODAY", TODAY.isoformat())  # the demo's "today": October is last month
        at = AppTest.from_file(APP, default_timeout=60)
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        if page != "overview":
            at.switch_page(f"views/{page}.py").run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return _open


def sql(warehouse: Path, query: str, params: list | None = None) -> list[dict]:
    with read_connection(warehouse) as con:
        cur = con.execute(query, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def edited_copy(demo: Path, tmp_path: Path, *statements: str) -> Path:
    """A copy of the demo warehouse changed by ``statements`` (the demo itself stays untouched)."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(demo / "warehouse.duckdb", copy)
    con = duckdb.connect(str(copy))
    for statement in statements:
        con.execute(statement)
    con.close()
    return copy


def texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("markdown", "caption", "info", "warning", "error", "success")
        for e in at.get(kind)
    ]
    return "\n".join(str(p) for p in parts)


def kpi_row(warehouse: Path, kpi_id: str, month: str, scope_type: str = "org", scope: str = "all") -> dict:
    rows = sql(
        warehouse,
        "select k.*, d.name from marts.kpi_monthly k join marts.kpi_definitions d using (kpi_id) "
        "where kpi_id = ? and month = cast(? as date) and scope_type = ? and scope = ?",
        [kpi_id, month + "-01", scope_type, scope],
    )
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_demo(app, page: str) -> None:
    at = app(page)
    assert at.title and at.title[0].value
    assert not at.get("error"), [e.value for e in at.get("error")]


def test_overview_tiles_equal_kpi_monthly_for_the_last_full_month(app, demo: Path) -> None:
    at = app()
    metrics = {m.label: m.value for m in at.metric}
    for kid in (*kpi_group("throughput"), *kpi_group("instability")):
        row = kpi_row(demo / "warehouse.duckdb", kid, "2026-10")
        assert metrics[row["name"]] == format_value(row["value"], row["unit"])
    assert "Oct 2026" in texts(at)
    # every tile states its sample size
    cfr = kpi_row(demo / "warehouse.duckdb", "change_failure_rate", "2026-10")
    assert f"n = {cfr['sample_size']:,}" in texts(at)


def test_team_filter_from_the_url_and_back(app, demo: Path) -> None:
    at = app(team="payments", to="2026-06")
    assert at.selectbox(key="f_team").value == "payments"
    services = {o for o in at.selectbox(key="f_service").options} - {"All services"}
    expected = {
        r["service"]
        for r in sql(demo / "warehouse.duckdb", "select service from core.services where team = 'payments'")
    }
    assert services == expected
    row = kpi_row(demo / "warehouse.duckdb", "deployment_frequency", "2026-06", "team", "payments")
    assert {m.label: m.value for m in at.metric}["Deployment frequency"] == format_value(
        row["value"], row["unit"]
    )

    at.selectbox(key="f_team").select("search").run()
    assert at.query_params["team"] == "search"
    assert at.query_params["to"] == "2026-06"
    row = kpi_row(demo / "warehouse.duckdb", "lead_time_for_changes_p50_hours", "2026-06", "team", "search")
    assert {m.label: m.value for m in at.metric}[row["name"]] == format_value(row["value"], row["unit"])

    at.selectbox(key="f_team").select("All teams").run()
    assert "team" not in at.query_params  # defaults stay out of the link


def test_unknown_values_in_the_url_fall_back_to_defaults(app) -> None:
    at = app(team="no-such-team", to="1999-01")
    assert at.selectbox(key="f_team").value == "All teams"
    assert at.selectbox(key="f_to").value == "2026-10"


def test_filters_follow_the_user_across_pages(app, demo: Path) -> None:
    at = app("delivery", service="payments-queue")
    assert at.title[0].value == "Delivery"
    assert at.selectbox(key="f_service").value == "payments-queue"
    assert at.selectbox(key="f_team").value == "All teams"
    at.switch_page("views/ci.py").run()
    assert at.query_params["service"] == "payments-queue"
    row = kpi_row(
        demo / "warehouse.duckdb", "ci_pipeline_success_rate", "2026-10", "service", "payments-queue"
    )
    assert {m.label: m.value for m in at.metric}[row["name"]] == format_value(row["value"], row["unit"])


def test_environment_filter_narrows_the_deployment_list(app, demo: Path) -> None:
    at = app("delivery", env="staging")
    frames = [d.value for d in at.dataframe]
    deployments_table = next(f for f in frames if "deployment_id" in f.columns)
    assert set(deployments_table["environment"]) == {"staging"}
    assert "production deployments" in texts(at) or at.metric  # KPI tiles stay production-only


def test_charts_carry_definition_and_sample_size(app, demo: Path) -> None:
    at = app("stability")
    assert len(at.get("plotly_chart")) == 4
    total = sql(
        demo / "warehouse.duckdb",
        "select sum(sample_size) as n from marts.kpi_monthly where kpi_id = 'change_failure_rate' "
        "and scope_type = 'org' and month between '2025-11-01' and '2026-10-01'",
    )[0]["n"]
    assert f"n = {int(total):,}" in texts(at)
    assert "Failed / successful production deployments" in texts(at)


def test_teams_heatmap_has_one_row_per_team(app, demo: Path) -> None:
    at = app("teams")
    charts = at.get("plotly_chart")
    heat = charts[0].proto.spec
    teams = sql(demo / "warehouse.duckdb", "select count(distinct team) as n from core.services")[0]["n"]
    assert heat.count('"heatmap"') >= 1
    side = next(d.value for d in at.dataframe if "Team" in d.value.columns).set_index("Team")
    assert len(side) == teams
    met, with_target = sql(
        demo / "warehouse.duckdb",
        "select count(*) filter (where target_met) as met, count(target_met) as n from marts.kpi_monthly "
        "where scope_type = 'team' and scope = 'payments' and month = '2026-10-01'",
    )[0].values()
    assert side.loc["payments", "Targets met"] == f"{met}/{with_target}"


def test_service_drilldown_picker_sets_the_global_filter(app) -> None:
    at = app("service")
    assert at.selectbox(key="service_pick").value is None
    at.selectbox(key="service_pick").select("payments-queue").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="f_service").value == "payments-queue"
    assert at.selectbox(key="f_team").value == "payments"
    assert at.query_params["service"] == "payments-queue"
    assert len(at.metric) == len(kpi_group("throughput")) + len(kpi_group("instability"))


def test_data_health_shows_quarantine_checks_and_the_demo_service_desk_sync(app, demo: Path) -> None:
    at = app("data_health")
    body = texts(at)
    # the demo reads its service desk through the SQL source; the files are the rest
    assert "Source not configured" not in body
    sync = next(d.value for d in at.dataframe if "stream" in d.value.columns)
    assert set(zip(sync["source"], sync["stream"], strict=True)) == {("sql", "tickets"), ("sql", "reviews")}
    quarantined = sql(demo / "warehouse.duckdb", "select count(*) as n from ops.quarantine")[0]["n"]
    assert f"**{quarantined}** input rows" in body
    reasons = next(d.value for d in at.dataframe if list(d.value.columns) == ["entity", "reason", "rows"])
    assert "unknown status exploded" in set(reasons["reason"])
    checks = {m.label: m.value for m in at.metric}
    n_checks = sql(demo / "warehouse.duckdb", "select count(*) as n from ops.check_results")[0]["n"]
    assert checks["Expectations"] == str(n_checks)
    fresh = next(d.value for d in at.dataframe if "newest_event" in d.value.columns)
    alerts = fresh[fresh["table_name"] == "core.alerts"]
    expected = sql(demo / "warehouse.duckdb", "select count(*) as n, max(created_at) as t from core.alerts")[
        0
    ]
    assert list(alerts["source"]) == ["files"] and list(alerts["rows"]) == [expected["n"]]


def test_data_health_lists_connector_syncs_when_configured(app, demo: Path, tmp_path: Path) -> None:
    copy = edited_copy(
        demo,
        tmp_path,
        "drop table if exists ops.sync_state",
        "create table ops.sync_state as select 'github' as source, 'deployments' as stream, "
        "timestamp '2026-11-28 06:00:00' as last_success_at",
    )
    at = app("data_health", warehouse=copy)
    assert "Source not configured" not in texts(at)
    sync = next(d.value for d in at.dataframe if "stream" in d.value.columns)
    assert sync.iloc[0]["source"] == "github"


def test_data_health_without_a_sync_state_table(app, demo: Path, tmp_path: Path) -> None:
    copy = edited_copy(demo, tmp_path, "drop table if exists ops.sync_state")
    at = app("data_health", warehouse=copy)
    assert "Source not configured" in texts(at) and "there is no `ops.sync_state` table" in texts(at)


def test_ci_page_says_when_no_ci_source_is_loaded(app, demo: Path, tmp_path: Path) -> None:
    copy = edited_copy(demo, tmp_path, "delete from core.cicd_builds", "delete from marts.ci_pipeline_stats")
    at = app("ci", warehouse=copy)
    assert "Source not configured" in texts(at) and "No CI builds have been loaded" in texts(at)
    assert not at.get("plotly_chart")


def test_a_filter_without_data_is_explained(app, demo: Path, tmp_path: Path) -> None:
    # a service registered in the catalog that has never deployed, built or had an incident
    copy = edited_copy(
        demo, tmp_path, "insert into core.services values ('ghost-svc', 'payments', null, null, 'files')"
    )
    for page in ("overview", "delivery", "service"):
        at = app(page, warehouse=copy, service="ghost-svc")
        assert at.selectbox(key="f_service").value == "ghost-svc"
        assert "No data for this filter" in texts(at), page
        assert "ghost-svc" in texts(at), page
    at = app("stability", warehouse=copy, service="ghost-svc")
    assert "No incidents for service ghost-svc" in texts(at)


def test_missing_warehouse_is_explained(app, tmp_path: Path) -> None:
    at = app(warehouse=tmp_path / "nothing.duckdb")
    assert "No published warehouse" in texts(at)


def test_exports_offer_csv_and_parquet(app) -> None:
    at = app("ci")
    labels = [b.proto.label for b in at.get("download_button")]
    assert "CSV" in labels and "Parquet" in labels


def test_reports_page_lists_the_demo_report(app) -> None:
    at = app("reports")
    assert at.selectbox(key="report_month").value == "2026-10"
    labels = {b.proto.label for b in at.get("download_button")}
    assert {"HTML", "MD"} <= labels
    assert "Platform KPI report" in texts(at)


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("delete from marts.kpi_monthly", "DELETE refused"),
        ("create table t as select 1", "CREATE refused"),
        ("attach '/tmp/other.duckdb' as other", "ATTACH refused"),
        ("copy marts.kpi_monthly to '/tmp/x.csv'", "COPY refused"),
        ("select * from read_csv('/etc/passwd')", "file system operations are disabled"),
        ("set enable_external_access = true", "SET refused"),
        ("select 1; drop table marts.kpi_monthly", "one statement at a time"),
    ],
)
def test_sql_page_refuses_anything_but_a_select(app, demo: Path, query: str, why: str) -> None:
    at = app("sql")
    at.text_area(key="sql_text").input(query)
    at.button[0].click().run()
    assert at.error and why in at.error[0].value
    assert sql(demo / "warehouse.duckdb", "select count(*) as n from marts.kpi_monthly")[0]["n"] > 0


def test_sql_page_shows_duplicate_columns_and_hugeint_and_reruns_cleanly(app) -> None:
    at = app("sql")
    at.text_area(key="sql_text").input(
        "select 1 as a, 2 as a, 170141183460469231731687303715884105727::hugeint as big, sum(x) as total, "
        "interval 90 minute as gap from range(4) t(x)"
    )
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error
    grid = at.dataframe[0].value
    assert grid.to_dict("records") == [
        {"a": 1, "a_2": 2, "big": "170141183460469231731687303715884105727", "total": 6, "gap": "01:30:00"}
    ]
    assert "duplicate column names made unique: a_2 (a)" in texts(at)
    at.run()  # the result stays in the session and is drawn again on every rerun
    assert not at.exception and at.dataframe[0].value.shape == (1, 5)


def test_sql_page_runs_a_select_and_shows_the_grid(app, demo: Path) -> None:
    at = app("sql")
    at.text_area(key="sql_text").input(
        "select scope, value from marts.kpi_monthly where scope_type = 'team' "
        "and kpi_id = 'deployment_frequency' and month = '2026-10-01' order by scope"
    )
    at.button[0].click().run()
    assert not at.error
    grid = at.dataframe[0].value
    expected = sql(
        demo / "warehouse.duckdb",
        "select scope, value from marts.kpi_monthly where scope_type = 'team' "
        "and kpi_id = 'deployment_frequency' and month = '2026-10-01' order by scope",
    )
    assert grid.to_dict("records") == expected
    assert "CSV" in [b.proto.label for b in at.get("download_button")]


def test_operations_page_tiles_and_tables_follow_the_warehouse(app, demo: Path) -> None:
    wh = demo / "warehouse.duckdb"
    at = app("operations", team="payments")
    tiles = {m.label: m.value for m in at.metric}
    for kid in kpi_group("operations"):
        if kid == "enablement_unique_attendees":  # organisation only: no team row
            continue
        row = kpi_row(wh, kid, "2026-10", "team", "payments")
        if kid in ("developer_satisfaction", "developer_nps"):
            assert row["sample_size"] == 0, kid  # the survey runs in November: October's tiles say n/a
        elif kid in (
            "support_resolution_time_p50_hours",
            "architecture_review_cycle_time_p50_days",
            "alert_actionable_ratio",
            "alerts_per_oncall_week",
        ):
            assert row["sample_size"] > 0, kid
        elif kid in SLO_KPIS:
            assert row["sample_size"] == 0, kid  # payments owns no SLO: its tiles say n/a
        assert tiles[row["name"]] == format_value(row["value"], row["unit"]), kid
    resolved = sql(
        wh,
        "select count(*) as n from core.tickets where team = 'payments' and status = 'RESOLVED' "
        "and resolved_at >= '2026-10-01' and resolved_at < '2026-11-01'",
    )[0]["n"]
    tickets = at.dataframe[0].value
    assert len(tickets) == min(15, resolved) and set(tickets["team"]) == {"payments"}
    assert list(tickets["hours_to_resolve"]) == sorted(tickets["hours_to_resolve"], reverse=True)
    held = sql(
        wh,
        "select count(*) as n from core.enablement_sessions where team = 'payments' "
        "and held_at >= '2026-10-01' and held_at < '2026-11-01'",
    )[0]["n"]
    sessions = at.dataframe[2].value if held else None
    assert held == 0 or (len(sessions) == held and set(sessions["audience"]) == {"payments"})


def test_operations_alert_noise_section_follows_the_warehouse(app, demo: Path) -> None:
    wh = demo / "warehouse.duckdb"
    at = app("operations")
    tiles = {m.label: m.value for m in at.metric}
    for kid in (
        "alert_actionable_ratio",
        "alerts_per_oncall_week",
        "platform_incident_rate",
        "platform_incident_mttr_hours",
    ):
        row = kpi_row(wh, kid, "2026-10")
        assert row["sample_size"] > 0, kid
        assert tiles[row["name"]] == format_value(row["value"], row["unit"]), kid
    frames = {tuple(d.value.columns): d.value for d in at.dataframe}
    teams = frames[("team", "actionable", "alerts per on-call week")]
    expected = sql(
        wh,
        "select scope, value from marts.kpi_monthly where kpi_id = 'alert_actionable_ratio' and "
        "scope_type = 'team' and month = '2026-10-01' and sample_size > 0 order by value, scope",
    )
    assert sorted(zip(teams["team"], teams["actionable"], strict=True)) == sorted(
        (r["scope"], format_value(r["value"], "ratio")) for r in expected
    )
    sources = next(v for k, v in frames.items() if k[0] == "alert_source")
    noisiest = sql(
        wh,
        "select alert_source, count(*) filter (where not is_actionable) as noise from core.alerts "
        "where created_at >= '2026-10-01' and created_at < '2026-11-01' group by 1 order by 2 desc, count(*) desc, 1",
    )
    assert list(sources["alert_source"]) == [r["alert_source"] for r in noisiest][:10]
    assert list(sources["noise"]) == [r["noise"] for r in noisiest][:10]
    assert "Alert noise and platform incidents" in texts(at)


def test_operations_page_without_a_service_desk_still_shows_alert_noise(
    app, demo: Path, tmp_path: Path
) -> None:
    wh = edited_copy(demo, tmp_path, "delete from core.tickets", "delete from core.reviews")
    at = app("operations", warehouse=wh)
    assert "No support tickets or architecture reviews have been loaded" in texts(at)
    assert "Alert noise and platform incidents" in texts(at)
    row = kpi_row(wh, "alert_actionable_ratio", "2026-10")
    assert {m.label: m.value for m in at.metric}[row["name"]] == format_value(row["value"], row["unit"])


SLO_KPIS = ("platform_slo_attainment", "slo_attainment", "slo_error_budget_remaining")


def test_operations_page_slo_section_lists_each_platform_slo_of_the_month(app, demo: Path) -> None:
    wh = demo / "warehouse.duckdb"
    at = app("operations")
    expected = sql(
        wh,
        "select name, slo_attainment, slo_error_budget_remaining, status from marts.slo_monthly "
        "where is_platform and month = '2026-10-01' order by slo_error_budget_remaining, name",
    )
    assert len(expected) == 3  # the demo's CI, cluster and artifact repository SLOs
    table = next(d.value for d in at.dataframe if "slo" in d.value.columns)
    assert table[["slo", "slo_attainment", "slo_error_budget_remaining", "status"]].to_dict("records") == [
        {
            "slo": r["name"],
            "slo_attainment": r["slo_attainment"],
            "slo_error_budget_remaining": r["slo_error_budget_remaining"],
            "status": r["status"],
        }
        for r in expected
    ]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    trend = next(c for c in charts if "Platform SLO attainment" in json.dumps(c["layout"].get("title", "")))
    assert [t["name"] for t in trend["data"]] == ["value", "target"]
    row = kpi_row(wh, "platform_slo_attainment", "2026-10")
    assert {m.label: m.value for m in at.metric}[row["name"]] == format_value(row["value"], "ratio")


# -- Platform adoption (issue 13) ----------------------------------------------------------------

TILES = (
    "golden_path_adoption_rate",
    "pipeline_template_coverage",
    "pipeline_template_drift_rate",
    "documentation_freshness",
)


def _failing(demo: Path, team: str | None = None) -> list[dict]:
    return sql(
        demo / "warehouse.duckdb",
        "select service, catalog_url from marts.golden_path_services where month = '2026-10-01' and is_counted "
        "and not on_golden_path" + (" and team = ?" if team else "") + " order by team, service",
        [team] if team else [],
    )


def test_platform_tiles_and_failing_services_equal_the_marts(app, demo: Path) -> None:
    at = app("platform")
    metrics = {m.label: m.value for m in at.metric}
    for kid in TILES:
        row = kpi_row(demo / "warehouse.duckdb", kid, "2026-10")
        assert metrics[row["name"]] == format_value(row["value"], row["unit"]), kid
    adoption = kpi_row(demo / "warehouse.duckdb", "golden_path_adoption_rate", "2026-10")
    assert f"n = {adoption['sample_size']:,}" in texts(at)
    table = next(m.value for m in at.markdown if "data-testid='failing-services'" in m.value)
    failing = _failing(demo)
    assert 0 < len(failing) < adoption["sample_size"]
    assert table.count("<tr>") == len(failing) + 1  # header + one row per service off the golden path
    for r in failing:
        assert (
            f"<a href='{r['catalog_url']}' target='_blank' rel='noopener noreferrer'>{r['service']}</a>"
            in table
        )
    assert len(at.get("plotly_chart")) >= 4  # adoption trend, funnel, coverage and docs trends


def test_platform_team_filter_narrows_the_failing_services(app, demo: Path) -> None:
    team = sql(
        demo / "warehouse.duckdb",
        "select team from marts.golden_path_services where month = '2026-10-01' and is_counted "
        "and not on_golden_path group by team order by count(*) desc, team limit 1",
    )[0]["team"]
    at = app("platform", team=team)
    table = next(m.value for m in at.markdown if "data-testid='failing-services'" in m.value)
    assert table.count("<tr>") == len(_failing(demo, team)) + 1
    row = kpi_row(demo / "warehouse.duckdb", "golden_path_adoption_rate", "2026-10", "team", team)
    assert {m.label: m.value for m in at.metric}[row["name"]] == format_value(row["value"], "ratio")


def test_platform_page_says_when_no_catalog_is_loaded(app, demo: Path, tmp_path: Path) -> None:
    copy = edited_copy(demo, tmp_path, "delete from marts.golden_path_services", "delete from core.documents")
    at = app("platform", warehouse=copy)
    assert "Source not configured" in texts(at) and "No service catalog, CI scans or documents" in texts(at)
    assert not at.get("plotly_chart")
