"""Helpers of the cost tests: FOCUS files of a chosen version, a warehouse build that also loads the
cost sources, and a local HTTP server that answers like a vendor API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from connectors import focus
from connectors.files import ENTITIES
from platform_kpi.costs import load_cost_sources
from platform_kpi.loading import load_file_entity, write_config_tables, write_load_errors
from platform_kpi.models import discover_models, execute_model, needed_for
from platform_kpi.settings import DEFAULT_CONFIG
from platform_kpi.warehouse import read_connection, write_connection

SERVICES = "service,team\napi,payments\nweb,payments\nindexer,search\n"
AS_OF = dt.datetime(2030, 1, 1)
# The models the cost tests read and everything they read: other sources' models are not needed here.
TARGETS = {
    ("marts", "kpi_monthly"),
    ("marts", "cost_unattributed"),
    ("marts", "cost_currency_flags"),
    ("marts", "cost_quarantine"),
}


_MODELS = needed_for(discover_models(), set(TARGETS))

FOCUS_10 = focus.REQUIRED + (
    "BillingAccountName",
    "SubAccountId",
    "SubAccountName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "RegionId",
    "ChargeFrequency",
    "Tags",
)
FOCUS_11 = FOCUS_10 + ("ServiceSubcategory",)
FOCUS_12 = FOCUS_11 + ("InvoiceId", "BillingAccountType", "SubAccountType", "PricingCurrency")

COSTS_YAML = """
reporting_currency: USD
fx_rates: {EUR: 1.1}
attribution:
  service_tag_keys: [service, app]
  team_tag_keys: [team]
ci_compute:
  sub_account_ids: [ci-runners]
  tags: {cost-category: ci}
deployment:
  tags: {cost-category: deploy}
"""


def focus_row(**values: Any) -> dict[str, Any]:
    """A FOCUS row: a day of USD usage unless ``values`` say otherwise (``Tags`` may be a dict)."""
    row: dict[str, Any] = {
        "BilledCost": None,
        "EffectiveCost": "0",
        "ListCost": "0",
        "ContractedCost": "0",
        "BillingAccountId": "111111111111",
        "BillingCurrency": "USD",
        "BillingPeriodStart": "2026-01-01T00:00:00Z",
        "BillingPeriodEnd": "2026-02-01T00:00:00Z",
        "ChargeCategory": "Usage",
        "ChargeClass": "",
        "ChargeDescription": "compute",
        "ChargePeriodStart": "2026-01-10T00:00:00Z",
        "ChargePeriodEnd": "2026-01-11T00:00:00Z",
        "PricingQuantity": "1",
        "PricingUnit": "Hours",
        "ProviderName": "AWS",
        "PublisherName": "AWS",
        "ServiceCategory": "Compute",
        "ServiceName": "Amazon Elastic Compute Cloud",
        "SubAccountId": "222222222222",
        "Tags": {},
    }
    row.update(values)
    if row["BilledCost"] is None:
        row["BilledCost"] = row["EffectiveCost"]
    if isinstance(row["Tags"], dict):
        row["Tags"] = json.dumps(row["Tags"]) if row["Tags"] else ""
    return row


def focus_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] = FOCUS_10) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return out.getvalue()


def build_cost_warehouse(
    tmp_path: Path,
    files: dict[str, str | bytes],
    *,
    costs_yaml: str = COSTS_YAML,
    name: str = "warehouse",
    today: dt.date | None = None,
    files_dir: Path | None = None,
) -> Path:
    """Write ``files`` (relative path -> content) and a config folder, then build the warehouse the way
    the refresh job does: canonical files, config tables, cost sources, every SQL model."""
    if files_dir is None:  # else: an existing folder, used as it is
        files_dir = tmp_path / f"{name}-files"
        shutil.rmtree(files_dir, ignore_errors=True)
        files_dir.mkdir(parents=True)
        files = {"services.csv": SERVICES, **files}
    for rel, content in files.items():
        path = files_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    config_dir = tmp_path / f"{name}-config"
    config_dir.mkdir(exist_ok=True)
    config_path = config_dir / "kpi.yaml"
    shutil.copyfile(DEFAULT_CONFIG, config_path)
    (config_dir / "costs.yaml").write_text(costs_yaml)
    warehouse = tmp_path / f"{name}.duckdb"
    warehouse.unlink(missing_ok=True)
    with write_connection(warehouse) as con:
        errors = [load_file_entity(con, files_dir, entity)["load_errors"] for entity in ENTITIES]
        write_load_errors(con, errors)
        write_config_tables(con, config_path, as_of=AS_OF)
        load_cost_sources(con, config_path, files_dir, today=today)
        _ensure_api_tables(con)
        for model in _MODELS:
            execute_model(con, model)
    return warehouse


def _ensure_api_tables(con) -> None:
    """The API sources' raw tables (empty): the domain tables union them with the files'."""
    try:
        from platform_kpi.raw import ensure_tables
    except ImportError:  # no API sources in this tree
        return
    ensure_tables(con)


def query(warehouse: Path, sql: str, params: dict | list | None = None) -> list[dict[str, Any]]:
    with read_connection(warehouse) as con:
        cur = con.execute(sql, params) if params is not None else con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def kpi(
    warehouse: Path, kpi_id: str, month: str, scope_type: str = "org", scope: str = "all"
) -> dict[str, Any]:
    rows = query(
        warehouse,
        "select * from marts.kpi_monthly where kpi_id = $k and month = cast($m || '-01' as date) "
        "and scope_type = $t and scope = $s",
        {"k": kpi_id, "m": month, "t": scope_type, "s": scope},
    )
    assert len(rows) == 1, f"expected one row for {kpi_id} {month} {scope_type}/{scope}, got {rows}"
    return rows[0]


Handler = Callable[[BaseHTTPRequestHandler, bytes], tuple[int, dict[str, str], bytes]]


class LocalServer:
    """A real HTTP server on 127.0.0.1 (own thread); ``handler(request, body)`` gives (status, headers, body).
    Every request is recorded in ``requests`` as (method, path, headers, body)."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        outer = self

        class _H(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append((self.command, self.path, dict(self.headers), body))
                status, headers, payload = handler(self, body)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def json_response(
    doc: Any, status: int = 200, content_type: str = "application/json"
) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": content_type}, json.dumps(doc).encode()
