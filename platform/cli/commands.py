"""What each `audora` subcommand does."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from audora.platform.config import Settings, get_settings
from audora.platform.logs import configure, runtime_banner
from audora.platform.monitoring import init_monitoring

if TYPE_CHECKING:
    from audora.platform.runtime import Runtime
    from audora.platform.stack.embedded import EmbeddedStack
    from audora.platform.stack.process import ManagedProcess

log = logging.getLogger("audora")


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from audora.platform.http.app import create_app
    from audora.platform.tls.serving import ssl_context_factory

    settings = get_settings()
    configure(json_lines=settings.is_production)
    init_monitoring(settings)
    log.info(runtime_banner())
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ssl_context_factory=ssl_context_factory(settings),
        proxy_headers=False,
        server_header=False,
        # uvicorn's own handlers would bypass the scrubber (its access lines carry client
        # addresses): its loggers propagate to ours instead.
        log_config=None,
        log_level="info",
        lifespan="on",
    )
    uvicorn.Server(config).run()
    return 0


def worker(args: argparse.Namespace) -> int:
    from arq.worker import Worker

    from audora.platform.jobs.worker import worker_settings

    settings = get_settings()
    configure(json_lines=settings.is_production)
    init_monitoring(settings)

    async def run_worker() -> None:
        # arq's Worker binds to the event loop current at construction: build it inside.
        worker = Worker(**worker_settings())
        try:
            await worker.async_run()
        except asyncio.CancelledError:
            pass  # a signal stopped it
        finally:
            await worker.close()

    asyncio.run(run_worker())
    return 0


def _migrate(settings: Settings, concurrency: int | None = None) -> int:
    from audora.tenants.migrate.runner import MigrationAlreadyRunning, migrate_all

    try:
        report = migrate_all(
            settings,
            concurrency=concurrency or settings.migrate_concurrency,
            on_result=lambda schema, outcome: _out(f"{schema} {outcome}"),
            on_info=_out,
        )
    except MigrationAlreadyRunning as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    _out(
        f"tenants: {len(report.migrated)} migrated, {len(report.current)} already current, "
        f"{len(report.failed)} failed"
    )
    for schema, reason in sorted(report.failed.items()):
        _out(f"FAILED {schema}: {reason}")
    return 0 if report.ok else 1


def migrate(args: argparse.Namespace) -> int:
    configure("WARNING")
    return _migrate(get_settings(), args.concurrency)


def _wait_for_signal(watch: Sequence[ManagedProcess] = ()) -> None:
    """Until Ctrl-C or SIGTERM, or until one of the watched children dies."""
    stop = threading.Event()
    # SIGHUP too: closing the terminal must not orphan the servers.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        for child in watch:
            if not child.running():
                log.error("%s exited; stopping everything", child.name)
                return


def _start_stack(settings: Settings, api_url: str) -> tuple[EmbeddedStack, dict[str, str]]:
    from audora.platform.stack.embedded import EmbeddedStack

    stack = EmbeddedStack(settings.data_dir, durable=True, api_url=api_url)
    state = stack.start()
    try:
        if _migrate(state.apply_to(settings)) != 0:
            raise SystemExit("migrations failed; the stack was stopped")
    except BaseException:
        stack.stop()
        raise
    return stack, state.exports()


def stack(args: argparse.Namespace) -> int:
    configure("WARNING")
    settings = Settings()
    if args.stack_command == "env":
        from audora.platform.stack.state import StackState

        state = StackState.read(settings.data_dir)
        if state is None:
            sys.stderr.write(f"no embedded stack is running under {settings.data_dir}/\n")
            return 1
        for key, value in state.exports().items():
            _out(f"export {key}={shlex.quote(value)}")
        return 0
    running, exports = _start_stack(settings, api_url="")
    for key, value in exports.items():
        _out(f"{key}={value}")
    _out("embedded stack up; Ctrl-C stops it")
    try:
        _wait_for_signal()
    finally:
        _out("stopping the embedded stack ...")
        running.stop()
    return 0


def run(args: argparse.Namespace) -> int:
    from audora.platform.stack.app_processes import app_processes

    configure("WARNING")
    settings = Settings()
    host = "localhost" if settings.host in ("127.0.0.1", "::1", "localhost") else settings.host
    api_url = f"https://{host}:{settings.port}"
    running, exports = _start_stack(settings, api_url)
    children: list[ManagedProcess] = []
    try:
        # Under root the API and worker run as `audora-app`, which cannot read the key
        # service's folder (`platform/stack/app_processes.py`).
        children = app_processes(Path(settings.data_dir), {**os.environ, **exports})
        for child in children:
            child.start()
        _out("")
        _out(f"Audora is running: GraphQL API at {api_url}/graphql")
        if settings.env == "dev":
            _out(f"  GraphiQL:   {api_url}/graphql")
        _out(f"  readiness:  {api_url}/readyz")
        ca = Path(settings.data_dir).resolve() / "tls" / "ca.pem"
        _out(f"  TLS:        served with a certificate from the local CA {ca}")
        _out(f"              trust it: curl --cacert {ca} ..., or add it to your OS store")
        _out(f"  mail:       {Path(settings.data_dir).resolve() / 'mail'}")
        _out('  services:   eval "$(.venv/bin/audora stack env)"')
        _out("  try it:     .venv/bin/audora demo   (a demo account, a sample call, its results)")
        _out("Ctrl-C stops everything.")
        _wait_for_signal(watch=children)
    finally:
        for child in reversed(children):
            child.stop()
        _out("stopping the embedded stack ...")
        running.stop()
    return 0


async def tenants(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from audora.platform.cli import lifecycle, placement
    from audora.platform.runtime import Runtime
    from audora.tenants.provisioning.orphans import sweep_orphan_storage
    from audora.tenants.registry.tables import accounts, tenant_placements

    configure("WARNING")
    runtime = Runtime.open(get_settings())
    try:
        if args.tenants_command == "list":
            async with runtime.platform_provisioner.connect() as conn:
                rows = await conn.execute(
                    select(
                        accounts.c.id,
                        accounts.c.schema_name,
                        accounts.c.status,
                        accounts.c.created_at,
                        tenant_placements.c.cluster,
                    )
                    .outerjoin(tenant_placements, tenant_placements.c.account_id == accounts.c.id)
                    .order_by(accounts.c.created_at)
                )
                for row in rows:
                    _out(
                        f"{row.id}  {row.schema_name}  {row.status}  {row.created_at:%Y-%m-%d}"
                        f"  {row.cluster or '-'}"
                    )
        elif args.tenants_command in ("suspend", "unsuspend"):
            return await _suspension(runtime, args)
        elif args.tenants_command in lifecycle.COMMANDS:
            return await lifecycle.run(runtime, args)
        elif args.tenants_command in placement.COMMANDS:
            return await placement.run(runtime, args)
        else:
            removed = await sweep_orphan_storage(
                runtime.platform_provisioner,
                runtime.storage,
                bucket_prefix=runtime.settings.bucket_prefix,
                now=runtime.clock.now(),
            )
            _out(f"removed {len(removed)} orphan buckets")
    finally:
        await runtime.close()
    return 0


async def _suspension(runtime: Runtime, args: argparse.Namespace) -> int:
    import getpass
    import uuid

    from audora.platform.errors import AppError
    from audora.tenants.registry.suspension import suspend, unsuspend

    try:
        account_id = uuid.UUID(args.tenant.removeprefix("acc_"))
    except ValueError:
        sys.stderr.write(f"not an account id: {args.tenant}\n")
        return 2
    actor = f"operator:{getpass.getuser()}"
    try:
        if args.tenants_command == "suspend":
            change = await suspend(runtime, account_id, args.reason, actor=actor)
        else:
            change = await unsuspend(runtime, account_id, actor=actor, reason=args.reason)
    except AppError as exc:
        sys.stderr.write(f"{exc.message}\n")
        return 1
    _out(f"{change.account_id} {change.before} -> {change.after}")
    return 0


def demo(args: argparse.Namespace) -> int:
    from audora.platform.cli.demo import Options, run_demo
    from audora.platform.stack.state import StackState

    configure("WARNING")
    settings = Settings()
    api_url = args.api_url or os.environ.get("AUDORA_API_URL", "")
    if not api_url:
        state = StackState.read(Path(settings.data_dir))
        api_url = state.api_url if state is not None else ""
    if not api_url:
        sys.stderr.write(
            f"no running stack under {settings.data_dir}/: start one with `make run` "
            "(or name an API with --api-url)\n"
        )
        return 1
    ca = Path(args.ca_file) if args.ca_file else Path(settings.data_dir) / "tls" / "ca.pem"
    return run_demo(Options(api_url=api_url, ca_file=ca, timeout_seconds=args.timeout))


def schema(args: argparse.Namespace) -> int:
    from audora.schema.export import export

    _out(f"wrote {export()}")
    return 0


async def keys(args: argparse.Namespace) -> int:
    import uuid

    from sqlalchemy import select

    from audora.platform.jobs.queue import enqueue
    from audora.platform.runtime import Runtime
    from audora.tenants.keys.reencrypt import progress, reencrypt, rotate_data_keys
    from audora.tenants.keys.rotation import rotate_tenant, wrapping_versions
    from audora.tenants.registry.tables import accounts

    configure("WARNING")
    runtime = Runtime.open(get_settings())
    try:
        if getattr(args, "tenant", None):
            tenants = [uuid.UUID(args.tenant.removeprefix("acc_"))]
        else:
            async with runtime.platform_engine.connect() as conn:
                rows = await conn.execute(
                    select(accounts.c.id).where(accounts.c.status != "PURGED")
                )
                tenants = list(rows.scalars())
        now = runtime.clock.now()
        for tenant_id in tenants:
            if args.keys_command == "rotate":
                done = await rotate_tenant(
                    runtime.tenant_engines, runtime.platform_engine, runtime.keys, tenant_id, now
                )
                _out(f"{tenant_id} KEK v{done.kek_version}, {done.rewrapped} keys rewrapped")
                if args.data_keys:
                    started = await rotate_data_keys(
                        runtime.tenant_engines, runtime.keys, tenant_id, now
                    )
                    for p in started:
                        _out(f"{tenant_id} {p.purpose} data key v{p.to_version}: {p.total} values")
                    if args.inline:
                        await reencrypt(runtime.tenant_engines, runtime.keys, tenant_id, now)
                    elif started:
                        await enqueue(
                            runtime.settings.redis_url, "reencrypt_tenant_job", str(tenant_id)
                        )
            else:
                versions = await wrapping_versions(runtime.tenant_engines, runtime.keys, tenant_id)
                shown = ", ".join(f"{k} under KEK v{v}" for k, v in versions.items())
                _out(f"{tenant_id} {shown or 'no data keys yet'}")
            for p in await progress(runtime.tenant_engines, tenant_id):
                _out(
                    f"{tenant_id} re-encryption {p.purpose} -> v{p.to_version}: {p.status} "
                    f"{p.examined}/{p.total} examined, {p.rewritten} rewritten"
                )
    finally:
        await runtime.close()
    return 0
