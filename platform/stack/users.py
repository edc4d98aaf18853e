"""The system users the embedded stack runs its parts as when it is started as root.

Under root each part that holds something the others must not read runs as a user of its
own, so that the file system keeps them apart, not only the code:

- `audora-pg` runs PostgreSQL (which refuses to run as root) and owns its data folder;
- `audora-kms` runs the key service and alone may enter `<data dir>/kms/`, where every
  tenant's key-encryption keys are;
- `audora-app` runs the API and the workers (`audora run`): it may read the server
  certificate and its key and connect to the key service's socket, nothing else of the
  data folder.

Started by an ordinary user, every part runs as that user: the modes (0700/0600) keep
other users out, but nothing but the code keeps the API out of the key service's folder.
Production does not use the embedded key service (AWS KMS, `AUDORA_KEY_SERVICE`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from audora.platform.stack.process import StackError

PG_USER = "audora-pg"
KMS_USER = "audora-kms"
APP_USER = "audora-app"


def running_as_root() -> bool:
    return os.geteuid() == 0


def ensure_system_user(name: str) -> pwd.struct_passwd:
    """The system user `name` with a group of its own, no home and no login shell."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(  # noqa: S603  (a fixed command; `name` is one of the constants above)
            [
                shutil.which("useradd") or "/usr/sbin/useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)


def ensure_traversable(path: Path) -> None:
    """Let an unprivileged user reach `path` through every parent (search, not list)."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def require_python_reachable(user: str) -> None:
    """Fail with a way out, rather than with EACCES from exec, when `user` could not run
    this interpreter or import this code: a folder on the way is private to its owner (a
    venv made from a Python under root's home, say). We do not open such a folder up."""
    here = Path(__file__).resolve()
    for path in (Path(sys.executable), Path(sys.prefix), Path(sys.base_prefix), here):
        for parent in path.resolve().parents:
            if not parent.stat().st_mode & stat.S_IXOTH:
                raise StackError(
                    f"under root parts of the stack run as {user}, which cannot enter "
                    f"{parent} to run {path}: make the venv from a Python outside it "
                    "(rm -rf .venv && make install PYTHON=/usr/bin/python3)"
                )


def chown_tree(path: Path, uid: int, gid: int) -> None:
    """`path` and everything under it, without following links."""
    os.chown(path, uid, gid, follow_symlinks=False)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)
