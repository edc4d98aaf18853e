"""Shape checks on identity input, before any work is done."""

from __future__ import annotations

import re

from audora.platform.errors import bad_input
from audora.platform.input_text import clean_text

# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is proven
# by the mail itself, not by a regular expression.
_EMAIL = re.compile(r"\A[^@\s]{1,64}@[^@\s]+\.[^@\s]+\Z")
MAX_EMAIL = 254
MAX_NAME = 200


def normalize_email(email: str) -> str:
    email = email.strip()
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise bad_input("email is not a valid address", field="email")
    return email.lower()


def clean_name(value: str, *, field: str) -> str:
    return clean_text(value, field=field, limit=MAX_NAME)
