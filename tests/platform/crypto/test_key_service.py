"""E4, E5 and L6 at the key service: data keys come wrapped by a per-tenant KEK that
never leaves the key service process (no operation returns one, and no module but the
service's own reaches its storage); rotation keeps old data readable; destroying a
tenant's key makes everything wrapped under it unreadable for good."""

from __future__ import annotations

import ast
import asyncio
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
from audora.platform.keys.local_server import MAX_MANY, OPERATIONS
from audora.platform.keys.service import (
    KeyDestroyed,
    KeyServiceError,
    UnwrapFailed,
    WrappedKey,
)
from audora.platform.keys.wire import read_message, write_message

REPO = Path(__file__).resolve().parents[3]
TOKEN = "test-token-" + uuid.uuid4().hex


def _start_key_service(folder: Path, socket: Path) -> subprocess.Popen[bytes]:
    socket.unlink(missing_ok=True)
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
    return proc


@pytest.fixture(scope="module")
def key_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalKeyService, Path]]:
    folder = tmp_path_factory.mktemp("kms")
    proc = _start_key_service(folder, folder / "kms.sock")
    try:
        yield LocalKeyService(folder / "kms.sock", TOKEN), folder
    finally:
        proc.terminate()
        proc.wait(timeout=10)


CONTEXT = {"tenant": "t", "class": "notes"}


async def _two_tenants(kms: LocalKeyService) -> tuple[uuid.UUID, uuid.UUID]:
    """Two tenants, each with its own KEK."""
    a, b = uuid.uuid4(), uuid.uuid4()
    await kms.create_tenant_key(a)
    await kms.create_tenant_key(b)
    return a, b


async def test_data_keys_round_trip_and_are_bound_to_tenant_and_context(
    key_service: tuple[LocalKeyService, Path],
) -> None:
    kms, _ = key_service
    a, b = await _two_tenants(kms)
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


async def test_several_data_keys_unwrap_in_one_exchange_each_bound_to_tenant_and_context(
    key_service: tuple[LocalKeyService, Path],
) -> None:
    kms, _ = key_service
    a, b = await _two_tenants(kms)
    first, second = await kms.generate_data_key(a, CONTEXT), await kms.generate_data_key(a, {})
    others = await kms.generate_data_key(b, CONTEXT)
    asked = [
        WrappedKey(first.wrapped, CONTEXT),
        WrappedKey(others.wrapped, CONTEXT),  # another tenant's KEK
        WrappedKey(first.wrapped, {**CONTEXT, "class": "budget"}),  # another context
        WrappedKey(second.wrapped, {}),
    ]
    assert await kms.decrypt_data_keys(a, asked) == [first.plaintext, None, None, second.plaintext]
    with pytest.raises(KeyServiceError, match="bad_request"):
        await kms.decrypt_data_keys(a, [WrappedKey(first.wrapped, CONTEXT)] * (MAX_MANY + 1))
    with pytest.raises(KeyServiceError, match="bad_request"):
        await kms.decrypt_data_keys(a, [])
    await kms.destroy_tenant_key(b)
    with pytest.raises(KeyDestroyed):
        await kms.decrypt_data_keys(b, [WrappedKey(others.wrapped, CONTEXT)])


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


async def test_no_operation_outside_the_fixed_set_is_answered_even_with_the_token(
    key_service: tuple[LocalKeyService, Path],
) -> None:
    """E5: there is no request for a KEK. Every operation the service answers is one of
    these, and none of them returns one."""
    kms, _ = key_service
    assert {
        "ping",
        "create",
        "generate",
        "decrypt",
        "decrypt_many",
        "rewrap",
        "rotate",
        "destroy",
    } == OPERATIONS
    tenant = uuid.uuid4()
    await kms.create_tenant_key(tenant)
    reader, writer = await asyncio.open_unix_connection(str(kms.socket_path))
    try:
        for op in ("export_key", "get_kek", "read_keys", "load", "keys", "", None, ["ping"]):
            await write_message(
                writer, {"op": op, "token": kms.token, "tenant": str(tenant), "context": {}}
            )
            answer = await read_message(reader)
            assert answer == {"error": "unknown_operation", "message": f"unknown operation {op!r}"}
    finally:
        writer.close()


def _imported_modules(tree: ast.AST) -> list[str]:
    """Modules a file imports: statically, or by name through importlib or __import__."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in {
            "import_module",
            "importlib.import_module",
            "__import__",
        }:
            names.extend(
                arg.value
                for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            )
    return names


def test_no_api_or_worker_module_can_reach_the_keystore() -> None:
    """E5: the keystore is imported by the key service process alone."""
    allowed = {REPO / "platform/keys/local_server.py", REPO / "platform/keys/keystore.py"}
    offenders = []
    for folder in ("platform", "tenants", "schema", "admin", "migrations"):
        for path in (REPO / folder).rglob("*.py"):
            if path in allowed:
                continue
            names = _imported_modules(ast.parse(path.read_text()))
            if any("keystore" in name or "local_server" in name for name in names):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_the_key_service_client_asks_only_for_operations_the_service_answers() -> None:
    """E5: the API's and workers' only way to the key service sends none but these."""
    tree = ast.parse((REPO / "platform/keys/local_client.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    ops = [n.args[0] for n in calls if ast.unparse(n.func) == "self._call"]
    # Every call names its operation literally, and each operation is sent once.
    assert all(isinstance(op, ast.Constant) for op in ops)
    assert sorted(op.value for op in ops if isinstance(op, ast.Constant)) == sorted(OPERATIONS)


async def test_a_key_service_restarted_between_calls_is_reached_again_without_an_error(
    tmp_path: Path,
) -> None:
    socket = tmp_path / "kms.sock"
    kms = LocalKeyService(socket, TOKEN)
    tenant = uuid.uuid4()
    proc = _start_key_service(tmp_path, socket)
    try:
        await kms.create_tenant_key(tenant)
        key = await kms.generate_data_key(tenant, CONTEXT)
        # The client keeps its connection open for the next call...
        assert await kms.decrypt_data_key(tenant, key.wrapped, CONTEXT) == key.plaintext
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    proc = _start_key_service(tmp_path, socket)
    try:
        # ...which the restart closed: the call goes again on a new one.
        assert await kms.decrypt_data_key(tenant, key.wrapped, CONTEXT) == key.plaintext
        # A refusal is a whole exchange: the connection stays good for the next call.
        with pytest.raises(UnwrapFailed):
            await kms.decrypt_data_key(tenant, key.wrapped, {"tenant": "other"})
        assert await kms.decrypt_data_key(tenant, key.wrapped, CONTEXT) == key.plaintext
    finally:
        await kms.close()
        proc.terminate()
        proc.wait(timeout=10)


def test_a_key_service_client_outlives_the_event_loop_it_connected_on(
    key_service: tuple[LocalKeyService, Path],
) -> None:
    _, folder = key_service
    kms = LocalKeyService(folder / "kms.sock", TOKEN)
    # Two loops in turn, as the CLI's commands run: the second finds the first's kept
    # connection, whose loop is gone, and connects anew.
    asyncio.run(kms.ping())
    asyncio.run(kms.ping())
