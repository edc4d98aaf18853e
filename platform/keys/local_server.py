"""The embedded stack's key service: a process of its own, holding every tenant's
key-encryption keys in its own folder, reachable only over a unix socket with a token.

    python -m audora.platform.keys.local_server
        --dir .data/kms --socket .data/kms-socket/kms.sock

It answers a fixed set of operations (`OPERATIONS`), none of which returns a KEK: no
request can ask for one, and any other is refused before a key file is opened. It wraps
data keys with AES-256-GCM under the tenant's current KEK; the additional data binds each
wrapped key to its tenant and encryption context. Rotation adds a KEK version
(older versions still unwrap); destruction shreds the tenant's KEKs, after which nothing
wrapped under them can ever be unwrapped: cryptographic erasure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hmac
import json
import os
import signal
import struct
import uuid
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from audora.platform.keys.keystore import Keystore, TenantKeys
from audora.platform.keys.wire import read_message, write_message

_WRAPPED = struct.Struct(">3sI12s")
_MAGIC = b"KW1"

# Everything a client may ask. A KEK goes into AESGCM here and never into a response.
OPERATIONS = frozenset(
    {"ping", "create", "generate", "decrypt", "decrypt_many", "rewrap", "rotate", "destroy"}
)
# The most data keys one `decrypt_many` unwraps: a tenant has a handful of purposes.
MAX_MANY = 16


def _aad(tenant_id: uuid.UUID, context: dict[str, str]) -> bytes:
    return tenant_id.bytes + json.dumps(context, sort_keys=True, separators=(",", ":")).encode()


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class KeyServer:
    def __init__(self, keystore: Keystore, token: str) -> None:
        self.keystore = keystore
        self.token = token
        self.lock = asyncio.Lock()  # key files change one request at a time

    def _keys(self, tenant_id: uuid.UUID) -> TenantKeys:
        keys = self.keystore.load(tenant_id)
        if keys is None:
            raise Refused("unknown_key", "no key for this tenant")
        if keys.destroyed:
            raise Refused("destroyed", "this tenant's key was destroyed")
        return keys

    def _wrap(
        self, keys: TenantKeys, tenant_id: uuid.UUID, plain: bytes, context: dict[str, str]
    ) -> bytes:
        nonce = os.urandom(12)
        body = AESGCM(keys.versions[keys.current]).encrypt(nonce, plain, _aad(tenant_id, context))
        return _WRAPPED.pack(_MAGIC, keys.current, nonce) + body

    def _unwrap(
        self, keys: TenantKeys, tenant_id: uuid.UUID, wrapped: bytes, context: dict[str, str]
    ) -> bytes:
        if len(wrapped) < _WRAPPED.size + 16:
            raise Refused("unwrap_failed", "wrapped key is truncated")
        magic, version, nonce = _WRAPPED.unpack_from(wrapped)
        kek = keys.versions.get(version)
        if magic != _MAGIC or kek is None:
            raise Refused("unwrap_failed", "unknown key version")
        try:
            return AESGCM(kek).decrypt(nonce, wrapped[_WRAPPED.size :], _aad(tenant_id, context))
        except InvalidTag:
            raise Refused("unwrap_failed", "wrapped key failed authentication") from None

    def _unwrap_one(
        self, keys: TenantKeys, tenant_id: uuid.UUID, item: dict[str, Any]
    ) -> dict[str, str]:
        """One item of a `decrypt_many`: its plaintext, or why it did not unwrap (the
        others are answered all the same)."""
        context = {str(k): str(v) for k, v in dict(item.get("context") or {}).items()}
        try:
            plain = self._unwrap(keys, tenant_id, _unb64(item["wrapped"]), context)
        except Refused as refused:
            return {"error": refused.code}
        return {"plaintext": _b64(plain)}

    async def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        if not hmac.compare_digest(str(request.get("token", "")), self.token):
            raise Refused("forbidden", "bad token")
        op = request.get("op")
        if not isinstance(op, str) or op not in OPERATIONS:
            raise Refused("unknown_operation", f"unknown operation {op!r}")
        if op == "ping":
            return {}
        tenant_id = uuid.UUID(str(request["tenant"]))
        context = {str(k): str(v) for k, v in dict(request.get("context") or {}).items()}
        async with self.lock:
            if op == "create":
                if self.keystore.load(tenant_id) is None:
                    self.keystore.save(tenant_id, TenantKeys({1: AESGCM.generate_key(256)}, 1))
                return {"ref": f"local:{tenant_id.hex}"}
            keys = self._keys(tenant_id)
            if op == "generate":
                plain = AESGCM.generate_key(256)
                wrapped = self._wrap(keys, tenant_id, plain, context)
                return {"plaintext": _b64(plain), "wrapped": _b64(wrapped)}
            if op == "decrypt":
                plain = self._unwrap(keys, tenant_id, _unb64(request["wrapped"]), context)
                return {"plaintext": _b64(plain)}
            if op == "decrypt_many":
                return {"results": [self._unwrap_one(keys, tenant_id, i) for i in _items(request)]}
            if op == "rewrap":
                plain = self._unwrap(keys, tenant_id, _unb64(request["wrapped"]), context)
                return {"wrapped": _b64(self._wrap(keys, tenant_id, plain, context))}
            if op == "rotate":
                keys.current = max(keys.versions) + 1
                keys.versions[keys.current] = AESGCM.generate_key(256)
                self.keystore.save(tenant_id, keys)
                return {"version": keys.current}
            if op == "destroy":
                self.keystore.shred(tenant_id)
                return {}
        raise Refused("bad_request", f"unknown operation {op!r}")

    async def serve_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                try:
                    request = await read_message(reader)
                except asyncio.IncompleteReadError:
                    return
                try:
                    response = await self.handle(request)
                except Refused as refused:
                    response = {"error": refused.code, "message": str(refused)}
                except (KeyError, ValueError, TypeError):
                    response = {"error": "bad_request", "message": "malformed request"}
                await write_message(writer, response)
        finally:
            writer.close()


def _items(request: dict[str, Any]) -> list[dict[str, Any]]:
    items = request["items"]
    if not isinstance(items, list) or not 0 < len(items) <= MAX_MANY:
        raise Refused("bad_request", f"decrypt_many takes 1 to {MAX_MANY} items")
    return [dict(item) for item in items]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(data: object) -> bytes:
    return base64.b64decode(str(data), validate=True)


async def serve(folder: Path, socket_path: Path, token: str) -> None:
    server = KeyServer(Keystore(folder / "keys"), token)
    # Start-up and shut-down only: blocking file calls hold up no request here.
    socket_path.unlink(missing_ok=True)  # noqa: ASYNC240
    # The socket's folder decides who may connect (`platform/stack/keyservice.py`): its
    # owner, and under root the group `audora-app` it inherits from the folder. Made with
    # that mode rather than chmod-ed after, so it never appears with another.
    umask = os.umask(0o117)
    try:
        listener = await asyncio.start_unix_server(server.serve_client, path=str(socket_path))
    finally:
        os.umask(umask)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with listener:
        await stop.wait()
    socket_path.unlink(missing_ok=True)  # noqa: ASYNC240


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--socket", type=Path, required=True)
    args = parser.parse_args()
    # The token comes through the environment, never the command line (ps shows that).
    token = os.environ["AUDORA_KMS_TOKEN"]
    asyncio.run(serve(args.dir, args.socket, token))


if __name__ == "__main__":
    main()
