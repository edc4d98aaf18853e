"""Sending a meeting bot to a call's meeting (C1: only for a call with its consent
attestation, only for an account that is not read-only).

The provider is asked outside any transaction (a network call must not hold a row
lock), between two short ones: the first checks the call, the second records the bot
under a lock and re-checks, so two requests racing for one call leave one bot row. The
route (bot id -> tenant, call) is written before the bot row, so a webhook can never
find a bot the platform cannot place.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError

from audora.platform.auth.principal import Principal
from audora.platform.db.tenant_binding import tenant_transaction
from audora.platform.errors import AppError, ErrorCode, bad_input, forbidden, not_found
from audora.platform.runtime import Runtime
from audora.platform.subprocessors.records import announcements
from audora.platform.subprocessors.registry import (
    BOT_PROVIDER,
    SubprocessorNotEffective,
    require_effective,
)
from audora.tenants.audit.log import AuditEntry, append
from audora.tenants.calls import repository as calls
from audora.tenants.calls.service import CallStatus
from audora.tenants.meeting_bots import repository
from audora.tenants.meeting_bots.provider import BotProvider, ProviderUnavailable
from audora.tenants.registry.suspension import account_is_writable

log = logging.getLogger(__name__)

MAX_MEETING_URL = 2048
# Meeting links the provider joins (Zoom, Google Meet, Microsoft Teams, Webex, GoTo):
# the host must be one of these or under one.
MEETING_HOSTS = (
    "zoom.us",
    "zoomgov.com",
    "meet.google.com",
    "teams.microsoft.com",
    "teams.live.com",
    "webex.com",
    "gotomeeting.com",
    "meet.goto.com",
)


class BotStatus(StrEnum):
    DISPATCHED = "DISPATCHED"
    RECORDING_READY = "RECORDING_READY"
    FETCHED = "FETCHED"
    FAILED = "FAILED"
    PROVIDER_DELETED = "PROVIDER_DELETED"
    DELETION_UNVERIFIED = "DELETION_UNVERIFIED"


@dataclass(frozen=True)
class BotRecord:
    status: BotStatus
    dispatched_at: datetime
    recording_ready_at: datetime | None
    provider_deleted_at: datetime | None
    failure_reason: str | None

    @classmethod
    def from_row(cls, row: RowMapping) -> BotRecord:
        return cls(
            BotStatus(row["status"]),
            row["dispatched_at"],
            row["recording_ready_at"],
            row["provider_deleted_at"],
            row["failure_reason"],
        )


def checked_meeting_url(url: str) -> str:
    """An https link to a known meeting platform, or BAD_USER_INPUT."""
    url = url.strip()
    refusal = bad_input(
        "meetingUrl must be an https link to a Zoom, Google Meet, Teams, Webex or GoTo meeting",
        field="meetingUrl",
    )
    if len(url) > MAX_MEETING_URL or any(c.isspace() or ord(c) < 32 for c in url):
        raise refusal
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise refusal from None
    host = (parts.hostname or "").lower()
    if (
        parts.scheme != "https"
        or parts.username is not None
        or parts.password is not None
        or port not in (None, 443)
        or not any(host == h or host.endswith("." + h) for h in MEETING_HOSTS)
    ):
        raise refusal
    return url


async def dispatch_bot(
    runtime: Runtime,
    principal: Principal,
    call_id: uuid.UUID,
    meeting_url: str,
    provider: BotProvider,
) -> BotRecord:
    """Send the provider's bot to `meeting_url` for the call; the bot as recorded."""
    url = checked_meeting_url(meeting_url)
    # The provider hears the meeting: only once it is an effective subprocessor (S5).
    try:
        require_effective(
            BOT_PROVIDER, runtime.clock.now(), await announcements(runtime.platform_engine)
        )
    except SubprocessorNotEffective as exc:
        raise AppError(str(exc), code=ErrorCode.BAD_USER_INPUT) from None
    # Also refused by the schema's read-only guard; checked here too, because a bot is a
    # recording (C1) and must never be sent for an account that is not writable.
    if not await account_is_writable(runtime.platform_engine, principal.account_id):
        raise forbidden("this account is read-only")
    scope = principal.client_profile_ids
    async with tenant_transaction(runtime.tenant_engines, principal.tenant) as uow:
        call = await calls.get(uow, call_id, scope)
        _check(call, await repository.of_call(uow, call_id))

    try:
        bot_id = await provider.create_bot(url)
    except ProviderUnavailable as exc:
        log.warning("the meeting-bot provider failed: %s", exc)
        raise AppError(
            "the meeting-bot provider is unavailable; try again shortly", code=ErrorCode.INTERNAL
        ) from None
    await repository.add_route(runtime.platform_engine, bot_id, principal.account_id, call_id)
    now = runtime.clock.now()
    try:
        async with tenant_transaction(runtime.tenant_engines, principal.tenant) as uow:
            call = await calls.get(uow, call_id, scope, for_update=True)
            _check(call, await repository.of_call(uow, call_id))
            await repository.add(
                uow,
                id=uuid.uuid4(),
                call_id=call_id,
                status=BotStatus.DISPATCHED,
                provider_bot_id=bot_id,
                dispatched_by=principal.user_id,
                dispatched_at=now,
            )
            await append(
                uow,
                now,
                AuditEntry(
                    actor=f"user:{principal.user_id}",
                    action="bot.dispatched",
                    target=f"call:{call_id}",
                    details={"bot": bot_id},
                ),
            )
            row = await repository.of_call(uow, call_id)
            await uow.commit()
    except BaseException as exc:
        # The provider's bot exists but is not ours to follow: call it back, so that
        # nothing records a meeting Audora does not track, and forget its route.
        log.warning("bot %s for call %s was not recorded; recalling it", bot_id, call_id)
        try:
            await provider.recall_bot(bot_id)
        except Exception:
            log.exception("could not recall the unrecorded bot %s", bot_id)
        await repository.drop_route(runtime.platform_engine, bot_id)
        if isinstance(exc, IntegrityError):
            raise AppError(
                "a meeting bot was already sent to this call", code=ErrorCode.CONFLICT
            ) from None
        raise
    if row is None:
        raise RuntimeError("the bot row written in this transaction is missing")
    return BotRecord.from_row(row)


def _check(call: RowMapping | None, bot: RowMapping | None) -> None:
    if call is None:
        raise not_found("call")
    if not call["consent_participants_notified"] or not call["consent_methods"]:
        raise bad_input("this call has no consent attestation", field="callId")
    if call["status"] != CallStatus.AWAITING_RECORDING:
        raise AppError("this call already has a recording", code=ErrorCode.CONFLICT)
    if bot is not None:
        raise AppError("a meeting bot was already sent to this call", code=ErrorCode.CONFLICT)
