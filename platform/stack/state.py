"""What a running embedded stack tells its clients: `<data dir>/stack.json`.

The supervisor writes it once every service answers and removes it when it stops, so
its presence means "a stack is up here". Settings left empty in the environment are
filled from it; anything set in the environment wins.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audora.platform.config import Settings

STATE_FILE = "stack.json"


@dataclass(frozen=True)
class StackState:
    database_url: str
    app_database_url: str
    gateway_database_url: str
    provisioner_database_url: str
    redis_url: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_identity_grpc: str
    smtp_url: str
    kms_socket: str
    kms_token: str
    api_url: str
    supervisor_pid: int

    def write(self, data_dir: Path) -> None:
        path = data_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        # It holds the stack's generated credentials: 0600 from the start, never after.
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(json.dumps(asdict(self), indent=2))
        tmp.rename(path)

    @classmethod
    def read(cls, data_dir: Path) -> StackState | None:
        try:
            return cls(**json.loads((data_dir / STATE_FILE).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def exports(self) -> dict[str, str]:
        return {
            "AUDORA_DATABASE_URL": self.database_url,
            "AUDORA_APP_DATABASE_URL": self.app_database_url,
            "AUDORA_GATEWAY_DATABASE_URL": self.gateway_database_url,
            "AUDORA_PROVISIONER_DATABASE_URL": self.provisioner_database_url,
            "AUDORA_REDIS_URL": self.redis_url,
            "AUDORA_S3_ENDPOINT": self.s3_endpoint,
            "AWS_ACCESS_KEY_ID": self.s3_access_key,
            "AWS_SECRET_ACCESS_KEY": self.s3_secret_key,
            "AUDORA_S3_IDENTITY_GRPC": self.s3_identity_grpc,
            "AUDORA_SMTP_URL": self.smtp_url,
            "AUDORA_KMS_SOCKET": self.kms_socket,
            "AUDORA_KMS_TOKEN": self.kms_token,
            "AUDORA_API_URL": self.api_url,
        }

    def settings_values(self) -> dict[str, str]:
        """The settings this stack provides, by setting name."""
        return {
            "database_url": self.database_url,
            "app_database_url": self.app_database_url,
            "gateway_database_url": self.gateway_database_url,
            "provisioner_database_url": self.provisioner_database_url,
            "redis_url": self.redis_url,
            "s3_endpoint": self.s3_endpoint,
            "s3_admin_access_key": self.s3_access_key,
            "s3_admin_secret_key": self.s3_secret_key,
            "s3_identity_grpc": self.s3_identity_grpc,
            "smtp_url": self.smtp_url,
            "kms_socket": self.kms_socket,
            "kms_token": self.kms_token,
        }

    def apply_to(self, settings: Settings) -> Settings:
        """`settings` pointed at this stack, whatever the environment said."""
        return settings.model_copy(update=self.settings_values())


def fill_from_stack(settings: Settings) -> Settings:
    """Fill the settings the environment left empty from the running stack, if any."""
    state = StackState.read(settings.data_dir)
    if state is None:
        return settings
    keep = {k: v for k, v in state.settings_values().items() if not getattr(settings, k)}
    return settings.model_copy(update=keep)


def remove(data_dir: Path) -> None:
    try:
        os.unlink(data_dir / STATE_FILE)
    except FileNotFoundError:
        pass
