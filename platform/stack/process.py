"""A child server process the embedded stack owns: started in its own session so that a
Ctrl-C reaches only the supervisor, which then stops the children in order."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


class StackError(RuntimeError):
    """A service of the embedded stack could not start or answer."""


def _primary_group(user: str | None) -> int | None:
    return pwd.getpwnam(user).pw_gid if user else None


def wait_for_port(port: int, *, timeout: float, proc: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"process exited with {proc.returncode} before port {port} opened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise StackError(f"nothing answered on port {port} within {timeout:.0f}s")


@dataclass
class ManagedProcess:
    name: str
    argv: Sequence[str]
    # None: the child writes to the supervisor's own stdout and stderr.
    log_path: Path | None
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 15.0
    user: str | None = None
    env: dict[str, str] | None = None
    cwd: Path | None = None
    # Where the pid is kept, so that a later start can stop a child a killed
    # supervisor left behind.
    pid_file: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        self._start()
        if self.pid_file is not None and self.proc is not None:
            self.pid_file.parent.mkdir(parents=True, exist_ok=True)
            self.pid_file.write_text(str(self.proc.pid))

    def _start(self) -> None:
        log = None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(  # noqa: S603  (argv is built by the stack, not input)
                list(self.argv),
                stdout=log,
                stderr=subprocess.STDOUT if log else None,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                # The user's own group and no others: run with root's group still in
                # force, a directory's group bits (often none) would apply to it.
                user=self.user,
                group=_primary_group(self.user),
                extra_groups=[] if self.user else None,
                env=self.env if self.env is not None else dict(os.environ),
                cwd=self.cwd,
            )
        finally:
            if log is not None:
                log.close()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self._forget_pid()
            return
        try:
            self.proc.send_signal(self.stop_signal)
            self.proc.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass
        self._forget_pid()

    def _forget_pid(self) -> None:
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)

    def wait_until_listening(self, port: int, *, timeout: float) -> None:
        """Wait for the server to accept connections on `port`; if it dies or never
        answers, say which server and what its log last said."""
        try:
            wait_for_port(port, timeout=timeout, proc=self.proc)
        except StackError as exc:
            raise StackError(f"{self.name}: {exc}\n{self.log_tail()}") from None

    def log_tail(self, lines: int = 20) -> str:
        if self.log_path is None:
            return ""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def stop_leftover(pid_file: Path, marker: str) -> bool:
    """Stop the process named in `pid_file` if it still runs and its command line or
    working directory names `marker` (its data folder), so a reused pid is never hit.
    (Redis rewrites its command line, but works in its data folder.) True if it ran."""
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except (OSError, ValueError):
        pid_file.unlink(missing_ok=True)
        return False
    if marker not in cmdline and not cwd.startswith(marker):
        pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGINT)  # a fast, clean shutdown for all three servers
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return True
