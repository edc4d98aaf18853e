"""PostgreSQL 16 from the `pgserver` wheel's binaries, run as a plain child process.

We use pgserver for its binaries only: its own launcher listens on a unix socket with
trust authentication, and we want loopback TCP with SCRAM passwords, as in production.
PostgreSQL refuses to run as root, so under root the server runs as an unprivileged
system user that owns the data directory.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import time
from pathlib import Path

import psycopg

from audora.platform.stack.process import ManagedProcess, StackError
from audora.platform.stack.users import (
    PG_USER,
    ensure_system_user,
    ensure_traversable,
    running_as_root,
)


def _bin_dir() -> Path:
    # Located without importing pgserver, whose import starts its own machinery.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("the pgserver wheel is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


# The test stacks' and `make run`'s; the scale bench gives more (bench/scale.py).
DEFAULT_SHARED_BUFFERS = "256MB"


class EmbeddedPostgres:
    def __init__(
        self,
        root: Path,
        *,
        port: int,
        superuser_password: str,
        durable: bool = True,
        shared_buffers: str = DEFAULT_SHARED_BUFFERS,
    ) -> None:
        self.root = root
        self.durable = durable
        self.shared_buffers = shared_buffers
        self.pgdata = root / "pgdata"
        self.port = port
        self.password = superuser_password
        self.user = PG_USER if running_as_root() else None
        self.process: ManagedProcess | None = None

    def _chown(self, path: Path) -> None:
        if self.user is not None:
            entry = ensure_system_user(PG_USER)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def init(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        pwfile = self.root / "initdb.pw"
        pwfile.write_text(self.password)
        if self.user is not None:
            ensure_traversable(self.root)
            self._chown(self.root)
            self._chown(self.pgdata)
            self._chown(pwfile)
        try:
            result = subprocess.run(  # noqa: S603
                [
                    str(_bin_dir() / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    "postgres",
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-instructions",
                ],
                check=False,
                capture_output=True,
                user=self.user,
                group=ensure_system_user(PG_USER).pw_gid if self.user else None,
                extra_groups=[] if self.user else None,
                cwd=self.root,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise StackError(f"initdb failed: {result.stderr.decode(errors='replace')[-2000:]}")

    def start(self) -> None:
        # The log, the pid file and initdb's password file sit next to the cluster:
        # nobody else's business.
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        if self.user is not None:
            # Again at every start, not only at initdb: a parent's mode may have been
            # narrowed since (pytest makes its temporary root private at each run).
            ensure_traversable(self.root)
        self.init()
        self.process = ManagedProcess(
            name="postgres",
            pid_file=self.root / "postgres.pid",
            argv=[
                str(_bin_dir() / "postgres"),
                "-D",
                str(self.pgdata),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"port={self.port}",
                "-c",
                "unix_socket_directories=",
                "-c",
                "max_connections=200",
                # A worker starts by reading the statistics of every relation in its
                # database, a million at 10,000 tenants: at the default minute that
                # was a tenth of PostgreSQL's CPU while tenants signed up
                # (docs/scaling.md). Each database is still looked at every five minutes.
                "-c",
                "autovacuum_naptime=300",
                "-c",
                f"shared_buffers={self.shared_buffers}",
                # Throw-away test stacks trade durability for speed; `make run` keeps it.
                "-c",
                f"fsync={'on' if self.durable else 'off'}",
            ],
            log_path=self.root / "postgres.log",
            # SIGINT is PostgreSQL's "fast" shutdown: abort transactions, checkpoint, exit.
            stop_signal=2,
            stop_timeout=30,
            user=self.user,
        )
        self.process.start()
        self.process.wait_until_listening(self.port, timeout=30)
        self._wait_until_accepting(timeout=30)

    @property
    def pid(self) -> int:
        """The postmaster's: every backend is its child."""
        if self.process is None or self.process.pid is None:
            raise StackError("PostgreSQL is not running")
        return self.process.pid

    def _wait_until_accepting(self, timeout: float) -> None:
        """After a crash (a killed supervisor's leftover server, stopped by us) PostgreSQL
        listens while it recovers and refuses connections with SQLSTATE 57P03 until done."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user="postgres",
                    password=self.password,
                    dbname="postgres",
                    connect_timeout=5,
                ).close()
                return
            except psycopg.OperationalError as exc:
                if "starting up" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def url(self, user: str = "postgres", password: str | None = None, db: str = "audora") -> str:
        return f"postgresql+psycopg://{user}:{password or self.password}@127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        if self.process:
            self.process.stop()
