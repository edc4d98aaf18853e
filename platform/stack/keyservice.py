"""The embedded key service: `audora.platform.keys.local_server` as a process of its own,
with its keys under `<data dir>/kms/` and its unix socket in `<data dir>/kms-socket/`.

The socket has a folder of its own so that the API and workers can be let in to it
without being let in to the keys. Started as root, the service runs as `audora-kms`:

    kms/          audora-kms:audora-kms  0700   keys/ 0700, one file per tenant 0600
    kms-socket/   audora-kms:audora-app  2750   kms.sock 0660, group audora-app (setgid)

so `audora-app` (the API and workers under `audora run`) can connect, and every request
still carries the token, but cannot list or read a key file. Started by an ordinary user,
both folders are that user's, 0700 (see `platform/stack/users.py`).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from audora.platform.stack.process import ManagedProcess, StackError
from audora.platform.stack.users import (
    APP_USER,
    KMS_USER,
    chown_tree,
    ensure_system_user,
    ensure_traversable,
    require_python_reachable,
    running_as_root,
)


class EmbeddedKeyService:
    def __init__(self, root: Path, socket_dir: Path, *, token: str) -> None:
        self.root = root
        self.socket_dir = socket_dir
        self.socket = socket_dir / "kms.sock"
        self.token = token
        self.user = KMS_USER if running_as_root() else None
        self.process: ManagedProcess | None = None

    def _prepare_folders(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        if self.user is None:
            self.socket_dir.chmod(0o700)
            return
        kms = ensure_system_user(KMS_USER)
        app = ensure_system_user(APP_USER)
        require_python_reachable(KMS_USER)
        ensure_traversable(self.root)
        # Keys written by an earlier run as root become the service's own. The log and
        # pid file stay root's: the supervisor writes them.
        os.chown(self.root, kms.pw_uid, kms.pw_gid)
        if (self.root / "keys").exists():
            chown_tree(self.root / "keys", kms.pw_uid, kms.pw_gid)
        os.chown(self.socket_dir, kms.pw_uid, app.pw_gid)
        self.socket_dir.chmod(0o2750)  # setgid: the socket is made with group audora-app

    def start(self) -> None:
        self._prepare_folders()
        self.socket.unlink(missing_ok=True)
        env = {**os.environ, "AUDORA_KMS_TOKEN": self.token}
        if self.user is not None:
            env.update(HOME=str(self.root), USER=self.user, LOGNAME=self.user)
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
            env=env,
            log_path=self.root / "key-service.log",
            stop_timeout=10,
            user=self.user,
            cwd=self.root,
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
