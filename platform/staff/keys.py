"""Staff security keys: the customer WebAuthn ceremony checks (`webauthn_factor`), held
to a stricter bar.

- User verification is required (a PIN or biometric on the key), at registration and at
  every assertion, so a stolen key alone opens nothing.
- Attestation is asked for ("direct") and its format and AAGUID recorded with the
  credential, so an operator can see which make of key each staff member holds.
- Every assertion spends a single-use challenge of its purpose (`staff-login` at
  sign-in, `staff-activate` when a grant is opened) and must move the key's signature
  counter forward: a replayed assertion fails both ways.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from webauthn import generate_authentication_options, generate_registration_options, options_to_json
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AttestationFormat,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from audora.platform.auth import challenges, webauthn_factor
from audora.platform.errors import bad_input
from audora.platform.runtime import Runtime
from audora.platform.staff.tables import staff_credentials

AssertionPurpose = Literal["staff-login", "staff-activate"]


async def _descriptors(
    conn: AsyncConnection, staff_id: uuid.UUID
) -> list[PublicKeyCredentialDescriptor]:
    rows = await conn.execute(
        select(staff_credentials.c.credential_id).where(staff_credentials.c.staff_id == staff_id)
    )
    return [PublicKeyCredentialDescriptor(id=bytes(row.credential_id)) for row in rows]


async def has_key(conn: AsyncConnection, staff_id: uuid.UUID) -> bool:
    return bool(await _descriptors(conn, staff_id))


async def registration_options(
    runtime: Runtime, conn: AsyncConnection, staff_id: uuid.UUID, email: str, full_name: str
) -> str:
    """Creation options for a new security key of `staff_id`."""
    challenge = await challenges.issue(
        runtime.redis, "staff-register", staff_id, runtime.clock.now()
    )
    options = generate_registration_options(
        rp_id=runtime.settings.webauthn_rp_id,
        rp_name=f"{runtime.settings.webauthn_rp_name} staff",
        user_name=email,
        user_id=staff_id.bytes,
        user_display_name=full_name,
        challenge=challenge,
        timeout=webauthn_factor.TIMEOUT_MS,
        attestation=AttestationConveyancePreference.DIRECT,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=await _descriptors(conn, staff_id),
    )
    return options_to_json(options)


async def register(
    runtime: Runtime, conn: AsyncConnection, staff_id: uuid.UUID, credential: str, now: datetime
) -> dict[str, str]:
    """Verify the key's answer to the pending registration and store it (in `conn`'s
    transaction); its attestation format and AAGUID. BAD_USER_INPUT if it does not
    verify, the user was not verified, or the registration expired."""
    challenge = await challenges.take(runtime.redis, "staff-register", staff_id, now)
    if challenge is None:
        raise bad_input(
            "no key registration is pending, or it expired: start again", field="credential"
        )
    verified, transports = webauthn_factor.check_registration(
        runtime.settings, challenge, credential, require_user_verification=True
    )
    # The library types `fmt` as its enum but may hand back the plain string.
    attestation = {"format": AttestationFormat(verified.fmt).value, "aaguid": verified.aaguid}
    await conn.execute(
        staff_credentials.insert().values(
            id=uuid.uuid4(),
            staff_id=staff_id,
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            attestation_format=attestation["format"],
            aaguid=attestation["aaguid"],
            transports=transports,
            created_at=now,
        )
    )
    return attestation


async def assertion_options(
    runtime: Runtime, conn: AsyncConnection, staff_id: uuid.UUID, purpose: AssertionPurpose
) -> str:
    """Request options allowing only `staff_id`'s own keys, user verification required."""
    challenge = await challenges.issue(runtime.redis, purpose, staff_id, runtime.clock.now())
    options = generate_authentication_options(
        rp_id=runtime.settings.webauthn_rp_id,
        challenge=challenge,
        timeout=webauthn_factor.TIMEOUT_MS,
        allow_credentials=await _descriptors(conn, staff_id),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options)


async def verify_assertion(
    runtime: Runtime,
    conn: AsyncConnection,
    staff_id: uuid.UUID,
    purpose: AssertionPurpose,
    assertion: str,
) -> bool:
    """Whether `assertion` answers the pending challenge of `purpose` with one of the
    staff member's keys, user verified, its counter moving forward (then recorded in
    `conn`'s transaction). The challenge is spent either way."""
    now = runtime.clock.now()
    challenge = await challenges.take(runtime.redis, purpose, staff_id, now)
    if challenge is None:
        return False
    parsed = webauthn_factor.parse_assertion(assertion, staff_id)
    if parsed is None:
        return False
    row = (
        (
            await conn.execute(
                select(staff_credentials)
                .where(
                    staff_credentials.c.staff_id == staff_id,
                    staff_credentials.c.credential_id == parsed.raw_id,
                )
                .with_for_update()
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return False
    new_count = webauthn_factor.check_assertion(
        runtime.settings, challenge, parsed, row, require_user_verification=True
    )
    if new_count is None:
        return False
    await conn.execute(
        update(staff_credentials)
        .where(staff_credentials.c.id == row["id"])
        .values(sign_count=new_count, last_used_at=now)
    )
    return True
