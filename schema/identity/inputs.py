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


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str
