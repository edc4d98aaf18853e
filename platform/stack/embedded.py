"""The embedded stack: PostgreSQL, Redis, SeaweedFS, the SMTP catcher and the key service
under one data folder, started together and stopped in reverse order.

Each service keeps to its own folder, 0700. Started as root, PostgreSQL and the key
service run as system users of their own, and the data folder is 0711 so that they can
reach their folders without listing it (`platform/stack/users.py`).

Used by `make run` (under `.data/`, kept between runs) and by the test suite (a
throw-away folder, durability off).
"""

from __future__ import annotations

import fcntl
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import IO

import psycopg
from psycopg import sql

from audora.platform.db.roles import APP_ROLE, GATEWAY_ROLE, PROVISIONER_ROLE
from audora.platform.stack.keyservice import EmbeddedKeyService
from audora.platform.stack.ports import free_port
from audora.platform.stack.postgres import DEFAULT_SHARED_BUFFERS, EmbeddedPostgres
from audora.platform.stack.process import StackError, stop_leftover
from audora.platform.stack.redis import EmbeddedRedis
from audora.platform.stack.seaweed import CredentialDatabase, EmbeddedSeaweed
from audora.platform.stack.secrets import StackSecrets
from audora.platform.stack.smtp import SmtpCatcher
from audora.platform.stack.state import StackState, remove

log = logging.getLogger(__name__)

DATABASE = "audora"
# SeaweedFS's identities (tenants' S3 keys): a database and role of its own.
SEAWEED_DATABASE = "seaweedfs_iam"
SEAWEED_ROLE = "seaweedfs_iam"


class EmbeddedStack:
    def __init__(
        self,
        data_dir: Path,
        *,
        durable: bool = True,
        api_url: str = "",
        shared_buffers: str = DEFAULT_SHARED_BUFFERS,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.durable = durable
        self.api_url = api_url
        self.secrets = StackSecrets.load_or_create(self.data_dir)
        self.postgres = EmbeddedPostgres(
            self.data_dir / "postgres",
            port=free_port(),
            superuser_password=self.secrets.postgres_password,
            durable=durable,
            shared_buffers=shared_buffers,
        )
        self.redis = EmbeddedRedis(
            self.data_dir / "redis",
            port=free_port(),
            password=self.secrets.redis_password,
            durable=durable,
        )
        self.seaweed = EmbeddedSeaweed(
            self.data_dir / "s3",
            s3_port=free_port(),
            access_key=self.secrets.s3_access_key,
            secret_key=self.secrets.s3_secret_key,
            sse_kek=self.secrets.s3_sse_kek,
            credentials=CredentialDatabase(
                port=self.postgres.port,
                user=SEAWEED_ROLE,
                password=self.secrets.seaweed_iam_password,
                database=SEAWEED_DATABASE,
            ),
            durable=durable,
        )
        self.smtp = SmtpCatcher(self.data_dir / "mail", port=free_port())
        self.keys = EmbeddedKeyService(
            self.data_dir / "kms", self.data_dir / "kms-socket", token=self.secrets.kms_token
        )
        self.state: StackState | None = None
        self._lock_file: IO[str] | None = None

    def _lock(self) -> None:
        """One stack per data folder: a second one would overwrite the first's files."""
        fd = os.open(self.data_dir / "stack.lock", os.O_WRONLY | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # made 0644 by earlier versions; empty, but nobody else's
        self._lock_file = os.fdopen(fd, "w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            self._lock_file = None
            raise StackError(f"another embedded stack is running on {self.data_dir}") from None

    def _stop_leftovers(self) -> None:
        """Servers a killed supervisor left running on this folder are stopped first."""
        for service in (self.postgres.root, self.redis.root, self.seaweed.root, self.keys.root):
            for pid_file in service.glob("*.pid"):
                if stop_leftover(pid_file, str(self.data_dir)):
                    log.warning("stopped a leftover server from %s", pid_file)

    def start(self) -> StackState:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700 if os.geteuid() != 0 else 0o711)
        self._lock()
        self._stop_leftovers()
        # Mail holds sign-up and reset links; Redis and SeaweedFS keep their configuration
        # (with credentials) and data in theirs. They run as the supervisor's user.
        for folder in (self.redis.root, self.seaweed.root, self.smtp.folder):
            folder.mkdir(exist_ok=True)
            folder.chmod(0o700)
        try:
            # SeaweedFS keeps its identities in PostgreSQL, so it starts once PostgreSQL
            # answers; the mail catcher and the key service start meanwhile.
            with ThreadPoolExecutor(max_workers=2) as pool:
                for future in [pool.submit(s.start) for s in (self.postgres, self.redis)]:
                    future.result()
            self._create_databases()
            with ThreadPoolExecutor(max_workers=1) as pool:
                seaweed = pool.submit(self.seaweed.start)
                self.smtp.start()
                self.keys.start()
                seaweed.result()
        except BaseException:
            self.stop()
            raise
        self.state = StackState(
            database_url=self.postgres.url(),
            app_database_url=self.postgres.url(APP_ROLE, self.secrets.app_password),
            gateway_database_url=self.postgres.url(GATEWAY_ROLE, self.secrets.gateway_password),
            provisioner_database_url=self.postgres.url(
                PROVISIONER_ROLE, self.secrets.provisioner_password
            ),
            redis_url=self.redis.url(),
            s3_endpoint=self.seaweed.endpoint(),
            s3_access_key=self.secrets.s3_access_key,
            s3_secret_key=self.secrets.s3_secret_key,
            s3_identity_grpc=self.seaweed.filer_grpc(),
            smtp_url=self.smtp.url(),
            kms_socket=str(self.keys.socket),
            kms_token=self.secrets.kms_token,
            api_url=self.api_url,
            supervisor_pid=os.getpid(),
        )
        self.state.write(self.data_dir)
        return self.state

    def _create_databases(self) -> None:
        with psycopg.connect(
            host="127.0.0.1",
            port=self.postgres.port,
            user="postgres",
            password=self.secrets.postgres_password,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
            ).fetchone()
            if not exists:
                conn.execute(f"CREATE DATABASE {DATABASE}")
            password = self.secrets.seaweed_iam_password
            role = conn.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = %s", (SEAWEED_ROLE,)
            ).fetchone()
            verb = "ALTER" if role else "CREATE"
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
                    sql.SQL(verb), sql.Identifier(SEAWEED_ROLE), sql.Literal(password)
                )
            )
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (SEAWEED_DATABASE,)
            ).fetchone():
                conn.execute(f"CREATE DATABASE {SEAWEED_DATABASE} OWNER {SEAWEED_ROLE}")
            # Tenant roles connect to PostgreSQL too: none of them, nor the platform's,
            # may open the database that holds every tenant's S3 keys.
            conn.execute(f"REVOKE ALL ON DATABASE {SEAWEED_DATABASE} FROM PUBLIC")

    def stop(self) -> None:
        if self._lock_file is None:
            return  # never started here: nothing of ours to stop or remove
        remove(self.data_dir)
        self.smtp.stop()
        for service in (self.keys, self.seaweed, self.redis, self.postgres):
            try:
                service.stop()
            except Exception:
                log.exception("stopping %s failed", type(service).__name__)
        self._lock_file.close()
        self._lock_file = None

    def __enter__(self) -> EmbeddedStack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
