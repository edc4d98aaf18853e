"""The SMTP catcher: a real SMTP server (aiosmtpd) that writes every message it receives
to `<dir>/<timestamp>-<n>.eml` instead of delivering it."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _WriteToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.counter = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = self.folder / f"{stamp}-{next(self.counter)}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(path)  # readers never see half a message
        return "250 Message accepted for delivery"


class SmtpCatcher:
    def __init__(self, folder: Path, *, port: int) -> None:
        self.folder = folder
        self.port = port
        self.controller: Controller | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.controller = Controller(
            _WriteToFolder(self.folder), hostname="127.0.0.1", port=self.port
        )
        self.controller.start()

    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None
