"""One tenant's bucket, reached with that tenant's own one-bucket credentials.

Objects go up as multipart uploads, one part in flight while the next is gathered, so
any size streams through in bounded memory; an upload that fails or is abandoned is
aborted, leaving no object and no stray parts. boto3 is synchronous: every call runs in
a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from audora.platform.storage.s3_admin import missing

# S3's smallest part, except the last, is 5 MiB; 8 MiB keeps the part count of a 2 GB
# recording (256) far below the 10,000 limit.
PART_BYTES = 8 * 1024 * 1024
READ_BYTES = 1024 * 1024
# S3 deletes at most this many objects per DeleteObjects request.
DELETE_BATCH = 1000
DELETES_IN_FLIGHT = 8


@dataclass(frozen=True)
class StoredVersion:
    key: str
    # "null" for an object stored while the bucket was unversioned: deleting it by that
    # id removes it; deleting without an id would only hide it behind a delete marker.
    version_id: str | None
    modified: datetime


class TenantBucket:
    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    async def put_stream(self, key: str, source: AsyncIterable[bytes]) -> int:
        """Store what `source` yields under `key`; return the bytes stored. Nothing is
        left behind if `source` or the store fails, or the caller is cancelled."""
        upload = await asyncio.to_thread(
            self.client.create_multipart_upload, Bucket=self.bucket, Key=key
        )
        upload_id = upload["UploadId"]
        parts: list[dict[str, Any]] = []
        in_flight: asyncio.Future[dict[str, Any]] | None = None
        stored = 0
        try:
            buffer = bytearray()
            async for piece in source:
                buffer += piece
                if len(buffer) >= PART_BYTES:
                    if in_flight is not None:
                        parts.append(await in_flight)
                    in_flight = self._send_part(key, upload_id, len(parts) + 1, bytes(buffer))
                    stored += len(buffer)
                    buffer.clear()
            if in_flight is not None:
                parts.append(await in_flight)
                in_flight = None
            if buffer or not parts:
                parts.append(await self._send_part(key, upload_id, len(parts) + 1, bytes(buffer)))
                stored += len(buffer)
            await asyncio.to_thread(
                self.client.complete_multipart_upload,
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
            return stored
        except BaseException:
            if in_flight is not None:
                await asyncio.wait([in_flight])
            await asyncio.shield(self._abort(key, upload_id))
            raise

    def _send_part(
        self, key: str, upload_id: str, number: int, body: bytes
    ) -> asyncio.Future[dict[str, Any]]:
        def send() -> dict[str, Any]:
            sent = self.client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )
            return {"PartNumber": number, "ETag": sent["ETag"]}

        return asyncio.ensure_future(asyncio.to_thread(send))

    async def _abort(self, key: str, upload_id: str) -> None:
        try:
            await asyncio.to_thread(
                self.client.abort_multipart_upload,
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
            )
        except ClientError as exc:
            if not missing(exc):
                raise

    async def get_stream(self, key: str) -> AsyncIterator[bytes]:
        body = (await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=key))[
            "Body"
        ]
        try:
            while piece := await asyncio.to_thread(body.read, READ_BYTES):
                yield piece
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=key)

    async def keys(self, prefix: str = "") -> list[str]:
        listed = await asyncio.to_thread(
            self.client.list_objects_v2, Bucket=self.bucket, Prefix=prefix
        )
        return [item["Key"] for item in listed.get("Contents", [])]

    async def versions_under(self, prefix: str, *, fan_out: str = "") -> list[StoredVersion]:
        """Every version under `prefix`, delete markers included: what must go for an
        object to be gone from a versioned bucket, not merely hidden. With `fan_out`, a
        prefix holding more than one page is listed again as one listing per `prefix +
        character`, run side by side: a store lists a thousand keys a request, so a
        large prefix is many round trips."""
        found: list[StoredVersion] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        while True:
            page = await asyncio.to_thread(self.client.list_object_versions, **kwargs)
            if fan_out and page.get("IsTruncated"):
                # More than a page: split. Most tenants' prefixes fit in one page (or are
                # empty), and one request beats sixteen.
                parts = await asyncio.gather(*(self.versions_under(prefix + c) for c in fan_out))
                return [version for part in parts for version in part]
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                found.append(
                    StoredVersion(item["Key"], item.get("VersionId"), item["LastModified"])
                )
            if not page.get("IsTruncated"):
                return found
            kwargs["KeyMarker"] = page.get("NextKeyMarker")
            kwargs["VersionIdMarker"] = page.get("NextVersionIdMarker")

    async def delete_versions(self, versions: list[StoredVersion]) -> list[str]:
        """Delete these object versions, a thousand per request (S3's limit), a few
        requests at a time; returns the keys the store refused, which the caller must
        not count as gone."""
        gate = asyncio.Semaphore(DELETES_IN_FLIGHT)

        async def batch(start: int) -> list[str]:
            objects = [
                {"Key": v.key, **({"VersionId": v.version_id} if v.version_id else {})}
                for v in versions[start : start + DELETE_BATCH]
            ]
            async with gate:
                answer = await asyncio.to_thread(
                    self.client.delete_objects,
                    Bucket=self.bucket,
                    Delete={"Objects": objects, "Quiet": True},
                )
            return [error["Key"] for error in answer.get("Errors", [])]

        refused = await asyncio.gather(*(batch(s) for s in range(0, len(versions), DELETE_BATCH)))
        return [key for keys in refused for key in keys]
