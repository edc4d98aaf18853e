"""The embedded stack owns its data folder: one stack per folder, and servers that a
killed supervisor left behind are stopped before a new stack starts there."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audora.platform.stack.embedded import EmbeddedStack
from audora.platform.stack.process import StackError

REPO = Path(__file__).resolve().parents[3]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_a_second_stack_on_a_running_stacks_folder_is_refused(stack: EmbeddedStack) -> None:
    before = (stack.data_dir / "stack.json").read_text()
    with pytest.raises(StackError, match="another embedded stack is running"):
        EmbeddedStack(stack.data_dir, durable=False).start()
    # The running stack's files are untouched.
    assert (stack.data_dir / "stack.json").read_text() == before


def test_servers_left_by_a_killed_supervisor_are_stopped_before_a_new_start(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "audora.platform.cli.main", "stack", "up"],
        cwd=REPO,
        env={**os.environ, "AUDORA_DATA_DIR": str(data), "AUDORA_ENV": "test"},
        stdout=(tmp_path / "supervisor.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while not (data / "stack.json").exists():
        assert supervisor.poll() is None, (tmp_path / "supervisor.log").read_text()
        assert time.monotonic() < deadline
        time.sleep(0.2)
    pids = [int(p.read_text()) for p in data.glob("*/*.pid")]
    supervisor.send_signal(signal.SIGKILL)  # no chance to stop its children
    supervisor.wait()
    try:
        assert len(pids) == 5  # postgres, redis, seaweedfs and its S3 gateway, key service
        assert all(_alive(pid) for pid in pids)
        again = EmbeddedStack(data, durable=False)
        state = again.start()
        try:
            assert not any(_alive(pid) for pid in pids)
            assert json.loads((data / "stack.json").read_text())["redis_url"] == state.redis_url
        finally:
            again.stop()
        assert not list(data.glob("*/*.pid"))
    finally:
        for pid in pids:  # whatever happened above, leave nothing running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
