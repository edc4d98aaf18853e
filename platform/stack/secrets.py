"""Credentials of the embedded stack, generated on first start and kept in
`<data dir>/secrets.json` (mode 0600), so a second `make run` reuses its data."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class StackSecrets:
    postgres_password: str
    app_password: str
    gateway_password: str
    provisioner_password: str
    redis_password: str
    s3_access_key: str
    s3_secret_key: str
    kms_token: str
    s3_sse_kek: str
    seaweed_iam_password: str

    @classmethod
    def load_or_create(cls, data_dir: Path) -> StackSecrets:
        path = data_dir / "secrets.json"
        stored = json.loads(path.read_text()) if path.exists() else {}
        made = cls(
            postgres_password=stored.get("postgres_password") or secrets.token_hex(16),
            app_password=stored.get("app_password") or secrets.token_hex(16),
            gateway_password=stored.get("gateway_password") or secrets.token_hex(16),
            provisioner_password=stored.get("provisioner_password") or secrets.token_hex(16),
            redis_password=stored.get("redis_password") or secrets.token_hex(16),
            s3_access_key=stored.get("s3_access_key")
            or "AUDORAADMIN" + secrets.token_hex(4).upper(),
            s3_secret_key=stored.get("s3_secret_key") or secrets.token_hex(20),
            kms_token=stored.get("kms_token") or secrets.token_hex(24),
            # SeaweedFS's own key for bucket server-side encryption; it must never change
            # once objects are written under it.
            s3_sse_kek=stored.get("s3_sse_kek") or secrets.token_hex(32),
            # The role of SeaweedFS's credential database (tenants' S3 keys).
            seaweed_iam_password=stored.get("seaweed_iam_password") or secrets.token_hex(16),
        )
        if asdict(made) != stored:  # first start, or a secret added since the last
            data_dir.mkdir(parents=True, exist_ok=True)
            # 0600 from the start: it holds SeaweedFS's encryption key among the rest.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(json.dumps(asdict(made), indent=2))
        return made
