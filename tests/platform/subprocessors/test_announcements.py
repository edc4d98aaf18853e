"""Subprocessor announcements are recorded (PROMISES S5): when owners were told, of which
effective date, how many were to be told and how many were. The record is listed by the
operator command and shown on /subprocessors next to the effective date, and a call-data
processor added after launch gets no call data without a complete announcement on
record at least 14 days before its effective date."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import httpx
import pytest
from arq.worker import func
from sqlalchemy import Engine, delete

from audora.platform.clock import FrozenClock
from audora.platform.config import Settings
from audora.platform.jobs.queue import QUEUE
from audora.platform.mail.sender import MailSender
from audora.platform.runtime import Runtime
from audora.platform.stack.embedded import EmbeddedStack
from audora.platform.subprocessors import records, registry
from audora.platform.subprocessors.announce import announce
from audora.platform.subprocessors.records import Announcement, announcements
from audora.platform.subprocessors.registry import (
    REGISTRY,
    Retention,
    Subprocessor,
    SubprocessorNotEffective,
    require_effective,
)
from audora.platform.subprocessors.tables import subprocessor_announcements
from audora.tenants.transcription.choice import transcriber_from_settings
from audora.tenants.transcription.deepgram import DeepgramTranscriber
from audora.tenants.transcription.jobs import MAX_TRIES, transcribe_call_job

from audora_testing import (
    GraphQL,
    create_call,
    create_profile,
    dead_url,
    mail_text,
    read_mail,
    run_audora,
    run_jobs,
    sign_up,
    upload_path,
)

FAKE_KEY = "dg-test-not-a-real-key"  # pragma: allowlist secret
FLAC = Path(__file__).resolve().parents[2] / "fixtures" / "calls" / "brightside-dental.flac"


def _new_processor(effective: date, **changes: object) -> Subprocessor:
    return dataclasses.replace(
        Subprocessor(
            key="speechmatics",
            name="Speechmatics",
            category="Transcription (when configured)",
            data_processed="Call audio, transcripts",
            region="European Union",
            dpa="Speechmatics Data Processing Agreement",
            zero_retention=Retention.YES,
            retention_how="Audio and transcripts deleted once returned",
            training_use="No",
            effective=effective,
            call_data=True,
        ),
        **changes,  # type: ignore[arg-type]
    )


def _registered(monkeypatch: pytest.MonkeyPatch, entry: Subprocessor) -> None:
    """The registry as it would be with `entry` added (or replacing its namesake)."""
    others = tuple(s for s in REGISTRY if s.key != entry.key)
    monkeypatch.setattr(registry, "REGISTRY", (*others, entry))


def _told(key: str, effective: date, days_before: int, *, sent: int = 3) -> Announcement:
    at = datetime.combine(effective - timedelta(days=days_before), time(9), tzinfo=UTC)
    return Announcement(key, key.title(), effective, at, recipients=3, sent=sent)


@pytest.fixture
def forget_announcements(superuser: Engine) -> Iterator[list[str]]:
    """Subprocessor keys whose recorded announcements go when the test ends."""
    keys: list[str] = []
    yield keys
    with superuser.begin() as conn:
        conn.execute(
            delete(subprocessor_announcements).where(
                subprocessor_announcements.c.subprocessor.in_(keys)
            )
        )


async def test_an_announcement_is_recorded_once_every_owner_is_emailed_and_shown_on_the_page(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    stack: EmbeddedStack,
    monkeypatch: pytest.MonkeyPatch,
    forget_announcements: list[str],
) -> None:
    forget_announcements.append("speechmatics")
    owner = await sign_up(gql, "Announced Studio")
    effective = clock.now().date() + timedelta(days=14)
    _registered(monkeypatch, _new_processor(effective))

    done = await announce(runtime, "Speechmatics", effective)

    record = done.announcement
    assert record.complete
    assert record.recipients == record.sent == len(done.delivered) > 0
    assert owner["email"] in done.delivered
    assert record.announced_at == clock.now()
    assert record.effective == effective
    assert [
        a for a in await announcements(runtime.platform_engine) if a.name == "Speechmatics"
    ] == [record]
    (message,) = await read_mail(stack.data_dir / "mail", owner["email"])
    assert "Speechmatics" in mail_text(message)

    listing = (await api.get("/subprocessors.json")).json()
    (entry,) = [s for s in listing["subprocessors"] if s["key"] == "speechmatics"]
    assert entry["effective"] == effective.isoformat()
    assert entry["announced"] == clock.now().date().isoformat()
    assert entry["notice_owed"] is True
    page = (await api.get("/subprocessors")).text
    row = re.search(r"<tr><td>Speechmatics</td>.*?</tr>", page)
    assert row is not None
    assert f"<td>{effective.isoformat()}</td><td>{clock.now().date().isoformat()}</td>" in row[0]
    assert "<td>on the original list</td>" in page  # the launch list owes no notice


async def test_an_announcement_the_mail_server_refused_is_recorded_incomplete_and_opens_nothing(
    gql: GraphQL,
    runtime: Runtime,
    settings: Settings,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    forget_announcements: list[str],
) -> None:
    forget_announcements.append("speechmatics")
    owner = await sign_up(gql, "Unreachable Studio")
    effective = clock.now().date() + timedelta(days=20)
    _registered(monkeypatch, _new_processor(effective))
    monkeypatch.setattr(
        runtime, "mail", MailSender(dead_url(settings.smtp_url), settings.mail_from)
    )

    done = await announce(runtime, "speechmatics", effective)

    assert owner["email"] in done.failed
    assert done.delivered == []
    assert (done.announcement.recipients, done.announcement.sent) == (len(done.failed), 0)
    recorded = await announcements(runtime.platform_engine)
    assert done.announcement in recorded
    on_the_day = datetime.combine(effective, time(12), tzinfo=UTC)
    with pytest.raises(SubprocessorNotEffective, match="has no announcement to account owners"):
        require_effective("speechmatics", on_the_day, recorded)


def test_a_processor_added_after_launch_needs_a_complete_announcement_14_days_ahead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    effective = date(2027, 3, 1)
    _registered(monkeypatch, _new_processor(effective))
    on_the_day = datetime.combine(effective, time(0), tzinfo=UTC)
    refused = "has no announcement to account owners on record 14 days before 2027-03-01"

    with pytest.raises(SubprocessorNotEffective, match=refused):
        require_effective("speechmatics", on_the_day)
    for late_or_wrong in (
        _told("speechmatics", effective, 13),  # one day short of the notice
        _told("speechmatics", effective, 30, sent=2),  # an owner was not reached
        _told("speechmatics", effective + timedelta(days=7), 30),  # another date announced
        _told("deepgram", effective, 30),  # another subprocessor
    ):
        with pytest.raises(SubprocessorNotEffective, match=refused):
            require_effective("speechmatics", on_the_day, [late_or_wrong])
    before = on_the_day - timedelta(seconds=1)
    with pytest.raises(SubprocessorNotEffective, match="is effective from 2027-03-01"):
        require_effective("speechmatics", before, [_told("speechmatics", effective, 14)])

    entry = require_effective("speechmatics", on_the_day, [_told("speechmatics", effective, 14)])
    assert entry.key == "speechmatics"
    # The launch list and integrations an account connects itself owe no announcement.
    assert require_effective("deepgram", on_the_day).key == "deepgram"
    _registered(monkeypatch, _new_processor(effective, customer_chosen=True))
    assert require_effective("speechmatics", on_the_day).customer_chosen
    assert not any(s.notice_owed for s in REGISTRY)


READ = "query($id: ID!) { call(id: $id) { status failureReason transcript { text } } }"


async def test_a_transcription_job_reads_the_recorded_announcements_before_sending_audio(
    gql: GraphQL,
    api: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    forget_announcements: list[str],
) -> None:
    # Deepgram as it would be had it been added after launch, effective today.
    forget_announcements.append("deepgram")
    effective = clock.now().date()
    deepgram = registry.find("deepgram")
    assert deepgram is not None
    _registered(monkeypatch, dataclasses.replace(deepgram, effective=effective))
    monkeypatch.setattr(registry, "LAUNCH_KEYS", registry.LAUNCH_KEYS - {"deepgram"})
    await runtime.redis.delete(QUEUE)  # other tests' jobs would run in this test's worker
    owner = await sign_up(gql, "Unannounced Studio")
    profile = await create_profile(gql, owner["token"], "Brightside Dental")
    call_id = await create_call(gql, owner["token"], profile["id"], "Discovery")
    path = await upload_path(gql, owner["token"], call_id)
    uploaded = await api.put(
        path, content=FLAC.read_bytes(), headers={"content-type": "audio/flac"}
    )
    assert uploaded.status_code == 201, uploaded.text
    monkeypatch.setattr(settings, "transcriber", "deepgram")
    monkeypatch.setattr(settings, "transcriber_api_key", FAKE_KEY)

    await run_jobs(runtime, [func(transcribe_call_job, max_tries=MAX_TRIES)])

    call = (await gql(READ, {"id": call_id}, token=owner["token"]))["data"]["call"]
    assert call["status"] == "FAILED"
    assert "has no announcement to account owners on record" in call["failureReason"]
    assert call["transcript"] is None

    # Once an announcement 14 days ahead is on record, the same choice is allowed.
    await records.record(runtime.platform_engine, _told("deepgram", effective, 14))
    chosen = transcriber_from_settings(
        settings, clock.now(), await announcements(runtime.platform_engine)
    )
    assert isinstance(chosen, DeepgramTranscriber)


async def test_the_operator_list_shows_each_entrys_announcements(
    runtime: Runtime, stack_env: dict[str, str], forget_announcements: list[str]
) -> None:
    # Recorded for a key the command's own (unpatched) registry knows.
    forget_announcements.append("recall")
    recall = registry.find("recall")
    assert recall is not None
    told = _told("recall", recall.effective, 21)
    await records.record(runtime.platform_engine, told)

    listed = [
        json.loads(line) for line in run_audora(stack_env, "subprocessors", "list").splitlines()
    ]

    (entry,) = [e for e in listed if e["key"] == "recall"]
    assert entry["announcements"] == [told.as_json()]
    assert entry["announced"] == told.announced_at.date().isoformat()
    assert entry["effective"] == recall.effective.isoformat()
    assert entry["notice_owed"] is False  # on the launch list: recorded all the same
