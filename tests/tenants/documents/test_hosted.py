"""The hosted generator against a local stand-in of an OpenAI-compatible chat API, served
over TLS with a certificate from a test CA, through the official `openai` client and
our outbound HTTP client.

P3: each request carries this call's transcript and labels only; two calls in a row
make two requests, the second holding nothing of the first. P4: store=false, https with
a verified certificate only. The answer is held to the documents' JSON schema: what does
not fit raises an error the pipeline retries; empty sections get open questions.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import pytest
from pydantic import SecretStr

from audora.platform.config import Settings
from audora.platform.http.outbound import InsecureDestination
from audora.platform.tls.local_ca import ensure_server_certificate
from audora.tenants.calls.content import DocumentKind, Segment, Transcript
from audora.tenants.documents.embedded import EmbeddedGenerator
from audora.tenants.documents.generator import CallContext
from audora.tenants.documents.hosted import InvalidGeneratorOutput, OpenAIChatGenerator
from audora.tenants.documents.jsonmodel import schema_of
from audora.tenants.documents.models import (
    Budget,
    ClientBrief,
    Prd,
    Requirement,
    Sow,
    TaskItem,
    TaskList,
    as_json,
)
from audora.tenants.documents.providers import generator_from_settings

API_KEY = "sk-test-stand-in"
EMPTY_BUDGET = Budget(None, None, None, (), (), ())
# What the stand-in model answers: thin documents, so the generator's own filling shows.
CANNED: dict[str, Any] = {
    "prd": as_json(
        Prd(
            problem=("Patients still book by phone.",),
            goals=("Launch before the summer rush, within $48,000.",),
            users=("Patients",),
            requirements=(
                Requirement("An online booking app.", "must", ("Patients book online.",), 20.0),
            ),
            non_goals=(),
            integrations=("Dentrix",),
            constraints=("HIPAA",),
            risks=(),
            open_questions=(),
        )
    ),
    "task_list": as_json(
        TaskList(
            items=(
                TaskItem("Send the statement of work", "Sam", "Friday", "2026-03-06", "medium", 60),
                TaskItem("Share brand guidelines", None, "next week", "soon-ish", "low", 70),
            ),
            open_questions=(),
        )
    ),
    "sow": as_json(
        Sow(
            background=(),
            scope=("Online booking app.",),
            out_of_scope=(),
            deliverables=(),
            timeline=(),
            milestones=(),
            budget=Budget(48_000, "USD", "forty eight thousand dollars", (), (), ()),
            assumptions=(),
            client_responsibilities=(),
            change_control=("The client may change anything at no cost.",),
            open_questions=(),
        )
    ),
    "client_brief": as_json(
        ClientBrief(
            overview=(),
            objectives=(),
            audience=(),
            deliverables=(),
            timeline=(),
            budget=EMPTY_BUDGET,
            mandatory_constraints=(),
            open_questions=(),
        )
    ),
}


@dataclass
class StandIn:
    url: str
    ca: Path
    requests: list[dict[str, Any]] = field(default_factory=list)


class _ChatCompletions(BaseHTTPRequestHandler):
    stand_in: StandIn

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        request = json.loads(body)
        self.stand_in.requests.append(
            {"path": self.path, "authorization": self.headers["authorization"], "body": request}
        )
        mode = self.path.split("/")[1]
        wanted = request["response_format"]["json_schema"]["schema"]["required"]
        if mode == "not-json":
            content = "Here are your documents: {prd: ..."
        elif mode == "misfit":
            content = json.dumps({key: {"summary": "free text"} for key in wanted})
        else:
            content = json.dumps({key: CANNED[key] for key in wanted})
        answer = {
            "id": f"chatcmpl-{len(self.stand_in.requests)}",
            "object": "chat.completion",
            "created": 0,
            "model": request["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    made = ensure_server_certificate(tmp_path_factory.mktemp("stand-in-ca"))
    handler = type("Handler", (_ChatCompletions,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(made.cert_file, made.key_file)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    stand_in = StandIn(f"https://localhost:{server.server_address[1]}", made.ca_file)
    handler.stand_in = stand_in
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()


def _generator(stand_in: StandIn, mode: str = "ok") -> OpenAIChatGenerator:
    return OpenAIChatGenerator(
        base_url=f"{stand_in.url}/{mode}/v1",
        api_key=API_KEY,
        model="stand-in-model",
        extra_ca=stand_in.ca,
    )


FIRST = Transcript(
    "Our practice system is Dentrix. Our budget is forty eight thousand dollars.",
    (
        Segment(0.0, 4.0, "Maria (client)", "Our practice system is Dentrix."),
        Segment(4.0, 9.0, "Maria (client)", "Our budget is forty eight thousand dollars."),
    ),
)
SECOND = Transcript(
    "We need a newsletter signup form.",
    (Segment(0.0, 3.0, None, "We need a newsletter signup form."),),
)
FIRST_CONTEXT = CallContext("Brightside discovery", "Brightside Dental", date(2026, 3, 4))
SECOND_CONTEXT = CallContext("Acme kick-off", "Acme", date(2026, 3, 5))


async def test_each_call_is_one_stateless_request_with_only_its_own_transcript(
    stand_in: StandIn,
) -> None:
    """P3 and P4: store=false, temperature 0, the documents' strict JSON schema, and the
    second call's request holds nothing of the first's."""
    stand_in.requests.clear()
    generator = _generator(stand_in)
    await generator.generate(FIRST, FIRST_CONTEXT)
    await generator.generate(SECOND, SECOND_CONTEXT)
    assert len(stand_in.requests) == 2
    first, second = (r["body"] for r in stand_in.requests)
    for recorded in stand_in.requests:
        assert recorded["path"] == "/ok/v1/chat/completions"
        assert recorded["authorization"] == f"Bearer {API_KEY}"
    for body in (first, second):
        assert body["store"] is False
        assert body["temperature"] == 0
        assert body["model"] == "stand-in-model"
        response_format = body["response_format"]
        assert response_format["type"] == "json_schema"
        assert response_format["json_schema"]["strict"] is True
        schema = response_format["json_schema"]["schema"]
        assert schema["required"] == ["prd", "task_list", "sow", "client_brief"]
        assert schema["properties"]["sow"] == schema_of(Sow)
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
    sent = json.loads(second["messages"][1]["content"])
    assert sent == {
        "call": {"title": "Acme kick-off", "client": "Acme", "date": "2026-03-05"},
        "segments": [
            {"start_seconds": 0.0, "speaker": None, "text": "We need a newsletter signup form."}
        ],
    }
    raw = json.dumps(second)
    for trace in ("Dentrix", "forty eight", "Brightside", "Maria"):
        assert trace not in raw


async def test_the_answer_is_checked_and_completed_like_the_embedded_documents(
    stand_in: StandIn,
) -> None:
    docs = {d.kind: d for d in await _generator(stand_in).generate(FIRST, FIRST_CONTEXT)}
    assert set(docs) == set(DocumentKind)
    prd = docs[DocumentKind.PRD]
    assert prd.title == "Product requirements: Brightside discovery"
    assert "### Must have\n\n1. An online booking app." in prd.markdown
    # Empty sections are open questions, not content.
    assert "Risks: not discussed on the call" in prd.structured["open_questions"]
    # Money said outside the budget is masked; the budget itself is under "Budget".
    assert "48,000" not in prd.markdown
    sow = docs[DocumentKind.SOW]
    assert "## Budget and payment schedule\n\n- Total: $48,000" in sow.markdown
    # Change control is the agency's standard terms, whatever the model wrote.
    assert "no cost" not in sow.markdown
    assert all("agency's standard terms" in c for c in sow.structured["change_control"])
    brief = docs[DocumentKind.CLIENT_BRIEF]
    assert "Budget: not discussed on the call" in brief.structured["budget"]["open_questions"]
    items = docs[DocumentKind.TASK_LIST].structured["items"]
    assert items[1]["due_date"] is None  # "soon-ish" is not a date
    assert "owner not named on the call" in docs[DocumentKind.TASK_LIST].markdown


async def test_both_generators_render_the_same_model_the_same_way(stand_in: StandIn) -> None:
    """The hosted generator's documents go through the embedded one's renderer: the same
    headings in the same order."""
    hosted = await _generator(stand_in).generate(FIRST, FIRST_CONTEXT)
    embedded = await EmbeddedGenerator().generate(FIRST, FIRST_CONTEXT)
    for h, e in zip(hosted, embedded, strict=True):
        assert h.kind == e.kind
        headings = [line for line in h.markdown.splitlines() if line.startswith("## ")]
        assert headings == [line for line in e.markdown.splitlines() if line.startswith("## ")]
        assert set(h.structured) == set(e.structured)


async def test_only_the_kinds_asked_for_are_requested(stand_in: StandIn) -> None:
    stand_in.requests.clear()
    docs = await _generator(stand_in).generate(FIRST, FIRST_CONTEXT, {DocumentKind.TASK_LIST})
    assert [d.kind for d in docs] == [DocumentKind.TASK_LIST]
    schema = stand_in.requests[0]["body"]["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["task_list"]


@pytest.mark.parametrize("mode", ["not-json", "misfit"])
async def test_an_answer_that_is_not_the_documents_is_an_error_to_retry(
    stand_in: StandIn, mode: str
) -> None:
    with pytest.raises(InvalidGeneratorOutput):
        await _generator(stand_in, mode).generate(FIRST, FIRST_CONTEXT)


async def test_a_provider_whose_certificate_is_not_trusted_is_refused(stand_in: StandIn) -> None:
    generator = OpenAIChatGenerator(
        base_url=f"{stand_in.url}/ok/v1", api_key=API_KEY, model="stand-in-model"
    )
    with pytest.raises(openai.APIConnectionError):
        await generator.generate(FIRST, FIRST_CONTEXT)


def test_settings_choose_the_generator_and_refuse_plain_http(stand_in: StandIn) -> None:
    assert isinstance(generator_from_settings(Settings(), datetime.now(UTC)), EmbeddedGenerator)
    hosted = Settings(
        generator="openai",
        generator_base_url=f"{stand_in.url}/ok/v1",
        generator_api_key=SecretStr(API_KEY),
        outbound_ca_file=stand_in.ca,
    )
    assert isinstance(generator_from_settings(hosted, datetime.now(UTC)), OpenAIChatGenerator)
    with pytest.raises(InsecureDestination):
        generator_from_settings(
            hosted.model_copy(update={"generator_base_url": "http://x/v1"}), datetime.now(UTC)
        )
    with pytest.raises(ValueError, match="API_KEY"):
        generator_from_settings(
            hosted.model_copy(update={"generator_api_key": SecretStr("")}), datetime.now(UTC)
        )
