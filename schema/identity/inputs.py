from __future__ import annotations

import strawberry


@strawberry.input
class SignUpInput:
    account_name: str
    email: str
    password: str
    full_name: str


@strawberry.input
class LogInInput:
    email: str
    password: str
    totp_code: str | None = None
    webauthn_assertion: str | None = strawberry.field(
        default=None,
        description="The PublicKeyCredential from navigator.credentials.get, as JSON "
        "(its toJSON()), answering the webauthnOptions of the last MFA_REQUIRED.",
    )


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str
