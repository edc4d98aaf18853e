"""The one root of every error a client may see.

Codes are CONTRACT.md's. Anything that is not an `AppError` reaches the client as
INTERNAL with a correlation id and nothing else; the details go to the log only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    RATE_LIMITED = "RATE_LIMITED"
    LOCKED_OUT = "LOCKED_OUT"
    MFA_REQUIRED = "MFA_REQUIRED"
    CONFLICT = "CONFLICT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    INTERNAL = "INTERNAL"


class AppError(Exception):
    def __init__(self, message: str, *, code: ErrorCode, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extensions = extensions


def not_found(kind: str) -> AppError:
    """Missing, another tenant's, or outside the caller's scope: the same answer."""
    return AppError(f"{kind} not found", code=ErrorCode.NOT_FOUND)


def bad_input(message: str, *, field: str | None = None) -> AppError:
    if field is None:
        return AppError(message, code=ErrorCode.BAD_USER_INPUT)
    return AppError(message, code=ErrorCode.BAD_USER_INPUT, field=field)


def unauthenticated(message: str = "authentication required") -> AppError:
    return AppError(message, code=ErrorCode.UNAUTHENTICATED)


def forbidden(message: str = "not allowed") -> AppError:
    return AppError(message, code=ErrorCode.FORBIDDEN)
