"""Local stand-ins of the hosted APIs Audora pushes to (Linear, Notion, webhook
receivers): real https servers on localhost, with certificates from a test CA, that
record what they were sent and answer as the real ones do, or as a test tells them."""

from __future__ import annotations

import json
import ssl
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from audora.platform.tls.local_ca import ensure_server_certificate


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class StandIn:
    """What a stand-in was sent, and the statuses it answers next (then its own)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.fail_next.clear()
            self.records.clear()


class _Handler(BaseHTTPRequestHandler):
    stand_in: StandIn

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _receive(self) -> Received:
        length = int(self.headers.get("content-length", "0"))
        got = Received(
            self.command,
            self.path,
            {k.lower(): v for k, v in self.headers.items()},
            self.rfile.read(length),
        )
        with self.stand_in.lock:
            self.stand_in.received.append(got)
        return got

    def _forced_failure(self) -> bool:
        with self.stand_in.lock:
            status = self.stand_in.fail_next.pop(0) if self.stand_in.fail_next else None
        if status is None:
            return False
        self._answer(status, {"message": "stand-in failure"})
        return True

    def handle_one(self, got: Received) -> None:
        self._answer(200, {})

    def _dispatch(self) -> None:
        got = self._receive()
        if not self._forced_failure():
            self.handle_one(got)

    do_POST = _dispatch
    do_PATCH = _dispatch

    def log_message(self, *args: object) -> None:
        pass


LINEAR_KEY = "lin_api_standin0123456789"
NOTION_TOKEN = "secret_standin0123456789"


class LinearHandler(_Handler):
    """Linear's GraphQL API: issueCreate and issueUpdate, with a personal API key as
    the bare Authorization header."""

    def handle_one(self, got: Received) -> None:
        if got.headers.get("authorization") != LINEAR_KEY:
            self._answer(
                401,
                {
                    "errors": [
                        {
                            "message": "Authentication required",
                            "extensions": {"code": "AUTHENTICATION_ERROR"},
                        }
                    ]
                },
            )
            return
        payload = got.json()
        variables = payload["variables"]
        issues = self.stand_in.records
        if "issueCreate" in payload["query"]:
            issue_id = str(uuid.uuid4())
            with self.stand_in.lock:
                issues[issue_id] = dict(variables["input"])
            result = {
                "issueCreate": {
                    "success": True,
                    "issue": {"id": issue_id, "identifier": f"ENG-{len(issues)}"},
                }
            }
        elif "issueUpdate" in payload["query"]:
            issue_id = variables["id"]
            if issue_id not in issues:
                self._answer(
                    200,
                    {
                        "errors": [
                            {"message": "Entity not found", "extensions": {"code": "INVALID_INPUT"}}
                        ]
                    },
                )
                return
            with self.stand_in.lock:
                issues[issue_id].update(variables["input"])
            result = {
                "issueUpdate": {"success": True, "issue": {"id": issue_id, "identifier": "ENG-0"}}
            }
        else:
            self._answer(400, {"errors": [{"message": "unknown operation"}]})
            return
        self._answer(200, {"data": result})


class NotionHandler(_Handler):
    """Notion's API: POST /v1/pages and PATCH /v1/pages/{id}, with a bearer token and
    a Notion-Version header."""

    def handle_one(self, got: Received) -> None:
        if got.headers.get("authorization") != f"Bearer {NOTION_TOKEN}":
            self._answer(
                401,
                {
                    "object": "error",
                    "status": 401,
                    "code": "unauthorized",
                    "message": "API token is invalid.",
                },
            )
            return
        if not got.headers.get("notion-version"):
            self._answer(
                400,
                {
                    "object": "error",
                    "status": 400,
                    "code": "missing_version",
                    "message": "Notion-Version header missing",
                },
            )
            return
        pages = self.stand_in.records
        body = got.json()
        if got.method == "POST" and got.path == "/v1/pages":
            page_id = str(uuid.uuid4())
            with self.stand_in.lock:
                pages[page_id] = body
            self._answer(200, {"object": "page", "id": page_id})
        elif got.method == "PATCH" and got.path.startswith("/v1/pages/"):
            page_id = got.path.rsplit("/", 1)[1]
            if page_id not in pages:
                self._answer(
                    404,
                    {
                        "object": "error",
                        "status": 404,
                        "code": "object_not_found",
                        "message": "Could not find page.",
                    },
                )
                return
            with self.stand_in.lock:
                pages[page_id]["properties"] = body["properties"]
            self._answer(200, {"object": "page", "id": page_id})
        else:
            self._answer(
                400,
                {
                    "object": "error",
                    "status": 400,
                    "code": "invalid_request_url",
                    "message": "Invalid request URL.",
                },
            )


class WebhookHandler(_Handler):
    """A webhook receiver: answers 204 to whatever arrives."""

    def handle_one(self, got: Received) -> None:
        self.send_response(204)
        self.end_headers()


@contextmanager
def serve(
    handler: type[_Handler], cert_file: Path, key_file: Path, host: str = "localhost"
) -> Iterator[StandIn]:
    """A stand-in with `handler` over TLS on a free loopback port."""
    stand_in = StandIn()
    bound = type(handler.__name__, (handler,), {"stand_in": stand_in})
    server = ThreadingHTTPServer(("127.0.0.1", 0), bound)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stand_in.url = f"https://{host}:{server.server_address[1]}"
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve_trusted(handler: type[_Handler], ca_folder: Path) -> Iterator[StandIn]:
    """A stand-in whose certificate the test CA in `ca_folder` issued for localhost."""
    made = ensure_server_certificate(ca_folder)
    with serve(handler, made.cert_file, made.key_file) as stand_in:
        yield stand_in


def self_signed(folder: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A certificate for `host` that signs itself, and its key: no CA vouches for it."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = folder / "self-signed.pem", folder / "self-signed-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file
