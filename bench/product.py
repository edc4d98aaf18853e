"""The product's figures: transcription real-time factor on the fixture calls with the
embedded model, and the time from the start of an upload to a READY call (transcript
and four documents) per minute of audio, through the served API and a real worker.

Real-time factor = seconds spent transcribing / seconds of audio (target <= 0.15 on two
cores). The model is loaded once before timing: a worker loads it on its first call
and keeps it, so the steady state is what a call waits for.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from audora.tenants.transcription.whisper import WhisperTranscriber, shared_model

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "calls"
READY_TIMEOUT_S = 600
POLL_S = 0.25


def fixture_calls() -> list[Path]:
    calls = sorted(FIXTURES.glob("*.flac"))
    if not calls:
        raise RuntimeError(f"no fixture calls in {FIXTURES}")
    return calls


def audio_seconds(path: Path) -> float:
    from faster_whisper.audio import decode_audio

    return float(len(decode_audio(str(path), sampling_rate=16000))) / 16000


def transcription_rtf() -> dict[str, Any]:
    shared_model()
    transcriber = WhisperTranscriber()
    per_call: dict[str, Any] = {}
    for path in fixture_calls():
        seconds = audio_seconds(path)
        started = time.perf_counter()
        transcriber.transcribe(path.read_bytes())
        spent = time.perf_counter() - started
        per_call[path.stem] = {
            "audio_s": round(seconds, 1),
            "transcribe_s": round(spent, 2),
            "rtf": round(spent / seconds, 3),
        }
    worst = max(call["rtf"] for call in per_call.values())
    return {"calls": per_call, "worst_rtf": worst}


async def _gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = response.json()
    if "errors" in body:
        raise RuntimeError(f"benchmark request failed: {body['errors']}")
    return body["data"]


async def _one_call_to_ready(client: httpx.AsyncClient, path: Path) -> dict[str, Any]:
    signed = await _gql(
        client,
        "mutation($i: SignUpInput!) { signUp(input: $i) { token } }",
        {
            "i": {
                "accountName": f"Bench product {path.stem}",
                "email": f"product-{uuid.uuid4().hex}@example.com",
                "password": "a bench passphrase",
                "fullName": "Bench",
            }
        },
    )
    token = signed["signUp"]["token"]
    profile = await _gql(
        client,
        "mutation($i: CreateClientProfileInput!) { createClientProfile(input: $i) { id } }",
        {"i": {"name": path.stem}},
        token,
    )
    call = await _gql(
        client,
        "mutation($i: CreateCallInput!) { createCall(input: $i) { id } }",
        {
            "i": {
                "clientProfileId": profile["createClientProfile"]["id"],
                "title": path.stem,
                "consent": {"participantsNotified": True, "methods": ["VERBAL"]},
            }
        },
        token,
    )
    call_id = call["createCall"]["id"]
    ticket = await _gql(
        client,
        "mutation($id: ID!) { createRecordingUpload(callId: $id) { uploadUrl } }",
        {"id": call_id},
        token,
    )
    audio = await asyncio.to_thread(path.read_bytes)
    started = time.perf_counter()
    put = await client.put(
        ticket["createRecordingUpload"]["uploadUrl"],
        content=audio,
        headers={"content-type": "audio/flac"},
    )
    if put.status_code != 201:
        raise RuntimeError(f"upload failed: {put.status_code} {put.text}")
    deadline = time.monotonic() + READY_TIMEOUT_S
    status = ""
    while time.monotonic() < deadline:
        read = await _gql(
            client,
            "query($id: ID!) { call(id: $id) { status failureReason documents { kind } } }",
            {"id": call_id},
            token,
        )
        status = read["call"]["status"]
        if status == "READY":
            if len(read["call"]["documents"]) != 4:
                raise RuntimeError(f"{path.stem} is READY without its four documents")
            break
        if status == "FAILED":
            raise RuntimeError(f"{path.stem} FAILED: {read['call']['failureReason']}")
        await asyncio.sleep(POLL_S)
    else:
        raise RuntimeError(f"{path.stem} was not READY in {READY_TIMEOUT_S} s (last {status})")
    spent = time.perf_counter() - started
    minutes = await asyncio.to_thread(audio_seconds, path) / 60
    return {
        "audio_min": round(minutes, 2),
        "upload_to_ready_s": round(spent, 2),
        "s_per_audio_min": round(spent / minutes, 2),
    }


async def upload_to_ready(client: httpx.AsyncClient) -> dict[str, Any]:
    """Each fixture call, one after another, from the first byte of its upload to READY.
    The worker has transcribed nothing before: the first call includes its model load."""
    per_call = {path.stem: await _one_call_to_ready(client, path) for path in fixture_calls()}
    total_s = sum(c["upload_to_ready_s"] for c in per_call.values())
    total_min = sum(c["audio_min"] for c in per_call.values())
    return {"calls": per_call, "s_per_audio_min": round(total_s / total_min, 2)}
