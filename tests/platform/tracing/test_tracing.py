"""Tracing (PROMISES I4 note, S4, E7): optional, off by default and then nothing of
OpenTelemetry is even imported; on, the API and the worker's jobs make spans that name
the route template, method, status, GraphQL operation type and job function, and carry
no customer content, credential, address or tenant."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.worker import func
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import ValidationError

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.http.app import create_app
from audora.platform.http.outbound import InsecureDestination
from audora.platform.jobs.queue import QUEUE, enqueue
from audora.platform.runtime import Runtime
from audora.platform.tls.local_ca import ensure_server_certificate
from audora.platform.tracing.export import OutboundSpanExporter
from audora.platform.tracing.jobs import traced
from audora.platform.tracing.names import ALLOWED_ATTRIBUTES, RESOURCE_ATTRIBUTES
from audora.platform.tracing.setup import API_SERVICE, WORKER_SERVICE, Tracing, tracing_with

from audora_testing import (
    TEST_AGENT,
    TEST_IP,
    GraphQL,
    client_from,
    create_call,
    create_profile,
    run_jobs,
    sign_up,
    upload_path,
)

REPO = Path(__file__).resolve().parents[3]


def _only_allowed(span: ReadableSpan) -> None:
    assert set(span.attributes or {}) <= ALLOWED_ATTRIBUTES, span.attributes
    assert set(span.resource.attributes) <= RESOURCE_ATTRIBUTES
    assert not span.events  # no exception messages, no logs
    assert span.status.description is None


def _leaks(span: ReadableSpan, *secrets: str) -> list[str]:
    text = span.to_json()
    return [s for s in secrets if s in text]


@pytest.fixture(scope="module")
def exported() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture(scope="module")
async def traced_api(
    settings: Settings, clock: FrozenClock, exported: InMemorySpanExporter
) -> AsyncIterator[httpx.AsyncClient]:
    tracing = tracing_with(exported, API_SERVICE, batch=False)
    app = create_app(settings, clock=clock, tracing=tracing)
    async with app.router.lifespan_context(app), client_from(app, TEST_IP, TEST_AGENT) as client:
        yield client


def _span(exported: InMemorySpanExporter, name: str) -> ReadableSpan:
    (span,) = [s for s in exported.get_finished_spans() if s.name == name]
    return span


async def test_a_graphql_request_makes_one_span_with_route_method_status_and_operation_type(
    traced_api: httpx.AsyncClient, exported: InMemorySpanExporter
) -> None:
    exported.clear()
    owner = await sign_up(GraphQL(traced_api), "Traced Studio")

    span = _span(exported, "POST /graphql")
    assert dict(span.attributes or {}) == {
        "http.request.method": "POST",
        "http.route": "/graphql",
        "http.response.status_code": 200,
        "graphql.operation.type": "mutation",
    }
    assert dict(span.resource.attributes) == {"service.name": "audora-api"}
    assert span.parent is None  # a root: no client-supplied trace context
    _only_allowed(span)
    assert _leaks(span, owner["email"], owner["token"], "Traced Studio", TEST_IP, TEST_AGENT) == []


async def test_a_path_carrying_a_secret_is_named_by_its_route_template_only(
    traced_api: httpx.AsyncClient, exported: InMemorySpanExporter
) -> None:
    gql = GraphQL(traced_api)
    owner = await sign_up(gql, "Ticket Studio")
    profile = await create_profile(gql, owner["token"], "Brightside Dental")
    call_id = await create_call(gql, owner["token"], profile["id"], "Discovery")
    path = await upload_path(gql, owner["token"], call_id)
    ticket = path.rsplit("/", 1)[-1]
    exported.clear()

    refused = await traced_api.put(
        path, content=b"not audio", headers={"content-type": "text/plain"}
    )
    missing = await traced_api.get(f"/nowhere/{owner['email']}?token={owner['token']}")

    assert refused.status_code == 415
    upload = _span(exported, "PUT /uploads/{ticket}")
    assert dict(upload.attributes or {}) == {
        "http.request.method": "PUT",
        "http.route": "/uploads/{ticket}",
        "http.response.status_code": 415,
    }
    assert missing.status_code == 404
    unknown = _span(exported, "GET")  # no route: the path is never used as a name
    assert dict(unknown.attributes or {}) == {
        "http.request.method": "GET",
        "http.response.status_code": 404,
    }
    for span in (upload, unknown):
        _only_allowed(span)
        assert _leaks(span, ticket, owner["email"], owner["token"], call_id) == []


async def test_a_graphql_query_and_an_unknown_method_are_named_without_client_text(
    traced_api: httpx.AsyncClient, exported: InMemorySpanExporter
) -> None:
    exported.clear()
    await traced_api.post(
        "/graphql", json={"query": "query SecretPlanForAcme { me { user { id } } }"}
    )
    await traced_api.request("BREW", "/healthz")

    query = _span(exported, "POST /graphql")
    assert query.attributes is not None
    assert query.attributes["graphql.operation.type"] == "query"
    assert _leaks(query, "SecretPlanForAcme") == []
    brew = _span(exported, "_OTHER /healthz")
    assert brew.attributes is not None
    assert brew.attributes["http.response.status_code"] == 405


FAILED_ONCE: set[str] = set()


async def note_for_tenant_job(ctx: dict[str, Any], tenant_id: str, note: str) -> str:
    """A job shaped like Audora's: ids in, fails on its first try with a message quoting
    its arguments (as a careless job might)."""
    if tenant_id not in FAILED_ONCE:
        FAILED_ONCE.add(tenant_id)
        raise ValueError(f"could not handle {note} for {tenant_id}")
    return note


async def test_a_job_makes_a_span_with_its_name_try_and_outcome_only(
    runtime: Runtime, settings: Settings
) -> None:
    exported = InMemorySpanExporter()
    tracing = tracing_with(exported, WORKER_SERVICE, batch=False)
    await runtime.redis.delete(QUEUE)  # other tests' jobs would run in this test's worker
    tenant_id = uuid.uuid4().hex
    note = "budget is 40k for the Acme relaunch"
    await enqueue(settings.redis_url, "note_for_tenant_job", tenant_id, note)
    await enqueue(settings.redis_url, "note_for_tenant_job", tenant_id, note)

    await run_jobs(runtime, traced([func(note_for_tenant_job, max_tries=1)], tracing.tracer))

    spans = exported.get_finished_spans()
    assert [s.name for s in spans] == ["job note_for_tenant_job"] * 2
    outcomes = sorted(
        (dict(s.attributes or {}) for s in spans), key=lambda a: str(a["audora.job.outcome"])
    )
    job = {"audora.job.function": "note_for_tenant_job", "audora.job.try": 1}
    assert outcomes == [{**job, "audora.job.outcome": o} for o in ("error", "ok")]
    assert dict(spans[0].resource.attributes) == {"service.name": "audora-worker"}
    for span in spans:
        _only_allowed(span)
        assert _leaks(span, tenant_id, note, "could not handle") == []
    tracing.shutdown()


def _process_report(env: dict[str, str]) -> dict[str, Any]:
    script = """
import json, sys
from audora.platform.config import get_settings
from audora.platform.http.app import create_app
from audora.platform.jobs.worker import FUNCTIONS, worker_settings
app = create_app(get_settings())
made = worker_settings()
chain, layer = [], app.build_middleware_stack()
while layer is not None:
    chain.append(type(layer).__name__)
    layer = getattr(layer, "app", None)
print(json.dumps({
    "middleware": chain,
    "functions": [f.name if hasattr(f, "name") else f.__name__ for f in made["functions"]],
    "wrapped": all(f.coroutine.__code__.co_filename.endswith("tracing/jobs.py")
                   for f in made["functions"] + made["cron_jobs"]),
    "worker_tracing": "tracing" in made.get("ctx", {}),
    "otel_modules": sorted(m for m in sys.modules if m.startswith("opentelemetry")),
}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return report


def test_tracing_is_off_by_default_and_then_imports_nothing_of_opentelemetry(
    stack_env: dict[str, str],
) -> None:
    env = {k: v for k, v in stack_env.items() if not k.startswith("AUDORA_OTEL")}
    off = _process_report(env)
    assert off["otel_modules"] == []
    assert "TracingMiddleware" not in off["middleware"]
    assert not off["wrapped"]
    assert not off["worker_tracing"]

    on = _process_report({**env, "AUDORA_OTEL_ENDPOINT": "https://localhost:4318"})
    assert on["middleware"][:2] == ["RequestMetrics", "TracingMiddleware"]
    assert on["wrapped"]  # every job and cron job, under its own name
    assert on["functions"] == off["functions"]
    assert on["worker_tracing"]
    assert "opentelemetry.sdk.trace" in on["otel_modules"]


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []  # noqa: RUF012 (one server per test module)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.append((self.path, self.headers["content-type"], body))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A stand-in OTLP/HTTP collector over TLS, its certificate from a test CA."""
    made = ensure_server_certificate(tmp_path_factory.mktemp("collector-ca"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(made.cert_file, made.key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_address[1]}", made.ca_file
    finally:
        server.shutdown()
        server.server_close()


def _one_span(tracing: Tracing) -> None:
    with tracing.tracer.start_as_current_span("job example_job") as span:
        span.set_attribute("audora.job.function", "example_job")


def test_spans_reach_the_collector_as_otlp_over_verified_tls(
    collector: tuple[str, Path],
) -> None:
    url, ca_file = collector
    _Collector.received.clear()
    tracing = tracing_with(OutboundSpanExporter(url, extra_ca=ca_file), WORKER_SERVICE)
    _one_span(tracing)
    tracing.shutdown()  # flushes the batch

    ((path, content_type, body),) = _Collector.received
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    request = ExportTraceServiceRequest.FromString(body)
    (resource_spans,) = request.resource_spans
    assert [a.key for a in resource_spans.resource.attributes] == ["service.name"]
    (span,) = resource_spans.scope_spans[0].spans
    assert span.name == "job example_job"
    assert [(a.key, a.value.string_value) for a in span.attributes] == [
        ("audora.job.function", "example_job")
    ]


def test_a_collector_without_a_trusted_certificate_or_https_gets_nothing(
    collector: tuple[str, Path],
) -> None:
    url, _ = collector
    _Collector.received.clear()
    untrusted = OutboundSpanExporter(url)  # its CA not given: the system store only
    assert untrusted.export([]) is SpanExportResult.FAILURE
    untrusted.shutdown()
    assert _Collector.received == []
    with pytest.raises(InsecureDestination):
        OutboundSpanExporter("http://127.0.0.1:4318")
    with pytest.raises(ValidationError, match="AUDORA_OTEL_ENDPOINT must be an https"):
        Settings(otel_endpoint="http://localhost:4318")
