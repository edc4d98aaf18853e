"""The API and worker processes `audora run` starts next to the embedded stack.

They are given everything through the environment: the stack's URLs and credentials, the
key service's socket and token, and the server certificate's files. So they need to read
nothing of the data folder but that certificate and its key. Started as root, they run as
`audora-app`, and the data folder is arranged so that this is all they can read:

    tls/                 root:audora-app  0750
    tls/server.pem       0644             tls/server-key.pem  root:audora-app 0640
    tls/ca.pem           0644             tls/ca-key.pem      root 0600 (renewals are ours)
    kms-socket/kms.sock  connect only (`platform/stack/keyservice.py`)
    s3-lock/             root:audora-app  2770   identities.lock 0660, empty: the lock
                         changes to the embedded store's identities take turns on

and stack.json, secrets.json, kms/ and every service's folder stay 0700/0600 and not
theirs. The operator's database URL is not passed on: neither process uses it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from audora.platform.stack.process import ManagedProcess
from audora.platform.stack.users import (
    APP_USER,
    ensure_system_user,
    ensure_traversable,
    require_python_reachable,
    running_as_root,
)
from audora.platform.storage.seaweed_identities import identity_lock_file
from audora.platform.tls.local_ca import ServerCertificate, ensure_server_certificate


def _share_certificate(made: ServerCertificate, gid: int) -> None:
    """The leaf certificate and its key readable by group `gid`; the CA's key stays
    root's."""
    folder = made.key_file.parent
    ensure_traversable(folder)
    os.chown(folder, 0, gid)
    folder.chmod(0o750)
    os.chown(made.key_file, 0, gid)
    made.key_file.chmod(0o640)
    made.cert_file.chmod(0o644)
    made.ca_file.chmod(0o644)


def _share_identity_lock(data_dir: Path, gid: int) -> None:
    lock = identity_lock_file(data_dir)
    lock.parent.mkdir(exist_ok=True)
    os.chown(lock.parent, 0, gid)
    lock.parent.chmod(0o2770)
    os.close(os.open(lock, os.O_RDWR | os.O_CREAT, 0o660))
    os.chown(lock, 0, gid)
    lock.chmod(0o660)


def app_processes(data_dir: Path, env: Mapping[str, str]) -> list[ManagedProcess]:
    """An API and a worker for the stack under `data_dir`, with `env` (the stack's
    exports) as their environment; under root they run as `audora-app`."""
    data_dir = data_dir.resolve()
    made = ensure_server_certificate(data_dir / "tls")
    child_env = {
        **env,
        "AUDORA_DATA_DIR": str(data_dir),
        "AUDORA_TLS_CERT_FILE": str(made.cert_file),
        "AUDORA_TLS_KEY_FILE": str(made.key_file),
    }
    child_env.pop("AUDORA_DATABASE_URL", None)
    user = None
    if running_as_root():
        app = ensure_system_user(APP_USER)
        require_python_reachable(APP_USER)
        _share_certificate(made, app.pw_gid)
        _share_identity_lock(data_dir, app.pw_gid)
        child_env.update(HOME=app.pw_dir, USER=APP_USER, LOGNAME=APP_USER)
        user = APP_USER
    me = [sys.executable, "-m", "audora.platform.cli.main"]
    return [
        ManagedProcess("api", [*me, "serve"], log_path=None, env=child_env, user=user),
        ManagedProcess("worker", [*me, "worker"], log_path=None, env=child_env, user=user),
    ]
