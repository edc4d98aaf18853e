"""L1's alert: a recording past its deadline shows in a metric. `/metrics` serves the
retention run's gauges in Prometheus' format to a scraper holding the token; without a
token configured it does not exist, and a wrong token is refused. The shipped alert
rules (I4) name only metrics that exist, and cover requests, latency, the job queue, job
failures, lockouts and R2's unusual access, egress and credential stuffing; every gauge
has a rule, every rule a severity and a line saying what to do, and every cron job of the
worker a rule that fires when its last success is about twice its schedule old."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from audora.platform.config import Settings
from audora.platform.jobs.worker import CRON_JOBS, worker_settings
from audora.platform.metrics import staleness
from audora.platform.metrics.counters import COUNTERS, HISTOGRAMS
from audora.platform.metrics.exposition import LIVE_METRICS
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


def _exposed_names() -> set[str]:
    """Every series name /metrics can carry."""
    names = {gauge.name for gauge in GAUGES} | set(LIVE_METRICS)
    names |= {f"{metric.name}_{part}" for metric in HISTOGRAMS for part in ("sum", "count")}
    return names


def test_the_shipped_alert_rules_watch_metrics_that_exist() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    names = _exposed_names()
    for rule in rules:
        used = set(re.findall(r"audora_[a-z0-9_]+", rule["expr"]))
        assert used, rule
        assert used <= names, (rule["alert"], used - names)
    watched = {name for rule in rules for name in re.findall(r"audora_[a-z0-9_]+", rule["expr"])}
    # I4 and R2's alerts: failures, latency, queue, jobs, lockouts, R2's flags.
    for name in (
        "audora_recordings_past_deadline",
        "audora_http_requests_total",
        "audora_http_request_duration_seconds_bucket",
        "audora_job_queue_due",
        "audora_job_runs_total",
        "audora_login_lockouts_total",
        "audora_tenants_unusual_access",
        "audora_tenants_unusual_egress",
        "audora_auth_credential_stuffing",
    ):
        assert name in watched, name


async def test_every_live_metric_is_in_the_scrape(
    api: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "metrics_token", SecretStr("scrape-me"))
    await api.get("/healthz")
    answer = await api.get("/metrics", headers={"authorization": "Bearer scrape-me"})
    families = {family.name for family in text_string_to_metric_families(answer.text)}
    for metric in COUNTERS:
        assert metric.name in families, metric.name
    for metric in HISTOGRAMS:
        assert metric.name in families, metric.name
    for name in ("audora_job_queue_depth", "audora_job_queue_due", "audora_jobs_in_progress"):
        assert name in families, name


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


# Figures for people reading a dashboard, not conditions to page on: the flag that
# watches them has the rule.
NOT_ALERTS = {"audora_login_failed_emails_15m"}


def test_i4_every_gauge_has_a_rule_with_a_severity_and_what_to_do() -> None:
    rules = _rules()
    watched = {name for rule in rules for name in re.findall(r"audora_[a-z0-9_]+", rule["expr"])}
    for gauge in GAUGES:
        if gauge.name not in NOT_ALERTS:
            assert gauge.name in watched, gauge.name
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["description"], rule["alert"]


def test_i4_every_cron_job_has_a_staleness_rule_about_twice_its_schedule(
    settings: Settings,
) -> None:
    with patch("audora.platform.jobs.worker.get_settings", return_value=settings):
        crons = worker_settings()["cron_jobs"]
    assert {job.name for job in crons} == {job.name for job in CRON_JOBS}
    shipped = {
        rule["expr"]: rule
        for group in yaml.safe_load(RULES.read_text())["groups"]
        if group["name"] == staleness.GROUP
        for rule in group["rules"]
    }
    limits: dict[str, int] = {}
    for rule in shipped.values():
        (name,) = re.findall(r'function="([^"]+)"', rule["expr"])
        limits[name] = int(rule["expr"].rsplit(">", 1)[1])
    assert set(limits) == {job.name for job in crons}
    # The file is what the schedule makes (`python -m audora.platform.metrics.staleness`).
    assert list(shipped.values()) == staleness.staleness_rules(CRON_JOBS)

    hour, day = 3600, 86400
    assert limits["cron:incident_alerts_job"] == 2 * hour  # hourly
    assert limits["cron:vulnerability_report_alerts_job"] == 2 * hour
    assert limits["cron:daily_backups_job"] == 26 * hour  # daily
    assert limits["cron:rotate_due_keys_job"] == 26 * hour
    assert limits["cron:restore_drill_job"] == 8 * day  # weekly
    assert limits["cron:retention_sweep_job"] == 30 * 60  # every ten minutes
    for job in crons:
        period = staleness.cron_period(job).total_seconds()
        assert period < limits[job.name] <= max(2 * period, 1800), job.name
