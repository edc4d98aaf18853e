"""E5 on the embedded stack: started as root, the key service runs as `audora-kms` and its
storage is closed to `audora-app`, the API's and workers' user, which can still use the
service over its socket with the token."""

from __future__ import annotations

import base64
import pwd
import uuid
from pathlib import Path

from audora.platform.keys.local_client import LocalKeyService
from audora.platform.stack.embedded import EmbeddedStack
from audora.platform.stack.users import APP_USER, KMS_USER

from audora_testing import root_only, run_as

CONTEXT = {"tenant": "t", "class": "notes"}

# Run as audora-app: every way in to the key files, then the service itself.
AS_THE_API = """
import asyncio, base64, json, os, sys, uuid
from pathlib import Path
from audora.platform.keys.local_client import LocalKeyService

kms, socket, tenant = sys.stdin.read().split()
attempts = {
    "list kms/": lambda: os.listdir(kms),
    "list kms/keys/": lambda: os.listdir(Path(kms, "keys")),
    "read the key file": lambda: Path(kms, "keys", uuid.UUID(tenant).hex + ".json").read_bytes(),
}
refused = {}
for name, attempt in attempts.items():
    try:
        attempt()
        refused[name] = None
    except OSError as exc:
        refused[name] = type(exc).__name__

async def use_the_service():
    service = LocalKeyService(Path(socket), os.environ["AUDORA_KMS_TOKEN"])
    await service.ping()
    key = await service.generate_data_key(uuid.UUID(tenant), {"tenant": "t", "class": "notes"})
    return {"plaintext": base64.b64encode(key.plaintext).decode(),
            "wrapped": base64.b64encode(key.wrapped).decode()}

print(json.dumps({"refused": refused, "data_key": asyncio.run(use_the_service())}))
"""


def _uid_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert len(set(uids)) == 1  # real, effective, saved and file-system uid alike
    return int(uids[0])


@root_only
async def test_the_key_service_storage_is_unreadable_to_the_api_user(
    stack: EmbeddedStack,
) -> None:
    kms_user = pwd.getpwnam(KMS_USER)
    folder = stack.keys.root
    assert stack.keys.process is not None
    assert stack.keys.process.pid is not None
    assert _uid_of(stack.keys.process.pid) == kms_user.pw_uid
    for private in (folder, folder / "keys"):
        assert (private.stat().st_uid, private.stat().st_mode & 0o7777) == (
            kms_user.pw_uid,
            0o700,
        )

    service = LocalKeyService(stack.keys.socket, stack.keys.token)
    tenant = uuid.uuid4()
    await service.create_tenant_key(tenant)
    key_file = folder / "keys" / f"{tenant.hex}.json"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.stat().st_uid == kms_user.pw_uid

    seen = run_as(
        APP_USER,
        AS_THE_API,
        stdin=f"{folder} {stack.keys.socket} {tenant}",
        env={"AUDORA_KMS_TOKEN": stack.keys.token},
    )
    assert seen["refused"] == {
        "list kms/": "PermissionError",
        "list kms/keys/": "PermissionError",
        "read the key file": "PermissionError",
    }
    # ... while the service answers it: a data key under the tenant's KEK, which only
    # the key service could have made.
    wrapped = base64.b64decode(seen["data_key"]["wrapped"])
    plaintext = await service.decrypt_data_key(tenant, wrapped, CONTEXT)
    assert plaintext == base64.b64decode(seen["data_key"]["plaintext"])


@root_only
def test_the_key_service_socket_is_shared_with_the_api_users_group_and_no_one_else(
    stack: EmbeddedStack,
) -> None:
    app_group = pwd.getpwnam(APP_USER).pw_gid
    folder, socket = stack.keys.socket_dir, stack.keys.socket
    assert (folder.stat().st_gid, folder.stat().st_mode & 0o7777) == (app_group, 0o2750)
    assert (socket.stat().st_gid, socket.stat().st_mode & 0o777) == (app_group, 0o660)
    assert stack.state is not None
    assert stack.state.kms_socket == str(socket)
