"""The long-lived things a process shares: settings, clock, engines, store, Redis.

Built once at start-up by the API's lifespan or the worker's startup hook, closed at
shutdown, and handed explicitly to whatever needs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from audora.platform.auth.passwords import Passwords
from audora.platform.auth.throttle import LoginThrottle
from audora.platform.clock import Clock, OffsetClock, SystemClock
from audora.platform.config import Settings
from audora.platform.db.engines import app_engine
from audora.platform.db.tenant_engines import PRIMARY, TenantEngines
from audora.platform.keys.aws_kms import AwsKmsKeyService
from audora.platform.keys.local_client import LocalKeyService
from audora.platform.keys.service import KeyService
from audora.platform.mail.consent import consent_lookup
from audora.platform.mail.sender import MailSender
from audora.platform.storage.admin import IdentityAdmin, TenantStorageAdmin
from audora.platform.storage.iam_identities import IamIdentities
from audora.platform.storage.s3_admin import S3TenantStorageAdmin
from audora.platform.storage.seaweed_identities import SeaweedIdentities, identity_lock_file
from audora.tenants.storage.credentials import TenantBuckets


def identity_admin(settings: Settings) -> IdentityAdmin:
    if settings.s3_identity_grpc:
        return SeaweedIdentities(settings.s3_identity_grpc, identity_lock_file(settings.data_dir))
    return IamIdentities.connect(
        settings.s3_iam_endpoint or settings.s3_endpoint or None,
        settings.s3_admin_access_key,
        settings.s3_admin_secret_key,
        region=settings.s3_region,
    )


def key_service(settings: Settings) -> KeyService:
    if settings.key_service == "aws-kms":
        return AwsKmsKeyService.connect(region=settings.kms_region)
    if not settings.kms_socket:
        raise RuntimeError("no key service: set AUDORA_KMS_SOCKET and AUDORA_KMS_TOKEN")
    return LocalKeyService(Path(settings.kms_socket), settings.kms_token)


def storage_admin(settings: Settings) -> S3TenantStorageAdmin:
    return S3TenantStorageAdmin(
        settings.s3_endpoint,
        settings.s3_admin_access_key,
        settings.s3_admin_secret_key,
        identity_admin(settings),
        region=settings.s3_region,
        bucket_prefix=settings.bucket_prefix,
    )


def application_clock(settings: Settings) -> Clock:
    """The clock every schedule, expiry and job reads: the system clock in production;
    in dev and test, the system clock moved by `audora dev clock advance`."""
    if settings.env == "production":
        return SystemClock()
    return OffsetClock(dev_clock_file(settings))


def dev_clock_file(settings: Settings) -> Path:
    return settings.data_dir / "clock-offset"


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    # Two kinds of pool. Tenant-bound transactions are held for a whole request;
    # platform reads (sessions, members) are short and never wait on a tenant
    # connection, so a request holding one can always get the other: one pool for both
    # would deadlock under load. The tenant pools (and the provisioners) are one per
    # cluster, reached through the tenant's placement (platform/db/tenant_engines.py).
    tenant_engines: TenantEngines
    platform_engine: AsyncEngine
    storage: TenantStorageAdmin
    keys: KeyService
    # Each tenant's bucket, opened with that tenant's own credentials.
    buckets: TenantBuckets
    redis: Redis
    passwords: Passwords
    throttle: LoginThrottle
    mail: MailSender

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock | None = None) -> Runtime:
        platform_engine = app_engine(settings, platform=True)
        keys = key_service(settings)
        redis = Redis.from_url(settings.redis_url)
        return cls(
            settings=settings,
            clock=clock or application_clock(settings),
            tenant_engines=TenantEngines(settings, platform_engine),
            platform_engine=platform_engine,
            storage=storage_admin(settings),
            keys=keys,
            buckets=TenantBuckets(
                platform_engine, keys, endpoint=settings.s3_endpoint, region=settings.s3_region
            ),
            redis=redis,
            passwords=Passwords(settings),
            throttle=LoginThrottle(redis, settings),
            mail=MailSender(
                settings.smtp_url, settings.mail_from, consent=consent_lookup(platform_engine)
            ),
        )

    @property
    def platform_provisioner(self) -> AsyncEngine:
        """The provisioner on the primary cluster, where the platform schema is: for
        the platform rows provisioning and purging write, never a tenant's schema."""
        return self.tenant_engines.provisioner(PRIMARY)

    async def close(self) -> None:
        await self.tenant_engines.close()
        await self.platform_engine.dispose()
        await self.redis.aclose()
        await self.keys.close()
