"""L1's alert: a recording past its deadline shows in a metric. `/metrics` serves the
retention run's gauges in Prometheus' format to a scraper holding the token; without a
token configured it does not exist, and a wrong token is refused. The shipped alert
rules name only gauges that exist."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from pydantic import SecretStr

from audora.platform.config import Settings
from audora.platform.metrics.gauges import GAUGES
from audora.platform.runtime import Runtime
from audora.tenants.lifecycle.jobs import run_due_retention

RULES = Path(__file__).resolve().parents[3] / "deploy" / "prometheus" / "audora-alerts.yml"


async def test_metrics_need_the_scrapers_token_and_show_the_retention_gauges(
    api: httpx.AsyncClient, runtime: Runtime, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await api.get("/metrics")).status_code == 404  # no token: no endpoint

    monkeypatch.setattr(settings, "metrics_token", SecretStr("scrape-me"))
    refused = await api.get("/metrics", headers={"authorization": "Bearer wrong"})
    assert refused.status_code == 401

    run = await run_due_retention(runtime)
    answer = await api.get("/metrics", headers={"authorization": "Bearer scrape-me"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert f"audora_recordings_past_deadline {run.overdue}\n" in answer.text
    assert "# TYPE audora_retention_last_run_timestamp_seconds gauge" in answer.text


def test_the_shipped_alert_rules_watch_gauges_that_exist() -> None:
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    names = {gauge.name for gauge in GAUGES}
    for rule in rules:
        assert any(name in rule["expr"] for name in names), rule
    assert any("audora_recordings_past_deadline" in rule["expr"] for rule in rules)
