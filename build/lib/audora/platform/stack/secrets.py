"""Credentials of the embedded stack, generated on first start and kept in
`<data dir>/secrets.json` (mode 0600), so a second `make run` reuses its data."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class StackSecrets:
    postgres_password: str
    app_password: str
    provisioner_password: str
    redis_password: str
    s3_access_key: str
    s3_secret_key: str

    @classmethod
    def load_or_create(cls, data_dir: Path) -> StackSecrets:
        path = data_dir / "secrets.json"
        if path.exists():
            return cls(**json.loads(path.read_text()))
        made = cls(
            postgres_password=secrets.token_hex(16),
            app_password=secrets.token_hex(16),
            provisioner_password=secrets.token_hex(16),
            redis_password=secrets.token_hex(16),
            s3_access_key="AUDORAADMIN" + secrets.token_hex(4).upper(),
            s3_secret_key=secrets.token_hex(20),
        )
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(made), indent=2))
        path.chmod(0o600)
        return made
