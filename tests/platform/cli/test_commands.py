"""E5 under `audora run`: started as root, the API and the worker run as `audora-app`, and
of the whole data folder that user can read the server certificate and its key and reach
the key service's socket, nothing else: not the key service's storage, not the stack's
credentials."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from audora.platform.stack.ports import free_port
from audora.platform.stack.users import APP_USER

from audora_testing import REPO, root_only, run_as


@dataclass
class Running:
    supervisor: subprocess.Popen[bytes]
    data_dir: Path
    port: int
    log: Path

    def wait_for(self, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.log.read_text(errors="replace"):
            assert self.supervisor.poll() is None, self.log.read_text(errors="replace")
            assert time.monotonic() < deadline, self.log.read_text(errors="replace")
            time.sleep(0.1)

    def child(self, command: str) -> int:
        """The pid of the supervisor's child running `audora <command>`."""
        for proc in Path("/proc").iterdir():
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except (OSError, ValueError, IndexError):
                continue
            if ppid == self.supervisor.pid and command.encode() in argv[-3:]:
                return int(proc.name)
        raise AssertionError(f"no {command} process under the supervisor")


@pytest.fixture(scope="module")
def audora_run() -> Iterator[Running]:
    if os.geteuid() != 0:
        pytest.skip("the API and worker run as audora-app only when started as root")
    data_dir = REPO / ".test-data" / f"run-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    log = data_dir.parent / f"run-{os.getpid()}.log"
    port = free_port()
    with log.open("wb") as out:
        supervisor = subprocess.Popen(
            [str(Path(sys.executable).parent / "audora"), "run"],
            cwd=REPO,
            env={
                **os.environ,
                "AUDORA_DATA_DIR": str(data_dir),
                "AUDORA_PORT": str(port),
                "AUDORA_ENV": "test",
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Running(supervisor, data_dir, port, log)
    try:
        running.wait_for("Application startup complete")
        running.wait_for("redis_version=")  # the worker is connected
        yield running
    finally:
        supervisor.send_signal(signal.SIGINT)
        try:
            supervisor.wait(timeout=60)
        except subprocess.TimeoutExpired:
            supervisor.kill()
            supervisor.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
        log.unlink(missing_ok=True)


def _uid_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert len(set(uids)) == 1  # real, effective, saved and file-system uid alike
    return int(uids[0])


@root_only
def test_audora_run_under_root_runs_the_api_and_worker_as_audora_app(
    audora_run: Running,
) -> None:
    app_uid = pwd.getpwnam(APP_USER).pw_uid
    assert _uid_of(audora_run.child("serve")) == app_uid
    assert _uid_of(audora_run.child("worker")) == app_uid
    # ... and they still reach everything: readiness asks PostgreSQL, Redis, the object
    # store and the key service, over TLS with the local CA's certificate.
    trust = ssl.create_default_context(cafile=str(audora_run.data_dir / "tls" / "ca.pem"))
    ready = httpx.get(f"https://localhost:{audora_run.port}/readyz", timeout=10, verify=trust)
    assert ready.status_code == 200, ready.text


SIGN_UP = """mutation { signUp(input: {accountName: "Studio", email: "run@example.com",
  password: "a long passphrase", fullName: "Me"}) { account { id } } }"""

# Run as audora-app: try every path root sees under the data folder.
TRY_EVERY_PATH = """
import json, os, socket, stat, sys
reached = []
for path in json.loads(sys.stdin.read()):
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode):
            os.listdir(path)
        elif stat.S_ISSOCK(mode):
            with socket.socket(socket.AF_UNIX) as sock:
                sock.connect(path)
        else:
            with open(path, "rb") as f:
                f.read(1)
        reached.append(path)
    except OSError:
        pass
print(json.dumps(reached))
"""


@root_only
def test_audora_app_reads_nothing_of_the_data_folder_but_the_server_certificate(
    audora_run: Running,
) -> None:
    data_dir = audora_run.data_dir
    # A sign-up through the API gives the key service a tenant's KEK to keep.
    trust = ssl.create_default_context(cafile=str(data_dir / "tls" / "ca.pem"))
    signed_up = httpx.post(
        f"https://localhost:{audora_run.port}/graphql",
        json={"query": SIGN_UP},
        timeout=30,
        verify=trust,
    ).json()
    account = signed_up["data"]["signUp"]["account"]["id"].removeprefix("acc_")
    everything = [str(p) for p in data_dir.rglob("*")]
    assert str(data_dir / "kms" / "keys" / f"{account}.json") in everything

    reached = run_as(APP_USER, TRY_EVERY_PATH, stdin=json.dumps(everything))
    assert sorted(Path(p).relative_to(data_dir).as_posix() for p in reached) == [
        "kms-socket",
        "kms-socket/kms.sock",
        "s3-lock",
        "s3-lock/identities.lock",
        "tls",
        "tls/ca.pem",
        "tls/server-key.pem",
        "tls/server.pem",
    ]
