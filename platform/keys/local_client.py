"""`KeyService` over the local key service's unix socket."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from audora.platform.keys.service import (
    DataKey,
    KeyDestroyed,
    KeyServiceError,
    UnwrapFailed,
    WrappedKey,
)
from audora.platform.keys.wire import read_message, write_message

# Calls that may run twice with the same effect. Only these are retried on a fresh
# connection when a kept one turns out closed (the service restarted): a lost answer to
# `create`, `rotate` or `destroy` must surface, not be repeated.
_REPEATABLE = frozenset({"ping", "decrypt", "decrypt_many", "generate", "rewrap"})

_Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class LocalKeyService:
    """Keeps up to `KEEP` connections open between calls, so a cold tenant's key is one
    exchange on an open socket rather than a connect, an exchange and a close: at
    thousands of tenants a request often needs a key no one asked for in minutes."""

    KEEP = 4

    def __init__(self, socket_path: Path, token: str, *, timeout: float = 5.0) -> None:
        self.socket_path = socket_path
        self.token = token
        self.timeout = timeout
        # Each kept connection with the event loop it belongs to: a connection is only
        # reused on its own loop (tests and CLI commands run several loops in turn).
        self._kept: list[tuple[asyncio.AbstractEventLoop, _Stream]] = []

    async def _connect(self) -> _Stream:
        try:
            return await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.socket_path)), self.timeout
            )
        except (OSError, TimeoutError) as exc:
            raise KeyServiceError(f"key service unreachable: {exc}") from None

    def _take_kept(self) -> _Stream | None:
        loop = asyncio.get_running_loop()
        while self._kept:
            owner, stream = self._kept.pop()
            if owner is loop and not stream[1].is_closing() and not stream[0].at_eof():
                return stream
            _close(owner, stream)
        return None

    async def _exchange(self, stream: _Stream, message: dict[str, Any]) -> dict[str, Any]:
        """One request and its answer; the connection is kept after a whole exchange and
        closed after anything else (a late answer must never be read as the next one's)."""
        reader, writer = stream
        try:
            await write_message(writer, message)
            response = await asyncio.wait_for(read_message(reader), self.timeout)
        except BaseException:
            _close(asyncio.get_running_loop(), stream)
            raise
        self._keep(stream)
        return response

    async def _send(self, op: str, message: dict[str, Any]) -> dict[str, Any]:
        kept = self._take_kept() if op in _REPEATABLE else None
        if kept is not None:
            try:
                return await self._exchange(kept, message)
            except TimeoutError:
                raise
            except (OSError, EOFError):
                pass  # closed while kept (the service restarted): once more, on a new one
        return await self._exchange(await self._connect(), message)

    async def _call(self, op: str, **fields: Any) -> dict[str, Any]:
        response = await self._send(op, {"op": op, "token": self.token, **fields})
        error = response.get("error")
        if error == "destroyed":
            raise KeyDestroyed(str(response.get("message")))
        if error == "unwrap_failed":
            raise UnwrapFailed(str(response.get("message")))
        if error:
            raise KeyServiceError(f"{error}: {response.get('message')}")
        return response

    def _keep(self, stream: _Stream) -> None:
        loop = asyncio.get_running_loop()
        if len(self._kept) < self.KEEP:
            self._kept.append((loop, stream))
        else:
            _close(loop, stream)

    async def close(self) -> None:
        """Close the kept connections."""
        kept, self._kept = self._kept, []
        for owner, stream in kept:
            _close(owner, stream)

    def kek_version_of(self, wrapped: bytes) -> int | None:
        # The local service's wrapped keys start with `KW1` and the KEK version.
        return int.from_bytes(wrapped[3:7], "big") if wrapped[:3] == b"KW1" else None

    async def ping(self) -> None:
        await self._call("ping")

    async def create_tenant_key(self, tenant_id: uuid.UUID) -> str:
        return str((await self._call("create", tenant=str(tenant_id)))["ref"])

    async def generate_data_key(self, tenant_id: uuid.UUID, context: dict[str, str]) -> DataKey:
        answer = await self._call("generate", tenant=str(tenant_id), context=context)
        return DataKey(base64.b64decode(answer["plaintext"]), base64.b64decode(answer["wrapped"]))

    async def decrypt_data_key(
        self, tenant_id: uuid.UUID, wrapped: bytes, context: dict[str, str]
    ) -> bytes:
        answer = await self._call(
            "decrypt",
            tenant=str(tenant_id),
            context=context,
            wrapped=base64.b64encode(wrapped).decode(),
        )
        return base64.b64decode(answer["plaintext"])

    async def decrypt_data_keys(
        self, tenant_id: uuid.UUID, wrapped: Sequence[WrappedKey]
    ) -> list[bytes | None]:
        answer = await self._call(
            "decrypt_many",
            tenant=str(tenant_id),
            items=[
                {"wrapped": base64.b64encode(key.wrapped).decode(), "context": key.context}
                for key in wrapped
            ],
        )
        results: list[dict[str, str]] = answer["results"]
        if len(results) != len(wrapped):
            raise KeyServiceError("the key service answered a different number of keys")
        return [
            base64.b64decode(r["plaintext"]) if r.get("error") is None else None for r in results
        ]

    async def rewrap(self, tenant_id: uuid.UUID, wrapped: bytes, context: dict[str, str]) -> bytes:
        answer = await self._call(
            "rewrap",
            tenant=str(tenant_id),
            context=context,
            wrapped=base64.b64encode(wrapped).decode(),
        )
        return base64.b64decode(answer["wrapped"])

    async def rotate_tenant_key(self, tenant_id: uuid.UUID) -> int:
        return int((await self._call("rotate", tenant=str(tenant_id)))["version"])

    async def destroy_tenant_key(self, tenant_id: uuid.UUID) -> None:
        await self._call("destroy", tenant=str(tenant_id))


def _close(owner: asyncio.AbstractEventLoop, stream: _Stream) -> None:
    # A connection whose loop is closed cannot be closed through it (and asyncio's
    # transport socket has no close of its own): dropped, its transport closes the
    # socket when collected.
    if not owner.is_closed():
        stream[1].close()
