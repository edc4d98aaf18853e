"""Tenant identities on the embedded SeaweedFS: one identity file per tenant.

SeaweedFS's gateway loads identities from files under `/etc/iam/identities/` in its
filer and picks up a changed file within milliseconds. Writing one small file per tenant
keeps provisioning flat in the number of tenants (~200/s measured), where its IAM API
rewrites the whole identity set on every call. Each identity's actions name its own
bucket only (`Read:<bucket>` ...), which the gateway enforces like an IAM policy.

The filer must be reachable by the operator side only: it has no authentication of its
own, so the embedded stack binds it to loopback. Production uses `IamIdentities`.
"""

from __future__ import annotations

import json
import secrets
import string

import httpx

from audora.platform.storage.admin import StorageCredentials

IDENTITY_DIR = "/etc/iam/identities"
_KEY_ALPHABET = string.ascii_uppercase + string.digits


def _new_credentials() -> StorageCredentials:
    access = "AUD" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(17))
    return StorageCredentials(access, secrets.token_urlsafe(30))


class SeaweedIdentityFiles:
    def __init__(self, filer_url: str) -> None:
        self.filer = httpx.Client(base_url=filer_url, timeout=10)

    def _path(self, bucket: str) -> str:
        return f"{IDENTITY_DIR}/{bucket}.json"

    def create(self, bucket: str) -> StorageCredentials:
        credentials = _new_credentials()
        identity = {
            "name": bucket,
            "credentials": [
                {
                    "access_key": credentials.access_key,
                    "secret_key": credentials.secret_key,
                    "status": "Active",
                }
            ],
            "actions": [f"{action}:{bucket}" for action in ("Read", "Write", "List", "Tagging")],
        }
        # A multipart upload, as the filer stores it for the gateway's loader; a raw PUT
        # body is saved in a form the loader reads as empty.
        response = self.filer.post(
            self._path(bucket),
            files={"file": (f"{bucket}.json", json.dumps(identity).encode(), "application/json")},
        )
        response.raise_for_status()
        return credentials

    def delete(self, bucket: str) -> None:
        response = self.filer.delete(self._path(bucket))
        if response.status_code not in (200, 202, 204, 404):
            response.raise_for_status()

    def exists(self, bucket: str) -> bool:
        return self.filer.head(self._path(bucket)).status_code == 200
