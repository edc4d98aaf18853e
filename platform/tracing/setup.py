"""OpenTelemetry tracing, optional and off by default: on only when
`AUDORA_OTEL_ENDPOINT` names an OTLP/HTTP collector.

Off, nothing of OpenTelemetry is imported (the SDK and the exporter load inside
`tracing_from_settings`, only when an endpoint is set), no middleware wraps the API and
no wrapper wraps a job. On, the API and the worker each get a tracer provider of their
own, never the process-global one, so that no library's auto-instrumentation (which
would record URLs, headers and client addresses) finds a provider to write to. Spans
are made by Audora's own middleware and job wrapper only, with the attributes of
platform/tracing/names.py; none is taken from an incoming `traceparent` either, so a
client can neither join our traces nor force them sampled.

Spans leave through the outbound client (platform/tracing/export.py): https only,
verified TLS, no redirects. A collector on loopback in development gets a certificate
from the local CA and is trusted through `AUDORA_OUTBOUND_CA_FILE`, like any other
private endpoint; there is no plain-http exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from audora.platform.config import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer

API_SERVICE = "audora-api"
WORKER_SERVICE = "audora-worker"


@dataclass(frozen=True)
class Tracing:
    """A tracer and the provider behind it, which `shutdown` flushes and stops."""

    tracer: Tracer
    provider: TracerProvider

    def shutdown(self) -> None:
        self.provider.shutdown()


def tracing_with(
    exporter: SpanExporter, service: str, *, sample_ratio: float = 1.0, batch: bool = True
) -> Tracing:
    """A tracer for `service` whose spans go to `exporter` (batched in a background
    thread, or one by one as they end when `batch` is false, as tests want)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

    provider = TracerProvider(
        # Resource(...) rather than Resource.create(): no detectors, no environment
        # variables, so no host name or process details ride along.
        resource=Resource({"service.name": service}),
        sampler=TraceIdRatioBased(sample_ratio),
    )
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    return Tracing(provider.get_tracer("audora"), provider)


def tracing_from_settings(settings: Settings, service: str) -> Tracing | None:
    """The process's tracing when `AUDORA_OTEL_ENDPOINT` is set; None (and nothing
    imported) when it is not."""
    if not settings.otel_endpoint:
        return None
    from audora.platform.tracing.export import OutboundSpanExporter

    exporter = OutboundSpanExporter(settings.otel_endpoint, extra_ca=settings.outbound_ca_file)
    return tracing_with(exporter, service, sample_ratio=settings.otel_sample_ratio)
