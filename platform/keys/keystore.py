"""The local key service's own storage: one file per tenant under its key folder, mode
0600, written atomically. Only `local_server` imports this module; the API and workers
have no path to it (a test checks the import graph)."""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TenantKeys:
    versions: dict[int, bytes] = field(default_factory=dict)
    current: int = 0
    destroyed: bool = False


class Keystore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)

    def _path(self, tenant_id: uuid.UUID) -> Path:
        return self.folder / f"{tenant_id.hex}.json"

    def load(self, tenant_id: uuid.UUID) -> TenantKeys | None:
        path = self._path(tenant_id)
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        return TenantKeys(
            versions={int(v): base64.b64decode(k) for v, k in raw["versions"].items()},
            current=int(raw["current"]),
            destroyed=bool(raw["destroyed"]),
        )

    def save(self, tenant_id: uuid.UUID, keys: TenantKeys) -> None:
        path = self._path(tenant_id)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(
                {
                    "versions": {
                        str(v): base64.b64encode(k).decode() for v, k in keys.versions.items()
                    },
                    "current": keys.current,
                    "destroyed": keys.destroyed,
                },
                out,
            )
            out.flush()
            os.fsync(out.fileno())
        tmp.rename(path)

    def shred(self, tenant_id: uuid.UUID) -> None:
        """Overwrite the tenant's key file in place before it is replaced by a tombstone,
        so the key material does not linger in freed blocks."""
        path = self._path(tenant_id)
        if path.exists():
            size = path.stat().st_size
            with path.open("r+b") as out:
                out.write(os.urandom(size))
                out.flush()
                os.fsync(out.fileno())
        self.save(tenant_id, TenantKeys(destroyed=True))
