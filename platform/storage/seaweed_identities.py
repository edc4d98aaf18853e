"""Tenant identities on the embedded SeaweedFS, through the filer's IAM gRPC service.

Each call changes one identity: the filer writes it to its credential store (a
PostgreSQL database of the stack's own, see platform/stack/seaweed.py) and pushes that
one identity to every S3 gateway. Identity files under `/etc/iam/identities` made every
change reload the whole set in the gateway, so provisioning slowed with the number of
tenants (63/s at 250 down to 16/s at 3,000); one identity per call keeps it flat.

Each identity's actions name its own bucket only (`Read:<bucket>` ...), which the gateway
enforces like an IAM policy.

The gateway applies a pushed identity by copying its whole identity table and swapping
the copy in, without holding its lock in between (SeaweedFS 4.48), so two changes at
once can lose one: a tenant's keys would then be refused until the gateway restarts.
Changes are therefore made one at a time across the machine's processes (a lock file in
the data folder, `identity_lock_file`), and `republish` pushes an identity again.

The service has no authentication the gateway can use (the
gateway's own store calls it without a token), so the filer listens on loopback only, as
before. Production uses `IamIdentities` (AWS IAM) instead.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import httpx

from audora.platform.storage import seaweed_iam_messages as pb
from audora.platform.storage.admin import StorageCredentials

_KEY_ALPHABET = string.ascii_uppercase + string.digits
_CALL_TIMEOUT_S = 10.0


def identity_lock_file(data_dir: Path) -> Path:
    """The lock identity changes take turns on. Its folder is the one part of the data
    folder besides TLS and the key service's socket that `audora run`'s app user may
    reach (platform/stack/app_processes.py); the file holds nothing."""
    return data_dir / "s3-lock" / "identities.lock"


def new_credentials() -> StorageCredentials:
    access = "AUD" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(17))
    return StorageCredentials(access, secrets.token_urlsafe(30))


def bucket_actions(bucket: str) -> list[str]:
    return [f"{action}:{bucket}" for action in ("Read", "Write", "List", "Tagging")]


class SeaweedIdentities:
    def __init__(self, filer_grpc: str, lock_file: Path) -> None:
        self._lock_file = lock_file
        self._channel = grpc.insecure_channel(filer_grpc)  # loopback only: see the stack
        self._calls = {
            name: self._channel.unary_unary(
                f"{pb.SERVICE}/{name}",
                request_serializer=lambda message: message.SerializeToString(),
                response_deserializer=response.FromString,
            )
            for name, response in (
                ("CreateUser", pb.Empty),
                ("GetUser", pb.GetUserResponse),
                ("UpdateUser", pb.Empty),
                ("DeleteUser", pb.Empty),
            )
        }

    def _call(self, name: str, request: Any) -> Any:
        return self._calls[name](request, timeout=_CALL_TIMEOUT_S)

    @contextmanager
    def _one_change_at_a_time(self) -> Iterator[None]:
        # A file opened for each change: flock then excludes other threads of this
        # process as well as other processes.
        if not self._lock_file.parent.exists():
            self._lock_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o660)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def create(self, bucket: str) -> StorageCredentials:
        credentials = new_credentials()
        self.put(bucket, credentials)
        return credentials

    def put(self, bucket: str, credentials: StorageCredentials) -> None:
        """Create the identity of `bucket` with these keys."""
        with self._one_change_at_a_time():
            self._call("CreateUser", pb.CreateUserRequest(identity=_identity(bucket, credentials)))

    def republish(self, bucket: str, credentials: StorageCredentials) -> None:
        """Store the identity again, which pushes it to the gateway again."""
        with self._one_change_at_a_time():
            self._call(
                "UpdateUser",
                pb.UpdateUserRequest(username=bucket, identity=_identity(bucket, credentials)),
            )

    def delete(self, bucket: str) -> None:
        try:
            with self._one_change_at_a_time():
                self._call("DeleteUser", pb.DeleteUserRequest(username=bucket))
        except grpc.RpcError as exc:
            if not _not_found(exc):
                raise

    def exists(self, bucket: str) -> bool:
        try:
            self._call("GetUser", pb.GetUserRequest(username=bucket))
        except grpc.RpcError as exc:
            if _not_found(exc):
                return False
            raise
        return True

    def close(self) -> None:
        self._channel.close()


def _identity(bucket: str, credentials: StorageCredentials) -> Any:
    return pb.Identity(
        name=bucket,
        credentials=[
            pb.Credential(
                access_key=credentials.access_key,
                secret_key=credentials.secret_key,
                status="Active",
            )
        ],
        actions=bucket_actions(bucket),
    )


IDENTITY_FILES = "/etc/iam/identities"


def adopt_identity_files(filer_url: str, identities: SeaweedIdentities) -> int:
    """Move identity files (how earlier versions kept tenant identities) into the
    credential store with their keys, then remove each file. Returns how many moved."""
    moved = 0
    with httpx.Client(base_url=filer_url, timeout=10) as filer:
        for path, content in _identity_files(filer):
            identity = json.loads(content)
            key = identity["credentials"][0]
            try:
                identities.put(
                    str(identity["name"]),
                    StorageCredentials(
                        key.get("access_key") or key["accessKey"],
                        key.get("secret_key") or key["secretKey"],
                    ),
                )
            except grpc.RpcError as exc:
                if not (
                    isinstance(exc, grpc.Call) and exc.code() == grpc.StatusCode.ALREADY_EXISTS
                ):
                    raise
            filer.delete(path).raise_for_status()
            moved += 1
    return moved


def _identity_files(filer: httpx.Client) -> list[tuple[str, bytes]]:
    """Each identity file's path and content. The filer keeps small files under /etc
    inside their entries, where a plain GET reads them as empty."""
    found: list[tuple[str, bytes]] = []
    last = ""
    while True:
        listing = filer.get(
            f"{IDENTITY_FILES}/",
            params={"limit": 1000, "lastFileName": last},
            headers={"Accept": "application/json"},
        )
        if listing.status_code == 404:
            return found
        listing.raise_for_status()
        page = listing.json()
        entries = page.get("Entries") or []
        found += [
            (str(e["FullPath"]), base64.b64decode(e.get("Content") or ""))
            for e in entries
            if str(e["FullPath"]).endswith(".json")
        ]
        if not entries or not page.get("ShouldDisplayLoadMore"):
            return found
        last = str(entries[-1]["FullPath"]).rsplit("/", 1)[-1]


def _not_found(exc: grpc.RpcError) -> bool:
    return isinstance(exc, grpc.Call) and bool(exc.code() == grpc.StatusCode.NOT_FOUND)
