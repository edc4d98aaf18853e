"""Hosted transcription (P2, P4, E6): the OpenAI-compatible, Deepgram and AssemblyAI
transcribers, each exercised against a local stand-in of its API served over TLS with a
certificate from a test CA. Each request carries this call's audio and nothing else, over
verified TLS only, with the provider's no-training and no-retention options on; what
AssemblyAI made is deleted; speakers come from the meeting bot's timeline. Settings pick
the provider, and the transcription job uses the one they pick."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.http.outbound import InsecureDestination
from audora.platform.jobs.queue import QUEUE
from audora.platform.runtime import Runtime
from audora.platform.tls.local_ca import ensure_server_certificate
from audora.tenants.transcription.assemblyai import AssemblyAITranscriber
from audora.tenants.transcription.choice import transcriber_from_settings
from audora.tenants.transcription.deepgram import DeepgramTranscriber
from audora.tenants.transcription.hosted import HostedConfig, TranscriptionProviderError
from audora.tenants.transcription.openai_compatible import OpenAITranscriber
from audora.tenants.transcription.provider import SpeakerTurn
from audora.tenants.transcription.whisper import WhisperTranscriber

from audora_testing import (
    REPO,
    GraphQL,
    create_call,
    create_profile,
    raw_id,
    sign_up,
    upload_path,
)

AUDIO = (REPO / "platform" / "demo" / "sample_call.ogg").read_bytes()
KEY = "sk-test-0123456789"
TIMELINE = (SpeakerTurn("Ana", 0.0, 4.0), SpeakerTurn("Ben", 4.0, 9.0))


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class StandIn:
    """What the stand-in received, and how it should answer."""

    url: str = ""
    requests: list[Seen] = field(default_factory=list)
    assemblyai_status: str = "completed"
    polls_before_done: int = 1

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests]


def _openai(seen: Seen) -> tuple[int, Any]:
    form = BytesParser(policy=HTTP).parsebytes(
        f"content-type: {seen.headers['content-type']}\r\n\r\n".encode() + seen.body
    )
    fields: dict[str, Any] = {}
    for part in form.iter_parts():
        name = part.get_param("name", header="content-disposition")
        fields[str(name)] = part.get_payload(decode=True)
    seen.query["form"] = [json.dumps({k: v.decode() for k, v in fields.items() if k != "file"})]
    assert fields["file"] == AUDIO
    return 200, {
        "task": "transcribe",
        "language": "english",
        "duration": 9.0,
        "text": "Hello there. We need an app.",
        "segments": [
            _segment(0, 0.0, 3.5, " Hello there."),
            _segment(1, 4.2, 8.0, " We need an app."),
        ],
    }


def _segment(i: int, start: float, end: float, text: str) -> dict[str, Any]:
    return {
        "id": i,
        "seek": 0,
        "start": start,
        "end": end,
        "text": text,
        "tokens": [1, 2],
        "temperature": 0.0,
        "avg_logprob": -0.2,
        "compression_ratio": 1.1,
        "no_speech_prob": 0.01,
    }


def _deepgram(seen: Seen) -> tuple[int, Any]:
    return 200, {
        "metadata": {"duration": 9.0},
        "results": {
            "channels": [{"alternatives": [{"transcript": "Hello there. We need an app."}]}],
            "utterances": [
                {"start": 0.0, "end": 3.5, "transcript": "Hello there.", "speaker": 0},
                {"start": 4.2, "end": 8.0, "transcript": "We need an app.", "speaker": 0},
            ],
        },
    }


def _assemblyai(state: StandIn, seen: Seen) -> tuple[int, Any]:
    route = f"{seen.method} {seen.path}"
    if route == "POST /v2/upload":
        return 200, {"upload_url": "https://cdn.assemblyai.test/upload/u-1"}
    if route == "POST /v2/transcript":
        return 200, {"id": "t-1", "status": "queued"}
    if route == "GET /v2/transcript/t-1":
        polls = sum(1 for r in state.requests if r.path == "/v2/transcript/t-1")
        done = polls >= state.polls_before_done
        return 200, {"id": "t-1", "status": state.assemblyai_status if done else "processing"}
    if route == "GET /v2/transcript/t-1/sentences":
        return 200, {
            "sentences": [
                {"text": "Hello there.", "start": 0, "end": 3500},
                {"text": "We need an app.", "start": 4200, "end": 8000},
            ]
        }
    if route == "DELETE /v2/transcript/t-1":
        return 200, {"id": "t-1", "status": "completed", "text": "Deleted by user."}
    return 404, {"error": "no such route"}


def _handler(state: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            seen = Seen(
                self.command,
                parts.path,
                parse_qs(parts.query),
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            if parts.path.startswith("/v1/audio/"):
                status, body = _openai(seen)
            elif parts.path == "/v1/listen":
                status, body = _deepgram(seen)
            else:
                status, body = _assemblyai(state, seen)
            state.requests.append(seen)
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("provider-ca")


@pytest.fixture
def stand_in(test_ca: Path) -> Iterator[StandIn]:
    made = ensure_server_certificate(test_ca)
    state = StandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(made.cert_file, made.key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"https://localhost:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _config(stand_in: StandIn, test_ca: Path, path: str = "", model: str = "m-1") -> HostedConfig:
    return HostedConfig(
        api_key=KEY, base_url=stand_in.url + path, model=model, extra_ca=test_ca / "ca.pem"
    )


def _assert_labelled(transcript: Any) -> None:
    assert [(s.speaker, s.text) for s in transcript.segments] == [
        ("Ana", "Hello there."),
        ("Ben", "We need an app."),
    ]
    assert transcript.segments[1].start_seconds == pytest.approx(4.2)


def test_openai_compatible_sends_only_this_calls_audio_for_timed_segments(
    stand_in: StandIn, test_ca: Path
) -> None:
    transcript = OpenAITranscriber(_config(stand_in, test_ca, "/v1")).transcribe(AUDIO, TIMELINE)
    _assert_labelled(transcript)
    (seen,) = stand_in.requests
    assert (seen.method, seen.path) == ("POST", "/v1/audio/transcriptions")
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    form = json.loads(seen.query["form"][0])
    assert form["model"] == "m-1"
    assert form["response_format"] == "verbose_json"
    assert form["timestamp_granularities[]"] == "segment"


def test_deepgram_opts_out_of_model_improvement_on_every_request(
    stand_in: StandIn, test_ca: Path
) -> None:
    transcript = DeepgramTranscriber(_config(stand_in, test_ca)).transcribe(AUDIO, TIMELINE)
    _assert_labelled(transcript)
    (seen,) = stand_in.requests
    assert (seen.method, seen.path) == ("POST", "/v1/listen")
    assert seen.query["mip_opt_out"] == ["true"]
    assert seen.query["utterances"] == ["true"]
    assert seen.query["model"] == ["m-1"]
    assert seen.headers["authorization"] == f"Token {KEY}"
    assert seen.headers["content-type"] == "audio/ogg"
    assert seen.body == AUDIO


def test_assemblyai_transcript_is_deleted_once_read(stand_in: StandIn, test_ca: Path) -> None:
    transcriber = AssemblyAITranscriber(_config(stand_in, test_ca), poll_seconds=0.01)
    transcript = transcriber.transcribe(AUDIO, TIMELINE)
    _assert_labelled(transcript)
    assert stand_in.paths() == [
        "POST /v2/upload",
        "POST /v2/transcript",
        "GET /v2/transcript/t-1",
        "GET /v2/transcript/t-1",
        "GET /v2/transcript/t-1/sentences",
        "DELETE /v2/transcript/t-1",
    ]
    upload, create = stand_in.requests[:2]
    assert upload.body == AUDIO
    assert json.loads(create.body)["audio_url"] == "https://cdn.assemblyai.test/upload/u-1"
    assert all(r.headers["authorization"] == KEY for r in stand_in.requests)


def test_assemblyai_transcript_that_failed_is_deleted_too(stand_in: StandIn, test_ca: Path) -> None:
    stand_in.assemblyai_status = "error"
    transcriber = AssemblyAITranscriber(_config(stand_in, test_ca), poll_seconds=0.01)
    with pytest.raises(TranscriptionProviderError, match="ended in error"):
        transcriber.transcribe(AUDIO)
    assert stand_in.paths()[-1] == "DELETE /v2/transcript/t-1"


def test_a_provider_is_reached_only_over_verified_tls(stand_in: StandIn, test_ca: Path) -> None:
    # The stand-in's CA is not trusted: its certificate is refused, nothing is sent.
    untrusted = HostedConfig(api_key=KEY, base_url=stand_in.url, model="m-1")
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        DeepgramTranscriber(untrusted).transcribe(AUDIO)
    assert stand_in.requests == []
    with pytest.raises(InsecureDestination):
        HostedConfig(api_key=KEY, base_url="http://localhost:1/v1", model="m-1")


def test_settings_choose_the_transcriber() -> None:
    def chosen(**values: Any) -> object:
        return transcriber_from_settings(
            Settings(transcriber_api_key=KEY, **values), datetime.now(UTC)
        )

    assert isinstance(chosen(), WhisperTranscriber)
    assert isinstance(chosen(transcriber="openai"), OpenAITranscriber)
    deepgram = chosen(transcriber="deepgram", transcriber_model="nova-2")
    assert isinstance(deepgram, DeepgramTranscriber)
    assert deepgram.config.base_url == "https://api.deepgram.com"
    assert deepgram.config.model == "nova-2"
    assert isinstance(chosen(transcriber="assemblyai"), AssemblyAITranscriber)
    with pytest.raises(InsecureDestination):
        chosen(transcriber="openai", transcriber_base_url="http://example.com/v1")
    with pytest.raises(ValueError, match="not one of"):
        chosen(transcriber="somewhere")
    with pytest.raises(ValueError, match="API_KEY"):
        transcriber_from_settings(Settings(transcriber="deepgram"), datetime.now(UTC))


CALL = "query($id: ID!) { call(id: $id) { status transcript { text } } }"


async def test_the_transcription_job_uses_the_provider_settings_name(
    gql: GraphQL,
    api: httpx.AsyncClient,
    settings: Settings,
    clock: FrozenClock,
    stand_in: StandIn,
    test_ca: Path,
) -> None:
    from audora.tenants.transcription.jobs import transcribe_call_job

    hosted = settings.model_copy(
        update={
            "transcriber": "deepgram",
            "transcriber_base_url": stand_in.url,
            "transcriber_api_key": KEY,
            "transcriber_ca_file": test_ca / "ca.pem",
        }
    )
    runtime = Runtime.open(hosted, clock=clock)
    try:
        await runtime.redis.delete(QUEUE)
        owner = await sign_up(gql, "Hosted Studio")
        profile = await create_profile(gql, owner["token"], "Harbor Cafe")
        call_id = await create_call(gql, owner["token"], profile["id"])
        put = await api.put(
            await upload_path(gql, owner["token"], call_id),
            content=AUDIO,
            headers={"content-type": "audio/ogg"},
        )
        assert put.status_code == 201, put.text
        done = await transcribe_call_job(
            {"runtime": runtime}, str(raw_id(owner["account"]["id"])), str(raw_id(call_id))
        )
    finally:
        await runtime.close()
    assert done == "transcribed: 2 segments"
    (seen,) = stand_in.requests
    assert seen.body == AUDIO  # this call's decrypted recording, nothing else
    call = (await gql(CALL, {"id": call_id}, token=owner["token"]))["data"]["call"]
    assert call == {"status": "GENERATING", "transcript": {"text": "Hello there. We need an app."}}
