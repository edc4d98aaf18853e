"""The embedded key service: `audora.platform.keys.local_server` as a process of its own,
with its keys under `<data dir>/kms/` and a unix socket for the API and workers."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from audora.platform.stack.process import ManagedProcess, StackError


class EmbeddedKeyService:
    def __init__(self, root: Path, *, token: str) -> None:
        self.root = root
        self.socket = root / "kms.sock"
        self.token = token
        self.process: ManagedProcess | None = None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        self.socket.unlink(missing_ok=True)
        self.process = ManagedProcess(
            name="key-service",
            pid_file=self.root / "key-service.pid",
            argv=[
                sys.executable,
                "-m",
                "audora.platform.keys.local_server",
                "--dir",
                str(self.root),
                "--socket",
                str(self.socket),
            ],
            env={**os.environ, "AUDORA_KMS_TOKEN": self.token},
            log_path=self.root / "key-service.log",
            stop_timeout=10,
        )
        self.process.start()
        deadline = time.monotonic() + 30
        while not self.socket.exists():
            if not self.process.running() or time.monotonic() > deadline:
                raise StackError(f"the key service did not start: {self.process.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process:
            self.process.stop()
