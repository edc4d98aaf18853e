"""The encryption figures of `make bench`, on the bench's stack:

- recording transfers to and from a tenant's bucket, encrypted (chunked AES-256-GCM
  under the recording's own key, `store_audio`/`read_audio`) against the same bytes
  sent plain through the same multipart path to the same store: MB/s and the ratio;
- a 200 MB recording uploaded end to end through the API over TLS (`PUT /uploads/...`);
- the key service's latency for generating, unwrapping and rewrapping a data key.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from audora.platform.runtime import Runtime
from audora.tenants.keys.data_keys import key_context
from audora.tenants.recordings.audio import read_audio, store_audio

MB = 1024 * 1024
OBJECT_MB = 64
ROUNDS = 3
KEY_CALLS = 300


async def _source(total: int, block: bytes) -> AsyncIterator[bytes]:
    # 64 KiB pieces, as uvicorn hands a request body over.
    piece = block[: 64 * 1024]
    sent = 0
    while sent < total:
        yield piece
        sent += len(piece)


async def _drain(chunks: AsyncIterator[bytes]) -> int:
    return sum([len(c) async for c in chunks])


async def _rate(run: Callable[[], Awaitable[Any]], total: int) -> float:
    rates = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        await run()
        rates.append(total / MB / (time.perf_counter() - started))
    return round(statistics.median(rates), 1)


async def transfers(runtime: Runtime, tenant_id: uuid.UUID) -> dict[str, float]:
    total = OBJECT_MB * MB
    block = os.urandom(MB)
    bucket = await runtime.buckets.of(tenant_id)
    recording_id = uuid.uuid4()
    stored: dict[str, Any] = {}

    async def plain_up() -> None:
        await bucket.put_stream("bench/plain", _source(total, block))

    async def plain_down() -> None:
        await _drain(bucket.get_stream("bench/plain"))

    async def sealed_up() -> None:
        stored["audio"] = await store_audio(
            runtime.keys, runtime.buckets, tenant_id, recording_id, _source(total, block)
        )

    async def sealed_down() -> None:
        wrapped = stored["audio"].wrapped_key
        await _drain(read_audio(runtime.keys, runtime.buckets, tenant_id, recording_id, wrapped))

    results = {
        "plain_upload_mb_s": await _rate(plain_up, total),
        "encrypted_upload_mb_s": await _rate(sealed_up, total),
        "plain_download_mb_s": await _rate(plain_down, total),
        "encrypted_download_mb_s": await _rate(sealed_down, total),
    }
    results["upload_ratio"] = round(
        results["encrypted_upload_mb_s"] / results["plain_upload_mb_s"], 3
    )
    results["download_ratio"] = round(
        results["encrypted_download_mb_s"] / results["plain_download_mb_s"], 3
    )
    return results


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
    }


async def key_service(runtime: Runtime, tenant_id: uuid.UUID) -> dict[str, dict[str, float]]:
    context = key_context(tenant_id, "bench")
    timings: dict[str, list[float]] = {"generate": [], "unwrap": [], "rewrap": []}
    for _ in range(KEY_CALLS):
        started = time.perf_counter()
        made = await runtime.keys.generate_data_key(tenant_id, context)
        timings["generate"].append(time.perf_counter() - started)
        started = time.perf_counter()
        await runtime.keys.decrypt_data_key(tenant_id, made.wrapped, context)
        timings["unwrap"].append(time.perf_counter() - started)
        started = time.perf_counter()
        await runtime.keys.rewrap(tenant_id, made.wrapped, context)
        timings["rewrap"].append(time.perf_counter() - started)
    return {name: _percentiles(samples) for name, samples in timings.items()}


async def upload_over_https(
    client: httpx.AsyncClient, token: str, total_mb: int = 200
) -> dict[str, float]:
    async def gql(query: str, variables: dict[str, Any]) -> Any:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    profile = await gql(
        "mutation($i: CreateClientProfileInput!) { createClientProfile(input: $i) { id } }",
        {"i": {"name": "Bench client"}},
    )
    consent = {"participantsNotified": True, "methods": ["VERBAL"]}
    call = await gql(
        "mutation($i: CreateCallInput!) { createCall(input: $i) { id } }",
        {
            "i": {
                "clientProfileId": profile["createClientProfile"]["id"],
                "title": "Bench",
                "consent": consent,
            }
        },
    )
    upload = await gql(
        "mutation($c: ID!) { createRecordingUpload(callId: $c) { uploadUrl } }",
        {"c": call["createCall"]["id"]},
    )
    total = total_mb * MB
    block = b"RIFF\x00\x00\x00\x00WAVEfmt " + os.urandom(MB - 16)

    async def body() -> AsyncIterator[bytes]:
        sent = 0
        while sent < total:
            yield block
            sent += len(block)

    started = time.perf_counter()
    response = await client.put(
        upload["createRecordingUpload"]["uploadUrl"],
        content=body(),
        headers={"content-type": "audio/wav", "content-length": str(total)},
        timeout=600,
    )
    seconds = time.perf_counter() - started
    assert response.status_code == 201, response.text
    return {"size_mb": total_mb, "seconds": round(seconds, 2), "mb_s": round(total_mb / seconds, 1)}
