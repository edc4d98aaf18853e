"""E4, E5 and L6 at the key service: data keys come wrapped by a per-tenant KEK that
never leaves the key service process; rotation keeps old data readable; destroying a
tenant's key makes everything wrapped under it unreadable for good."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from audora.platform.crypto.envelope import Binding, open_sealed, seal
from audora.platform.keys.local_client import LocalKeyService
from audora.platform.keys.service import KeyDestroyed, KeyServiceError, UnwrapFailed

REPO = Path(__file__).resolve().parents[3]
TOKEN = "test-token-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def key_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalKeyService, Path]]:
    folder = tmp_path_factory.mktemp("kms")
    socket = folder / "kms.sock"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "audora.platform.keys.local_server",
            "--dir",
            str(folder),
            "--socket",
            str(socket),
        ],
        env={**os.environ, "AUDORA_KMS_TOKEN": TOKEN},
    )
    deadline = time.monotonic() + 20
    while not socket.exists():
        assert proc.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        yield LocalKeyService(socket, TOKEN), folder
    finally:
        proc.terminate()
        proc.wait(timeout=10)


CONTEXT = {"tenant": "t", "class": "notes"}


async def test_data_keys_round_trip_and_are_bound_to_tenant_and_context(
    key_service: tuple[LocalKeyService, Path],
) -> None:
    kms, _ = key_service
    a, b = uuid.uuid4(), uuid.uuid4()
    await kms.create_tenant_key(a)
    await kms.create_tenant_key(b)
    key = await kms.generate_data_key(a, CONTEXT)
    assert len(key.plaintext) == 32
    assert key.plaintext not in key.wrapped
    assert await kms.decrypt_data_key(a, key.wrapped, CONTEXT) == key.plaintext
    with pytest.raises(UnwrapFailed):
        await kms.decrypt_data_key(b, key.wrapped, CONTEXT)  # another tenant's KEK
    with pytest.raises(UnwrapFailed):
        await kms.decrypt_data_key(a, key.wrapped, {**CONTEXT, "class": "budget"})
    with pytest.raises(UnwrapFailed):
        await kms.decrypt_data_key(a, key.wrapped[:-1] + bytes([key.wrapped[-1] ^ 1]), CONTEXT)


async def test_rotation_keeps_old_keys_readable_and_rewraps_to_the_new_version(
    key_service: tuple[LocalKeyService, Path],
) -> None:
    kms, _ = key_service
    tenant = uuid.uuid4()
    await kms.create_tenant_key(tenant)
    old = await kms.generate_data_key(tenant, CONTEXT)
    assert await kms.rotate_tenant_key(tenant) == 2
    assert await kms.decrypt_data_key(tenant, old.wrapped, CONTEXT) == old.plaintext
    rewrapped = await kms.rewrap(tenant, old.wrapped, CONTEXT)
    assert rewrapped != old.wrapped
    assert int.from_bytes(rewrapped[3:7], "big") == 2
    assert await kms.decrypt_data_key(tenant, rewrapped, CONTEXT) == old.plaintext


async def test_a_destroyed_tenant_key_erases_its_data_for_good(
    key_service: tuple[LocalKeyService, Path],
) -> None:
    kms, folder = key_service
    tenant = uuid.uuid4()
    await kms.create_tenant_key(tenant)
    key = await kms.generate_data_key(tenant, CONTEXT)
    binding = Binding(tenant, "client_profiles/notes/1")
    stored = seal(key.plaintext, 1, binding, b"the client's roadmap")
    key_file = folder / "keys" / f"{tenant.hex}.json"
    before = key_file.read_bytes()
    await kms.destroy_tenant_key(tenant)
    with pytest.raises(KeyDestroyed):
        await kms.decrypt_data_key(tenant, key.wrapped, CONTEXT)
    with pytest.raises(KeyDestroyed):
        await kms.generate_data_key(tenant, CONTEXT)
    assert before != key_file.read_bytes()
    assert b'versions": {}' in key_file.read_bytes()
    # Only a key that was kept elsewhere could open it, and none is.
    assert open_sealed(key.plaintext, binding, stored) == b"the client's roadmap"


async def test_a_wrong_token_is_refused(key_service: tuple[LocalKeyService, Path]) -> None:
    kms, _ = key_service
    intruder = LocalKeyService(kms.socket_path, "guess")
    with pytest.raises(KeyServiceError, match="forbidden"):
        await intruder.generate_data_key(uuid.uuid4(), CONTEXT)


def test_key_files_are_private_to_the_key_service(
    key_service: tuple[LocalKeyService, Path],
) -> None:
    _, folder = key_service
    assert (folder / "keys").stat().st_mode & 0o777 == 0o700
    for key_file in (folder / "keys").glob("*.json"):
        assert key_file.stat().st_mode & 0o777 == 0o600


def test_no_api_or_worker_module_can_reach_the_keystore() -> None:
    """E5: the keystore is imported by the key service process alone."""
    allowed = {REPO / "platform/keys/local_server.py", REPO / "platform/keys/keystore.py"}
    offenders = []
    for folder in ("platform", "tenants", "schema", "admin"):
        for path in (REPO / folder).rglob("*.py"):
            if path in allowed:
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                if any("keystore" in name or "local_server" in name for name in names):
                    offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
