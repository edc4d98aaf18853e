"""PostgreSQL's client programs (pg_dump, psql), found and run without a password on
their command line.

They come from `AUDORA_PG_BIN_DIR` when set; else from the `pgserver` wheel, whose
binaries are the embedded server's own version (pg_dump refuses a newer server than
itself); else from the PATH. A database URL is handed over as a libpq connection URI
without its password, which travels in `PGPASSWORD` (the environment of our own child
only, never its argv, which `ps` shows to every user).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import shutil
from collections.abc import AsyncGenerator
from pathlib import Path

from sqlalchemy import make_url

from audora.platform.config import Settings


class PgToolMissing(RuntimeError):
    """pg_dump or psql is nowhere to be found."""


def pg_tool(settings: Settings, name: str) -> str:
    """The path of the client program `name` ("pg_dump", "psql")."""
    if settings.pg_bin_dir:
        candidate = Path(settings.pg_bin_dir) / name
        if not candidate.is_file():
            raise PgToolMissing(f"{name} is not in AUDORA_PG_BIN_DIR ({settings.pg_bin_dir})")
        return str(candidate)
    # Located without importing pgserver, whose import starts its own machinery.
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name
        if bundled.is_file():
            return str(bundled)
    found = shutil.which(name)
    if found is None:
        raise PgToolMissing(
            f"{name} not found: install PostgreSQL's client or set AUDORA_PG_BIN_DIR"
        )
    return found


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL as (libpq URI without the password, environment to add)."""
    parsed = make_url(url)
    bare = parsed.set(drivername="postgresql", password=None)
    env = {"PGPASSWORD": str(parsed.password)} if parsed.password else {}
    return bare.render_as_string(hide_password=False), env


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a client program: ours, minus any libpq settings that could
    point it elsewhere, plus `extra`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return {**base, "PGCONNECT_TIMEOUT": "10", **extra}


class PsqlRefused(RuntimeError):
    """psql stopped at an error: its one transaction was rolled back. `stderr` holds
    SQLSTATEs only (no error context, so never a row it was loading)."""

    def __init__(self, code: int, stderr: bytes) -> None:
        super().__init__(f"psql exited with {code}")
        self.code = code
        self.stderr = stderr


async def _psql_transaction(settings: Settings, url: str) -> asyncio.subprocess.Process:
    """psql reading a script on its stdin as ONE transaction, as the role of `url`
    (a SQLAlchemy URL): it stops at the first error, which rolls everything back, and
    commits only on reaching the end of its input."""
    uri, env = libpq_target(url)
    return await asyncio.create_subprocess_exec(
        pg_tool(settings, "psql"),
        "--no-psqlrc",
        "--quiet",
        "--single-transaction",
        "--set=ON_ERROR_STOP=1",
        "--set=VERBOSITY=sqlstate",
        "--set=SHOW_CONTEXT=never",
        f"--dbname={uri}",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=child_env(env),
    )


async def run_script(settings: Settings, url: str, script: AsyncGenerator[bytes, None]) -> None:
    """Run `script` through psql in one transaction, as the role of `url`. It commits
    only if psql reaches the end of the script without an error (else `PsqlRefused`).
    Whatever `script` raises goes on up, and psql is killed first: its input never
    ended, so its transaction never commits."""
    proc = await _psql_transaction(settings, url)
    if proc.stdin is None or proc.stderr is None:  # pragma: no cover (asked for PIPE)
        raise RuntimeError("psql started without its pipes")
    errors = asyncio.ensure_future(proc.stderr.read())
    try:
        try:
            async with contextlib.aclosing(script):
                async for piece in script:
                    proc.stdin.write(piece)
                    await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # psql stopped at an error; its exit code says so below
        # Only with the whole script written may psql reach its end and commit.
        proc.stdin.close()
        code = await proc.wait()
        if code != 0:
            raise PsqlRefused(code, await errors)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        errors.cancel()
