"""Subprocessors (PROMISES S1, S5): the registry is published as a page and as JSON;
a new one that processes call data is announced to every live account's owner at least
14 days before its effective date, and no call data goes to it before that date."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from arq.worker import func
from pydantic import SecretStr
from sqlalchemy import Engine, select, update

from audora.platform.auth.tables import memberships, users
from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.errors import AppError
from audora.platform.jobs.queue import QUEUE
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.platform.subprocessors import registry
from audora.platform.subprocessors.announce import announce
from audora.platform.subprocessors.registry import (
    REGISTRY,
    Subprocessor,
    SubprocessorNotEffective,
    find,
    require_effective,
)
from audora.tenants.documents.hosted import OpenAIChatGenerator
from audora.tenants.documents.providers import generator_from_settings
from audora.tenants.registry.tables import accounts
from audora.tenants.transcription.choice import transcriber_from_settings
from audora.tenants.transcription.deepgram import DeepgramTranscriber
from audora.tenants.transcription.jobs import MAX_TRIES, transcribe_call_job

from audora_testing import (
    GraphQL,
    create_call,
    create_profile,
    mail_text,
    mail_to,
    read_mail,
    run_jobs,
    sign_up,
    upload_path,
)

FAKE_KEY = "sk-test-not-a-real-key"  # pragma: allowlist secret


def _effective_on(monkeypatch: pytest.MonkeyPatch, key: str, effective: date) -> None:
    """The registry as it would be with `key`'s entry moved to `effective`."""
    entries = tuple(
        dataclasses.replace(s, effective=effective) if s.key == key else s for s in REGISTRY
    )
    monkeypatch.setattr(registry, "REGISTRY", entries)


async def test_the_registry_is_published_as_a_page_and_as_json(api: httpx.AsyncClient) -> None:
    page = await api.get("/subprocessors")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    for name in ("OpenAI", "Deepgram", "AssemblyAI", "Recall.ai", "Linear", "Notion", "Sentry"):
        assert name in page.text

    listing = (await api.get("/subprocessors.json")).json()
    assert listing["notice_days"] == 14
    keys = {s["key"] for s in listing["subprocessors"]}
    assert {"embedded", "openai", "deepgram", "assemblyai", "recall", "linear", "notion"} <= keys
    assert {"aws-kms", "smtp", "sentry"} <= keys
    for entry in listing["subprocessors"]:
        assert entry["zero_retention"] in {"yes", "no", "partial"}
        for field in ("category", "data_processed", "region", "dpa", "training_use"):
            assert entry[field]
        date.fromisoformat(entry["effective"])


async def test_an_announcement_less_than_14_days_ahead_is_refused(
    runtime: Runtime, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, stack: EmbeddedStack
) -> None:
    soon = clock.now().date() + timedelta(days=13)
    _effective_on(monkeypatch, "deepgram", soon)
    with pytest.raises(AppError, match="at least 14 days"):
        await announce(runtime, "deepgram", soon)
    with pytest.raises(AppError, match="registered as effective"):
        await announce(runtime, "deepgram", soon + timedelta(days=30))
    with pytest.raises(AppError, match="not in the subprocessor registry"):
        await announce(runtime, "nobody-we-use", soon + timedelta(days=30))


async def test_an_announcement_emails_every_live_accounts_owner_at_once(
    gql: GraphQL,
    runtime: Runtime,
    clock: FrozenClock,
    superuser: Engine,
    monkeypatch: pytest.MonkeyPatch,
    stack: EmbeddedStack,
) -> None:
    live = await sign_up(gql, "Live Studio")
    closed = await sign_up(gql, "Closed Studio")
    with superuser.begin() as conn:
        owner_of = (
            select(memberships.c.account_id)
            .join(users, users.c.id == memberships.c.user_id)
            .where(users.c.email == closed["email"])
        )
        conn.execute(update(accounts).where(accounts.c.id.in_(owner_of)).values(status="CLOSED"))
    effective = clock.now().date() + timedelta(days=14)
    _effective_on(monkeypatch, "assemblyai", effective)

    done = await announce(runtime, "AssemblyAI", effective)

    assert live["email"] in done.delivered
    assert closed["email"] not in done.delivered
    assert done.failed == []
    (message,) = await read_mail(stack.data_dir / "mail", live["email"])
    assert message["Subject"] == "New Audora subprocessor: AssemblyAI"
    assert message["To"] == live["email"]  # one message per owner: no one sees the others
    assert effective.isoformat() in mail_text(message)
    assert mail_to(stack.data_dir / "mail", closed["email"], message["Subject"]) == []


def test_no_call_data_goes_to_a_transcriber_before_its_effective_date(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clock.now()
    _effective_on(monkeypatch, "deepgram", now.date() + timedelta(days=14))
    settings = Settings(transcriber="deepgram", transcriber_api_key=FAKE_KEY)
    with pytest.raises(SubprocessorNotEffective, match="Deepgram is effective from"):
        transcriber_from_settings(settings, now)
    later = now + timedelta(days=14)
    assert isinstance(transcriber_from_settings(settings, later), DeepgramTranscriber)


def test_no_call_data_goes_to_a_generator_before_its_effective_date(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clock.now()
    _effective_on(monkeypatch, "openai", now.date() + timedelta(days=20))
    settings = Settings(
        generator="openai",
        generator_base_url="https://llm.example.com/v1",
        generator_api_key=SecretStr(FAKE_KEY),
    )
    with pytest.raises(SubprocessorNotEffective, match="OpenAI is effective from"):
        generator_from_settings(settings, now)
    assert isinstance(
        generator_from_settings(settings, now + timedelta(days=20)), OpenAIChatGenerator
    )


def test_a_provider_missing_from_the_registry_is_refused(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_recall = tuple(s for s in REGISTRY if s.key != registry.BOT_PROVIDER)
    monkeypatch.setattr(registry, "REGISTRY", without_recall)
    with pytest.raises(SubprocessorNotEffective, match="not a registered subprocessor"):
        require_effective(registry.BOT_PROVIDER, clock.now())
    assert find("Recall.ai") is None


def test_every_call_data_provider_the_code_can_select_is_registered() -> None:
    for key in ("openai", "deepgram", "assemblyai", registry.BOT_PROVIDER):
        entry = find(key)
        assert isinstance(entry, Subprocessor)
        assert entry.call_data


FLAC = Path(__file__).resolve().parents[2] / "fixtures" / "calls" / "brightside-dental.flac"
READ = "query($id: ID!) { call(id: $id) { status failureReason transcript { text } } }"


async def test_a_transcription_job_for_a_provider_not_yet_effective_fails_with_the_reason(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await runtime.redis.delete(QUEUE)  # other tests' jobs would run in this test's worker
    owner = await sign_up(gql, "Early Adopter Studio")
    profile = await create_profile(gql, owner["token"], "Brightside Dental")
    call_id = await create_call(gql, owner["token"], profile["id"], "Discovery")
    path = await upload_path(gql, owner["token"], call_id)
    uploaded = await api.put(
        path, content=FLAC.read_bytes(), headers={"content-type": "audio/flac"}
    )
    assert uploaded.status_code == 201, uploaded.text
    monkeypatch.setattr(settings, "transcriber", "deepgram")
    monkeypatch.setattr(settings, "transcriber_api_key", FAKE_KEY)
    effective = clock.now().date() + timedelta(days=14)
    _effective_on(monkeypatch, "deepgram", effective)

    await run_jobs(runtime, [func(transcribe_call_job, max_tries=MAX_TRIES)])

    result = await gql(READ, {"id": call_id}, token=owner["token"])
    call = result["data"]["call"]
    assert call["status"] == "FAILED"
    assert call["failureReason"] == (
        f"subprocessor Deepgram is effective from {effective.isoformat()}:"
        " it may not receive call data before then"
    )
    assert call["transcript"] is None


def test_the_operator_command_lists_and_refuses_a_late_announcement(
    stack_env: dict[str, str],
) -> None:
    audora = str(Path(sys.executable).with_name("audora"))
    listed = subprocess.run(
        [audora, "subprocessors", "list"], env=stack_env, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    keys = [json.loads(line)["key"] for line in listed.stdout.splitlines()]
    assert keys == [s.key for s in REGISTRY]

    # Deepgram's registered date has passed: far less than 14 days' notice.
    deepgram = find("deepgram")
    assert deepgram is not None
    effective = deepgram.effective.isoformat()
    late = subprocess.run(
        [audora, "subprocessors", "announce", "--name", "Deepgram", "--effective", effective],
        env=stack_env,
        capture_output=True,
        text=True,
    )
    assert late.returncode == 1
    assert "at least 14 days ahead" in late.stderr
