"""The local key service's wire format: a 4-byte big-endian length, then JSON."""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

MAX_MESSAGE = 1 << 20


async def read_message(reader: asyncio.StreamReader) -> dict[str, Any]:
    (length,) = struct.unpack(">I", await reader.readexactly(4))
    if length > MAX_MESSAGE:
        raise ValueError("message too large")
    message = json.loads(await reader.readexactly(length))
    if not isinstance(message, dict):
        raise ValueError("a message is a JSON object")
    return message


async def write_message(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode()
    writer.write(struct.pack(">I", len(data)) + data)
    await writer.drain()
