"""The folder platform/ must never shadow the standard library's `platform` module,
which botocore, uvicorn and others import. The server, a worker and pytest are started
from the repository root, where that folder sits first on the path, and each must still
get the real module."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from audora.platform.stack.ports import free_port

REPO = Path(__file__).resolve().parent.parent
BANNER = "runtime: Linux" if sys.platform.startswith("linux") else "runtime: Darwin"


def test_python_started_from_the_root_imports_the_standard_platform() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import platform, boto3; print(platform.system())"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() in {"Linux", "Darwin"}


def test_pytest_started_from_the_root_imports_the_standard_platform() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/platform/test_stdlib_platform.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def _wait_for_line(path: Path, needle: str, proc: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        if needle in text:
            return text
        if proc.poll() is not None:
            raise AssertionError(f"exited with {proc.returncode}:\n{text}")
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} never appeared:\n{path.read_text(errors='replace')}")


def test_the_server_started_from_the_root_serves_and_uses_the_standard_platform(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "api.log"
    env = {**stack_env, "AUDORA_PORT": str(port), "AUDORA_HOST": "127.0.0.1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "audora"), "serve"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_line(log, "Application startup complete", proc, timeout=60)
        assert BANNER in log.read_text()
        ca = Path(stack_env["AUDORA_DATA_DIR"]) / "tls" / "ca.pem"
        trust = ssl.create_default_context(cafile=str(ca))
        ready = httpx.get(f"https://localhost:{port}/readyz", timeout=10, verify=trust)
        assert ready.status_code == 200, ready.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_worker_started_from_the_root_uses_the_standard_platform(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "audora"), "worker"],
            cwd=REPO,
            env=stack_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_line(log, BANNER, proc, timeout=60)
        _wait_for_line(log, "Starting worker", proc, timeout=60)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0 or proc.returncode == -15, log.read_text()


def test_stack_env_prints_the_running_stacks_urls(stack_env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "audora"), "stack", "env"],
        cwd=REPO,
        env=stack_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    exported = dict(
        line.removeprefix("export ").split("=", 1) for line in result.stdout.splitlines()
    )
    for key in (
        "AUDORA_DATABASE_URL",
        "AUDORA_REDIS_URL",
        "AUDORA_S3_ENDPOINT",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AUDORA_SMTP_URL",
        "AUDORA_API_URL",
    ):
        assert key in exported
    assert os.path.isdir(stack_env["AUDORA_DATA_DIR"])
