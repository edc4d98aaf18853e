"""Each backup's own data key: generated under the tenant's KEK, bound to the tenant and
the backup, stored only wrapped (in `platform.backups`)."""

from __future__ import annotations

import uuid

from audora.tenants.keys.data_keys import key_context

PURPOSE = "backup"
KEY_VERSION = 1  # one key per backup, never rotated: the backup lives 30 days


def backup_key_context(tenant_id: uuid.UUID, backup_id: uuid.UUID) -> dict[str, str]:
    return {**key_context(tenant_id, PURPOSE), "backup": str(backup_id)}
