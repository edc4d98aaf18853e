"""The counters, histograms and job-queue state in Prometheus' text format.

Read from Redis at scrape time (`counters.py`, `jobs.py`) and rendered by
prometheus-client from a registry made for this one scrape, so nothing is kept
between scrapes in the API process and every process answers alike.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from redis.asyncio import Redis

from audora.platform.metrics.counters import (
    COUNTERS,
    HISTOGRAMS,
    HistogramSeries,
    read_counters,
    read_histograms,
)
from audora.platform.metrics.jobs import QueueState, read_queue


def _cumulative(series: HistogramSeries, bounds: tuple[float, ...]) -> list[tuple[str, float]]:
    running, buckets = 0.0, []
    for bound in bounds:
        running += series.buckets.get(repr(bound), 0.0)
        buckets.append((repr(bound), running))
    buckets.append(("+Inf", series.count))
    return buckets


class _Snapshot(Collector):
    """One scrape's figures, as metric families."""

    def __init__(
        self,
        counters: dict[str, list[tuple[dict[str, str], float]]],
        histograms: dict[str, list[HistogramSeries]],
        queue: QueueState,
    ) -> None:
        self.counters = counters
        self.histograms = histograms
        self.queue = queue

    def collect(self) -> Iterable[Metric]:
        for metric in COUNTERS:
            family = CounterMetricFamily(metric.name, metric.help, labels=metric.labels)
            for labels, value in sorted(self.counters.get(metric.name, []), key=str):
                family.add_metric([labels.get(k, "") for k in metric.labels], value)
            yield family
        for metric in HISTOGRAMS:
            histogram = HistogramMetricFamily(metric.name, metric.help, labels=metric.labels)
            for series in self.histograms.get(metric.name, []):
                histogram.add_metric(
                    [series.labels.get(k, "") for k in metric.labels],
                    _cumulative(series, metric.buckets),
                    series.sum,
                )
            yield histogram
        yield GaugeMetricFamily(
            "audora_job_queue_depth",
            "Jobs in the queue, from enqueueing until they finish (running and deferred "
            "ones included).",
            value=self.queue.depth,
        )
        yield GaugeMetricFamily(
            "audora_job_queue_due",
            "Jobs in the queue whose start time has come.",
            value=self.queue.due,
        )
        yield GaugeMetricFamily(
            "audora_jobs_in_progress", "Jobs running now.", value=self.queue.in_progress
        )
        last = GaugeMetricFamily(
            "audora_job_last_success_timestamp_seconds",
            "When each job function last succeeded, by the application clock.",
            labels=("function",),
        )
        for name, at in sorted(self.queue.last_success.items()):
            last.add_metric([name], at)
        yield last


LIVE_METRICS = (
    *(f"{metric.name}_total" for metric in COUNTERS),
    *(f"{metric.name}_bucket" for metric in HISTOGRAMS),
    "audora_job_queue_depth",
    "audora_job_queue_due",
    "audora_jobs_in_progress",
    "audora_job_last_success_timestamp_seconds",
)


async def render_live(redis: Redis) -> str:
    """Counters, histograms and the job queue in Prometheus' text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        _Snapshot(await read_counters(redis), await read_histograms(redis), await read_queue(redis))
    )
    return generate_latest(registry).decode()
