"""`KeyService` over the local key service's unix socket."""

from __future__ import annotations

import asyncio
import base64
import uuid
from pathlib import Path
from typing import Any

from audora.platform.keys.service import (
    DataKey,
    KeyDestroyed,
    KeyServiceError,
    UnwrapFailed,
)
from audora.platform.keys.wire import read_message, write_message


class LocalKeyService:
    def __init__(self, socket_path: Path, token: str, *, timeout: float = 5.0) -> None:
        self.socket_path = socket_path
        self.token = token
        self.timeout = timeout

    async def _call(self, op: str, **fields: Any) -> dict[str, Any]:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.socket_path)), self.timeout
            )
        except (OSError, TimeoutError) as exc:
            raise KeyServiceError(f"key service unreachable: {exc}") from None
        try:
            await write_message(writer, {"op": op, "token": self.token, **fields})
            response = await asyncio.wait_for(read_message(reader), self.timeout)
        finally:
            writer.close()
        error = response.get("error")
        if error == "destroyed":
            raise KeyDestroyed(str(response.get("message")))
        if error == "unwrap_failed":
            raise UnwrapFailed(str(response.get("message")))
        if error:
            raise KeyServiceError(f"{error}: {response.get('message')}")
        return response

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
