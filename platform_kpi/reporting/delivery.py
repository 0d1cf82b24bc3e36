"""Delivering a written report: a Slack/Teams-compatible webhook message and/or a copy into a folder
(config/delivery.yaml). Delivery never raises: each target's result is returned."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from platform_kpi.config import DeliveryConfig


@dataclass(frozen=True)
class DeliveryResult:
    target: str  # "webhook (ENV_NAME)" or the directory
    ok: bool
    detail: str


def webhook_message(report_dir: Path, month: dt.date) -> dict:
    """A Slack/Teams-compatible incoming-webhook payload: {"text": ...} with the executive summary."""
    text = (report_dir / "report.md").read_text()
    section = text.split("## Executive summary", 1)[-1].split("\n## ", 1)[0]
    bullets = [line for line in section.splitlines() if line.startswith("- ")]
    body = "\n".join(bullets)
    return {
        "text": f"*Platform KPI report — {month:%B %Y}*\n{body}\n"
        f"Full report (PDF, HTML, Markdown): {report_dir.resolve()}"
    }


def deliver_report(report_dir: Path, month: dt.date, config: DeliveryConfig) -> list[DeliveryResult]:
    """Send a written report to the configured webhook and/or directory. Never raises: a failure is
    returned (and the report stays in ``report_dir``)."""
    import httpx

    results: list[DeliveryResult] = []
    if config.webhook_url:
        target = f"webhook (${config.webhook_env})"
        try:
            response = httpx.post(
                config.webhook_url.reveal(),
                json=webhook_message(report_dir, month),
                timeout=config.timeout_seconds,
            )
            ok = 200 <= response.status_code < 300
            results.append(
                DeliveryResult(
                    target, ok, f"HTTP {response.status_code}" + ("" if ok else f": {response.text[:200]}")
                )
            )
        except httpx.HTTPError as exc:  # the message may hold the URL: keep only the kind of error
            results.append(
                DeliveryResult(target, False, f"{type(exc).__name__}: could not reach the webhook")
            )
    if config.directory:
        target = str(config.directory)
        try:
            dest = config.directory / report_dir.name
            tmp = config.directory / f".{report_dir.name}.{os.getpid()}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            config.directory.mkdir(parents=True, exist_ok=True)
            shutil.copytree(report_dir, tmp)
            if dest.exists():
                shutil.rmtree(dest)
            os.replace(tmp, dest)
            results.append(DeliveryResult(target, True, f"copied to {dest}"))
        except OSError as exc:
            results.append(DeliveryResult(target, False, f"{type(exc).__name__}: {exc.strerror or exc}"))
    return results
