"""Report delivery to a real webhook server on 127.0.0.1 (Slack/Teams incoming-webhook shape) and to
a directory; a failed delivery keeps the report and never leaks the webhook URL."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kpi_cli.main import main
from platform_kpi.config import ConfigError, load_delivery_config
from platform_kpi.reporting.delivery import deliver_report
from tests.dashboards.demo import REPORT_MONTH

SECRET_PATH = "/services/T000/B000/s3cr3t-token"


class Webhook(BaseHTTPRequestHandler):
    """Answers like Slack's incoming webhooks: 200 'ok' for a JSON body with text, else 400."""

    received: list[dict] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if self.path != SECRET_PATH or not isinstance(payload, dict) or not payload.get("text"):
            self._answer(400, b"invalid_payload")
            return
        type(self).received.append({"payload": payload, "content_type": self.headers["Content-Type"]})
        self._answer(type(self).status, b"ok" if type(self).status == 200 else b"no_service")

    def _answer(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook():
    Webhook.received = []
    Webhook.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def report(demo: Path, tmp_path: Path) -> Path:
    """A copy of the demo's October report folder (written by write_report when the demo was built)."""
    shutil.copytree(demo / "reports" / "2026-10", tmp_path / "reports" / "2026-10")
    return tmp_path / "reports" / "2026-10"


def config_file(tmp_path: Path, directory: Path | None = None) -> Path:
    path = tmp_path / "delivery.yaml"
    path.write_text(
        "webhook:\n  url_env: TEST_REPORT_WEBHOOK\n"
        f"directory: {json.dumps(str(directory)) if directory else 'null'}\ntimeout_seconds: 5\n"
    )
    return path


def test_posts_the_summary_to_the_webhook_and_copies_to_a_directory(
    webhook, report: Path, tmp_path: Path
) -> None:
    _, url = webhook
    config = load_delivery_config(
        config_file(tmp_path, tmp_path / "shared"), env={"TEST_REPORT_WEBHOOK": url}
    )
    results = deliver_report(report, REPORT_MONTH, config)
    assert [(r.ok, r.detail) for r in results] == [
        (True, "HTTP 200"),
        (True, f"copied to {tmp_path / 'shared' / '2026-10'}"),
    ]
    [call] = Webhook.received
    assert call["content_type"] == "application/json"
    text = call["payload"]["text"]
    assert text.startswith("*Platform KPI report — October 2026*")
    summary = (report / "report.md").read_text().split("## Executive summary")[1].split("\n## ")[0]
    first_bullet = next(line for line in summary.splitlines() if line.startswith("- "))
    assert first_bullet in text
    assert sorted(p.name for p in (tmp_path / "shared" / "2026-10").iterdir()) == [
        "charts",
        "report.html",
        "report.md",
        "report.pdf",
    ]


def test_a_failing_webhook_keeps_the_report_and_hides_the_url(webhook, report: Path, tmp_path: Path) -> None:
    _, url = webhook
    Webhook.status = 404
    config = load_delivery_config(config_file(tmp_path), env={"TEST_REPORT_WEBHOOK": url})
    assert "s3cr3t" not in repr(config)
    [result] = deliver_report(report, REPORT_MONTH, config)
    assert not result.ok and result.detail.startswith("HTTP 404")
    assert "s3cr3t" not in result.detail + result.target
    assert (report / "report.pdf").exists()

    # nothing listens on the port any more: a connection error, still no URL in the message
    server, _ = webhook
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    config = load_delivery_config(
        config_file(tmp_path), env={"TEST_REPORT_WEBHOOK": f"http://127.0.0.1:{port}{SECRET_PATH}"}
    )
    [result] = deliver_report(report, REPORT_MONTH, config)
    assert not result.ok and "could not reach the webhook" in result.detail
    assert "s3cr3t" not in result.detail


def test_kpi_report_delivers_and_exits_3_when_delivery_fails(
    webhook, demo: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    _, url = webhook
    monkeypatch.setenv("TEST_REPORT_WEBHOOK", url)
    args = [
        "report",
        "--month",
        "2026-10",
        "--warehouse",
        str(demo / "warehouse.duckdb"),
        "--out",
        str(tmp_path / "r"),
        "--delivery",
        str(config_file(tmp_path)),
    ]
    assert main(args) == 0
    assert "delivered to webhook ($TEST_REPORT_WEBHOOK): HTTP 200" in capsys.readouterr().out
    Webhook.status = 500
    assert main(args) == 3
    out = capsys.readouterr().out
    assert "NOT delivered" in out and "kept on disk" in out and "s3cr3t" not in out
    assert (tmp_path / "r" / "2026-10" / "report.pdf").exists()


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (
            "webhook:\n  url: https://hooks.slack.com/services/x\n",
            "webhook.url",
            "not allowed: the URL is a secret; name the environment variable that holds it in url_env",
        ),
        ("webhook: {url_env: HOOK}\n", "webhook.url_env", "the value of $HOOK is not an http(s) URL"),
        (
            "webhok: {url_env: HOOK}\n",
            "webhok",
            "unknown key (did you mean webhook?); expected one of: webhook, directory, timeout_seconds",
        ),
        ("timeout_seconds: 0\n", "timeout_seconds", "must be > 0, got the number 0"),
        ("webhook: HOOK\n", "webhook", "must be a mapping (key: value), got the text 'HOOK'"),
    ],
)
def test_mistakes_name_file_key_and_problem(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = tmp_path / "delivery.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_delivery_config(path, env={"HOOK": "ftp://hooks.example.invalid/s3cr3t"})
    assert str(err.value) == f"{path}: {key}: {problem}"
    assert "s3cr3t" not in str(err.value)


def test_a_named_delivery_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_delivery_config(tmp_path / "delivery.yaml", env={})
    assert str(err.value) == (
        f"{tmp_path / 'delivery.yaml'}: (file): not found; expected the delivery configuration here. "
        "Pass the path of an existing file."
    )


def test_shipped_config_delivers_nothing_without_the_env_var() -> None:
    config = load_delivery_config(env={})
    assert config.webhook_env == "KPI_REPORT_WEBHOOK_URL" and not config.enabled
