"""Tests' local stand-in for the hosted meeting-bot provider (Recall.ai's v1 API shapes),
served over TLS on 127.0.0.1 with a certificate from a test CA; and the settings that
point the platform at it.

The stand-in creates bots, serves each bot's media (the fixture call's FLAC unless a
test says otherwise), deletes it on request and then answers 404 for it; a test may
make it keep the media after a deletion request, serve something that is not audio,
or redirect."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "calls" / "brightside-dental.flac"


@dataclass
class ProviderState:
    api_key: str = "test-provider-key"
    created: list[dict[str, Any]] = field(default_factory=list)
    deletions: list[str] = field(default_factory=list)
    recalled: list[str] = field(default_factory=list)
    # Set: each bot creation waits until this many have arrived (a race made certain).
    creations_together: threading.Barrier | None = None
    deleted: set[str] = field(default_factory=set)
    media: bytes = b""
    media_type: str = "audio/flac"
    # Deletion requests answered but ignored, this many times (None: always).
    keeps: int | None = 0
    redirect_to: str | None = None
    base_url: str = ""

    def media_url(self, bot_id: str) -> str:
        return f"{self.base_url}/media/{bot_id}.flac"


class ProviderHandler(BaseHTTPRequestHandler):
    server: ProviderServer

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorized(self) -> bool:
        if self.headers.get("authorization") == f"Token {self.server.state.api_key}":
            return True
        self._send(401, b'{"detail": "bad token"}')
        return False

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        if not self._authorized():
            return
        if self.path == "/api/v1/bot/":
            request = json.loads(body)
            if state.creations_together is not None:
                state.creations_together.wait(timeout=10)
            bot_id = f"bot_{uuid.uuid4().hex}"
            state.created.append({"id": bot_id, **request})
            self._send(201, json.dumps({"id": bot_id}).encode())
            return
        parts = self.path.strip("/").split("/")
        if len(parts) == 5 and parts[:3] == ["api", "v1", "bot"] and parts[4] == "delete_media":
            state.deletions.append(parts[3])
            if state.keeps is None or state.keeps > 0:
                state.keeps = None if state.keeps is None else state.keeps - 1
            else:
                state.deleted.add(parts[3])
            self._send(200, b"{}")
            return
        if len(parts) == 5 and parts[:3] == ["api", "v1", "bot"] and parts[4] == "leave_call":
            state.recalled.append(parts[3])
            self._send(200, b"{}")
            return
        self._send(404, b"{}")

    def do_GET(self) -> None:
        state = self.server.state
        if self.path.startswith("/media/"):
            bot_id = self.path.removeprefix("/media/").removesuffix(".flac")
            if bot_id in state.deleted:
                self._send(404, b"gone", "text/plain")
            elif state.redirect_to is not None:
                self.send_response(302)
                self.send_header("location", state.redirect_to)
                self.send_header("content-length", "0")
                self.end_headers()
            else:
                self._send(200, state.media, state.media_type)
            return
        self._send(404, b"{}")

    def log_message(self, *args: object) -> None:
        pass


class ProviderServer(ThreadingHTTPServer):
    state: ProviderState


def signed_headers(secret: str, body: bytes, timestamp: int, webhook_id: str) -> dict[str, str]:
    """Standard Webhooks headers, computed here from the specification rather than by
    the code under test."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode(),
    }
