"""WebAuthn (passkeys, security keys) as a second factor.

Registering, signed in: `registration_options` issues a challenge and the options for
`navigator.credentials.create` (the user's registered credentials excluded, user
verification preferred, a discoverable credential preferred so a passkey is made where
the authenticator can, and no attestation: we trust the key the user registers, not the
make of the authenticator); `register` verifies the browser's answer against that
challenge, from one of the expected origins, and stores the credential.

Logging in, after a correct password: `login_options` issues a challenge and the options
for `navigator.credentials.get`, allowing only the user's own credentials (so they are
handed out only to someone who knows the password); `verify_assertion` spends the
challenge, finds the credential among the user's own, checks the signature, the origin
and the RP ID, and that the signature counter moved forward, then records the use.

Challenges are one per user and purpose (`challenges.py`): the client does not echo a
ceremony id back, and a second login started by the same user replaces the first's.

The ceremony checks themselves (`check_registration`, `check_assertion`) take no
storage: the staff console (`platform/staff/keys.py`) runs the same ones against its own
credentials table, with user verification required and attestation recorded.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import RowMapping
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webauthn.registration.verify_registration_response import VerifiedRegistration

from audora.platform.auth import challenges, repository
from audora.platform.config import Settings
from audora.platform.errors import AppError, ErrorCode, bad_input
from audora.platform.runtime import Runtime

log = logging.getLogger(__name__)

# Browsers give up on a ceremony after this long; the challenge lives as long.
TIMEOUT_MS = int(challenges.LIFETIME.total_seconds() * 1000)
# A credential's JSON is a few hundred bytes to a few KiB (attestation certificates).
MAX_CREDENTIAL_CHARS = 64 * 1024
MAX_CREDENTIALS = 10
MAX_NAME_CHARS = 64
_TRANSPORTS = {t.value for t in AuthenticatorTransport}


def _descriptors(rows: list[RowMapping]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=bytes(row["credential_id"]),
            transports=[AuthenticatorTransport(t) for t in row["transports"] or ()],
        )
        for row in rows
    ]


async def registration_options(
    runtime: Runtime, user_id: uuid.UUID, email: str, full_name: str
) -> str:
    """PublicKeyCredentialCreationOptions as JSON, for a new credential of `user_id`."""
    async with runtime.platform_engine.connect() as conn:
        registered = await repository.webauthn_credentials_of(conn, user_id)
    if len(registered) >= MAX_CREDENTIALS:
        raise AppError(
            f"at most {MAX_CREDENTIALS} passkeys or security keys: remove one first",
            code=ErrorCode.CONFLICT,
        )
    settings = runtime.settings
    challenge = await challenges.issue(runtime.redis, "register", user_id, runtime.clock.now())
    options = generate_registration_options(
        rp_id=settings.webauthn_rp_id,
        rp_name=settings.webauthn_rp_name,
        user_name=email,
        user_id=user_id.bytes,
        user_display_name=full_name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(registered),
    )
    return options_to_json(options)


async def register(runtime: Runtime, user_id: uuid.UUID, credential: str, name: str) -> RowMapping:
    """Verify the browser's answer to the user's pending registration and store the
    credential under `name`. BAD_USER_INPUT if it does not verify or the registration
    expired; CONFLICT if that authenticator's credential is registered already."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise bad_input(f"a name of 1 to {MAX_NAME_CHARS} characters is needed", field="name")
    now = runtime.clock.now()
    challenge = await challenges.take(runtime.redis, "register", user_id, now)
    if challenge is None:
        raise bad_input(
            "no registration is pending, or it expired: call beginWebAuthnRegistration again",
            field="credential",
        )
    verified, transports = check_registration(runtime.settings, challenge, credential)
    async with runtime.platform_engine.begin() as conn:
        row = await repository.insert_webauthn_credential(
            conn,
            id=uuid.uuid4(),
            user_id=user_id,
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=transports,
            name=name,
            created_at=now,
        )
    if row is None:
        raise AppError(
            "this passkey or security key is registered already", code=ErrorCode.CONFLICT
        )
    return row


async def login_options(runtime: Runtime, user_id: uuid.UUID, registered: list[RowMapping]) -> str:
    """PublicKeyCredentialRequestOptions as JSON, allowing the user's credentials only.
    Only to be called once the password is known to be right."""
    challenge = await challenges.issue(runtime.redis, "login", user_id, runtime.clock.now())
    options = generate_authentication_options(
        rp_id=runtime.settings.webauthn_rp_id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(registered),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json(options)


async def verify_assertion(runtime: Runtime, user_id: uuid.UUID, assertion: str) -> bool:
    """Whether `assertion` answers the user's pending login challenge with one of the
    user's own credentials. The challenge is spent either way."""
    now = runtime.clock.now()
    challenge = await challenges.take(runtime.redis, "login", user_id, now)
    if challenge is None:
        return False
    parsed = parse_assertion(assertion, user_id)
    if parsed is None:
        return False
    async with runtime.platform_engine.begin() as conn:
        row = await repository.webauthn_credential_for_update(conn, user_id, parsed.raw_id)
        if row is None:
            return False
        new_count = check_assertion(runtime.settings, challenge, parsed, row)
        if new_count is None:
            return False
        await repository.record_webauthn_use(conn, row["id"], new_count, now)
    return True


def check_registration(
    settings: Settings,
    challenge: bytes,
    credential: str,
    *,
    require_user_verification: bool = False,
) -> tuple[VerifiedRegistration, list[str] | None]:
    """The verified registration answering `challenge`, and the transports the browser
    reported; BAD_USER_INPUT if it does not verify."""
    try:
        if len(credential) > MAX_CREDENTIAL_CHARS:
            raise ValueError("credential too large")
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=settings.webauthn_rp_id,
            expected_origin=settings.webauthn_expected_origins,
            require_user_verification=require_user_verification,
        )
    # The library parses client-supplied JSON, base64, CBOR and COSE keys, and not all
    # of its failures are WebAuthnException: any failure to verify is a refusal.
    except Exception as exc:
        log.info("WebAuthn registration refused: %s", exc)
        raise bad_input("the credential could not be verified", field="credential") from None
    transports: list[str] = [
        t.value for t in parsed.response.transports or () if t.value in _TRANSPORTS
    ]
    return verified, transports or None


def parse_assertion(assertion: str, user_id: uuid.UUID) -> AuthenticationCredential | None:
    """The assertion parsed, or None if it is malformed, too large, or names another
    user's handle."""
    if len(assertion) > MAX_CREDENTIAL_CHARS:
        return None
    try:
        parsed = parse_authentication_credential_json(assertion)
    # As in `register`: whatever the library fails on, the assertion is refused.
    except Exception as exc:
        log.info("WebAuthn assertion refused: %s", exc)
        return None
    handle = parsed.response.user_handle
    if handle is not None and handle != user_id.bytes:
        return None
    return parsed


def check_assertion(
    settings: Settings,
    challenge: bytes,
    parsed: AuthenticationCredential,
    credential: RowMapping,
    *,
    require_user_verification: bool = False,
) -> int | None:
    """The credential's new sign count if `parsed` answers `challenge` with a valid
    signature of `credential` (a row with `public_key` and `sign_count`) from an expected
    origin, its counter moving forward; None otherwise."""
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=settings.webauthn_rp_id,
            expected_origin=settings.webauthn_expected_origins,
            credential_public_key=bytes(credential["public_key"]),
            credential_current_sign_count=credential["sign_count"],
            require_user_verification=require_user_verification,
        )
    except Exception as exc:
        log.info("WebAuthn assertion refused: %s", exc)
        return None
    return verified.new_sign_count
