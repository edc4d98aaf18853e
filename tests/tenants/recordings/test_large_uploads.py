"""E7 at size, against the API in its own process over TLS: a 200 MB recording streams
through encrypted while the server's memory grows by less than 64 MB, and an upload cut
off by its client leaves nothing in the bucket."""

from __future__ import annotations

import os
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from audora.platform.config import Settings

from audora_testing import (
    CONSENT,
    PASSWORD,
    SIGN_UP,
    Served,
    raw_objects,
    wav_bytes,
)

MB = 1024 * 1024


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _call_with_upload_url(client: httpx.Client, name: str) -> dict[str, Any]:
    def gql(query: str, variables: dict[str, Any], token: str | None = None) -> Any:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    email = f"big-{os.urandom(6).hex()}@example.com"
    signed = gql(
        SIGN_UP,
        {"input": {"accountName": name, "email": email, "password": PASSWORD, "fullName": "B"}},
    )
    token = signed["signUp"]["token"]
    profile = gql(
        "mutation($i: CreateClientProfileInput!) { createClientProfile(input: $i) { id } }",
        {"i": {"name": "Client"}},
        token,
    )
    call = gql(
        "mutation($i: CreateCallInput!) { createCall(input: $i) { id } }",
        {
            "i": {
                "clientProfileId": profile["createClientProfile"]["id"],
                "title": "Long workshop",
                "consent": CONSENT,
            }
        },
        token,
    )
    upload = gql(
        "mutation($c: ID!) { createRecordingUpload(callId: $c) { uploadUrl } }",
        {"c": call["createCall"]["id"]},
        token,
    )
    return {
        "account_id": signed["signUp"]["account"]["id"],
        "upload_url": upload["createRecordingUpload"]["uploadUrl"],
    }


def test_a_200_mb_upload_is_encrypted_in_bounded_server_memory(
    served: Served, settings: Settings
) -> None:
    total = 200 * MB
    block = os.urandom(MB)
    with httpx.Client(base_url=served.url, verify=_tls(served), timeout=300) as client:
        made = _call_with_upload_url(client, "Big Upload")
        client.get("/healthz")  # warm
        baseline = _kib(served.pid, "VmRSS")
        Path(f"/proc/{served.pid}/clear_refs").write_text("5")  # reset the peak (VmHWM)

        def body() -> Iterator[bytes]:
            yield wav_bytes(b"")
            sent = len(wav_bytes(b""))
            while sent < total:
                piece = block[: min(MB, total - sent)]
                sent += len(piece)
                yield piece

        started = time.monotonic()
        response = client.put(
            made["upload_url"],
            content=body(),
            headers={"content-type": "audio/wav", "content-length": str(total)},
        )
        elapsed = time.monotonic() - started
    assert response.status_code == 201, response.text
    assert response.json()["recording"]["sizeBytes"] == total
    peak = _kib(served.pid, "VmHWM")
    growth_mb = (peak - baseline) / 1024
    print(f"200 MB upload: {elapsed:.1f} s, server peak memory growth {growth_mb:.1f} MB")  # noqa: T201
    assert growth_mb < 64

    admin_view = raw_objects(settings, made["account_id"])
    (stored,) = admin_view.values()
    assert len(stored) > total  # the ciphertext, chunk tags included
    assert block[:4096] not in stored


def test_an_upload_cut_off_by_its_client_leaves_nothing(served: Served, settings: Settings) -> None:
    with httpx.Client(base_url=served.url, verify=_tls(served), timeout=60) as client:
        made = _call_with_upload_url(client, "Cut Off")
    path = urlsplit(made["upload_url"]).path
    context = _tls(served)
    with socket.create_connection(("127.0.0.1", served.port)) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(
                (
                    f"PUT {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: audio/wav\r\n"
                    f"Content-Length: {60 * MB}\r\n\r\n"
                ).encode()
            )
            tls.sendall(wav_bytes(os.urandom(20 * MB)))  # a third of it...
            # ...stored in part already (a multipart upload under way)...
            assert _eventually(lambda: raw_objects(settings, made["account_id"]) != {})
    # ...then the client hangs up, and the parts go with it.
    assert _eventually(lambda: raw_objects(settings, made["account_id"]) == {})


def _eventually(check: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _tls(served: Served) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(served.ca))
