"""Calls: created under a client profile with a consent attestation, which the call
keeps. No recording is accepted for a call without one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import RowMapping

from audora.platform.auth.principal import Principal
from audora.platform.auth.validation import clean_name
from audora.platform.db.tenant_binding import TenantUnitOfWork
from audora.platform.errors import bad_input, not_found
from audora.tenants.calls import repository
from audora.tenants.clients import repository as profiles

MAX_LIST = 500
MAX_JURISDICTION = 64


class CallStatus(StrEnum):
    AWAITING_RECORDING = "AWAITING_RECORDING"
    TRANSCRIBING = "TRANSCRIBING"
    GENERATING = "GENERATING"
    READY = "READY"
    FAILED = "FAILED"


class ConsentMethod(StrEnum):
    VERBAL = "VERBAL"
    PLATFORM_NOTICE = "PLATFORM_NOTICE"
    WRITTEN = "WRITTEN"


@dataclass(frozen=True)
class Consent:
    participants_notified: bool
    methods: tuple[ConsentMethod, ...]
    jurisdiction: str | None = None


@dataclass(frozen=True)
class CallRecord:
    id: uuid.UUID
    client_profile_id: uuid.UUID
    title: str
    status: CallStatus
    failure_reason: str | None
    consent: Consent
    created_by: uuid.UUID
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> CallRecord:
        return cls(
            id=row["id"],
            client_profile_id=row["client_profile_id"],
            title=row["title"],
            status=CallStatus(row["status"]),
            failure_reason=row["failure_reason"],
            consent=Consent(
                row["consent_participants_notified"],
                tuple(ConsentMethod(m) for m in row["consent_methods"]),
                row["consent_jurisdiction"],
            ),
            created_by=row["created_by"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


def _checked_consent(consent: Consent) -> Consent:
    if not consent.participants_notified:
        raise bad_input(
            "participants must be notified before a call is recorded",
            field="consent.participantsNotified",
        )
    if not consent.methods:
        raise bad_input("say how participants were notified", field="consent.methods")
    jurisdiction = (consent.jurisdiction or "").strip() or None
    if jurisdiction is not None and len(jurisdiction) > MAX_JURISDICTION:
        raise bad_input(
            f"jurisdiction must be at most {MAX_JURISDICTION} characters",
            field="consent.jurisdiction",
        )
    return Consent(True, tuple(dict.fromkeys(consent.methods)), jurisdiction)


async def create_call(
    uow: TenantUnitOfWork,
    principal: Principal,
    profile_id: uuid.UUID,
    title: str,
    consent: Consent,
) -> CallRecord:
    attested = _checked_consent(consent)
    clean_title = clean_name(title, field="title")
    if await profiles.get(uow, profile_id, principal.client_profile_ids) is None:
        raise not_found("client profile")
    row = await repository.create(
        uow,
        id=uuid.uuid4(),
        client_profile_id=profile_id,
        title=clean_title,
        consent_participants_notified=attested.participants_notified,
        consent_methods=[m.value for m in attested.methods],
        consent_jurisdiction=attested.jurisdiction,
        created_by=principal.user_id,
    )
    return CallRecord.from_row(row)


async def get_call(uow: TenantUnitOfWork, principal: Principal, call_id: uuid.UUID) -> CallRecord:
    row = await repository.get(uow, call_id, principal.client_profile_ids)
    if row is None:
        raise not_found("call")
    return CallRecord.from_row(row)


async def list_calls(
    uow: TenantUnitOfWork, principal: Principal, profile_id: uuid.UUID
) -> list[CallRecord]:
    if await profiles.get(uow, profile_id, principal.client_profile_ids) is None:
        raise not_found("client profile")
    rows = await repository.list_for_profile(
        uow, profile_id, principal.client_profile_ids, limit=MAX_LIST
    )
    return [CallRecord.from_row(row) for row in rows]
