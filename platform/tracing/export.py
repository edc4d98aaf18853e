"""Spans to an OTLP/HTTP collector through the outbound client (platform/http/outbound.py):
https only, certificates verified, no redirects, no proxy from the environment.

The OTLP exporter package (`opentelemetry-exporter-otlp-proto-http`) posts with its own
`requests` session, outside those rules; this exporter encodes with the same protobuf
encoder (`opentelemetry-exporter-otlp-proto-common`) and posts with ours. It runs in the
batch processor's thread, hence the synchronous client.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import httpx
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from audora.platform.http.outbound import InsecureDestination, outbound_sync_client

log = logging.getLogger(__name__)

TRACES_PATH = "/v1/traces"


def traces_url(endpoint: str) -> str:
    """The collector's traces URL: `endpoint` as given if it already ends in
    /v1/traces, else that path under it. Only https is accepted."""
    if not endpoint.lower().startswith("https://"):
        raise InsecureDestination("AUDORA_OTEL_ENDPOINT must be an https:// URL")
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


class OutboundSpanExporter(SpanExporter):
    """OTLP/HTTP (protobuf) span export over the outbound client."""

    def __init__(self, endpoint: str, *, extra_ca: Path | None = None, timeout: float = 10.0):
        self.url = traces_url(endpoint)
        self._client = outbound_sync_client(extra_ca=extra_ca, timeout=timeout)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        body = encode_spans(spans).SerializeToString()
        try:
            answer = self._client.post(
                self.url, content=body, headers={"content-type": "application/x-protobuf"}
            )
        except (httpx.HTTPError, InsecureDestination) as exc:
            # The exception's type only: its text would name the collector's address.
            log.warning("span export failed: %s", type(exc).__name__)
            return SpanExportResult.FAILURE
        if not answer.is_success:
            log.warning("span export refused by the collector: HTTP %s", answer.status_code)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self._client.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
