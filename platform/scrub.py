"""What may leave the process in monitoring: one scrubber for Sentry events and log lines.

Two passes over whatever is about to leave:
- by key: a value under a key that names a credential (`password`, `token`, `cookie`,
  `authorization`, `secret`, ...) or customer content (`transcript`, `variables`, `body`,
  ...) is replaced whole, whatever it looks like;
- by shape: in every other string, e-mail addresses, bearer/basic credentials, session and
  token query parameters, and IPv4/IPv6 addresses are replaced.

A regular expression cannot recognise what a client said in a call, so customer content is
kept out by structure instead: Sentry events lose request bodies, query strings, headers
other than a few harmless ones, GraphQL variables, the user, breadcrumb data and the local
variables of every stack frame (`vars`). What stays is what an engineer needs to find a bug:
exception types, modules, file names, line numbers and function names.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"

# Keys whose values are never sent, compared lower-case with `-` read as `_`. A key matches
# when it contains one of these words (`x_api_key`, `session_token`, `db_password`).
_SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "session",
    "api_key",
    "apikey",
    "private_key",
    "credential",
    "signature",
    "csrf",
)
# Keys that carry customer content (or the user's own identity), matched exactly.
_CONTENT_KEYS = frozenset(
    {
        "body",
        "data",
        "variables",
        "query_string",
        "transcript",
        "text",
        "content",
        "summary",
        "details",
        "notes",
        "email",
        "full_name",
        "user",
        "username",
        "ip",
        "ip_address",
        "remote_addr",
        "client",
        "phone",
        "vars",
        "locals",
        # Short credential names, exact only (as substrings they would catch "footprint").
        "otp",
        "totp",
        "dsn",
        "code",
        "sig",
        "key",
    }
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_AUTH_SCHEME = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=\-]+", re.IGNORECASE)
# `name=value` pairs (query strings, log lines) whose name says credential; `code`, `key`
# and `sig` only as whole names (an OAuth code, a signed link), not `status_code=500`.
_SECRET_PARAM = re.compile(
    r"(?<![A-Za-z0-9_\-])([A-Za-z_\-]*(?:token|secret|passw(?:or)?d|session|signature"
    r"|api_?key|access_?key|private_?key)[A-Za-z_\-]*|code|key|sig)"
    r"=[^&\s\"';,]+",
    re.IGNORECASE,
)
_IPV4 = re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")
# Full and compressed IPv6 forms (at least two groups around a `::`, or eight groups).
_IPV6 = re.compile(
    r"(?<![0-9A-Za-z:])(?:"
    r"(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
    r"|(?:[0-9A-Fa-f]{1,4}:){1,7}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?"
    r"|::(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})"
    r")(?![0-9A-Za-z:])"
)
# Long opaque strings (session ids, API keys, signed links) with no other marker: 32 or more
# URL-safe characters mixing letters and digits (a long identifier without digits stays).
_OPAQUE = re.compile(
    r"(?<![A-Za-z0-9_\-])(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])"
    r"[A-Za-z0-9_\-]{32,}(?![A-Za-z0-9_\-])"
)

# Request headers worth keeping on an event: nothing in them identifies a person.
_SAFE_HEADERS = frozenset({"content-type", "content-length", "accept", "host"})


def is_sensitive_key(key: str) -> bool:
    normal = key.lower().replace("-", "_")
    return normal in _CONTENT_KEYS or any(word in normal for word in _SECRET_WORDS)


def _address(match: re.Match[str]) -> str:
    """An IP address replaced, unless it names no one: loopback or "any" (a bind address)."""
    try:
        address = ipaddress.ip_address(match.group(0))
    except ValueError:
        return REDACTED
    return match.group(0) if address.is_loopback or address.is_unspecified else REDACTED


def scrub_text(text: str) -> str:
    """The text with e-mail addresses, credentials and IP addresses replaced."""
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    text = _EMAIL.sub(REDACTED, text)
    text = _IPV4.sub(_address, text)
    text = _IPV6.sub(_address, text)
    return _OPAQUE.sub(REDACTED, text)


def scrub_value(value: Any) -> Any:
    """Walks dicts, lists and tuples: sensitive keys replaced whole, strings scrubbed."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and is_sensitive_key(k) else scrub_value(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_value(v) for v in value]
    return value


# --- Sentry ---------------------------------------------------------------------------


def _strip_frames(container: Mapping[str, Any] | None) -> None:
    """Drops local variables (and source lines, which may quote literals) from frames."""
    if not container:
        return
    for frame in (container.get("stacktrace") or {}).get("frames") or []:
        for key in ("vars", "pre_context", "context_line", "post_context"):
            frame.pop(key, None)


def _scrub_request(request: dict[str, Any]) -> dict[str, Any]:
    headers = request.get("headers") or {}
    kept = {k: scrub_text(str(v)) for k, v in dict(headers).items() if k.lower() in _SAFE_HEADERS}
    url = str(request.get("url") or "")
    return {
        "method": request.get("method"),
        "url": scrub_text(url.split("?", 1)[0]),
        "headers": kept,
    }


def scrub_event(event: dict[str, Any], hint: Any = None) -> dict[str, Any]:
    """Sentry `before_send`: what is left of an event once nothing personal remains."""
    for key in ("user", "extra", "server_name"):
        event.pop(key, None)
    if isinstance(event.get("request"), dict):
        event["request"] = _scrub_request(event["request"])
    for exception in (event.get("exception") or {}).get("values") or []:
        # The message may quote the input that failed (a transcript, an address): only the
        # type, module and frames are kept.
        if exception.get("value"):
            exception["value"] = REDACTED
        _strip_frames(exception)
    for thread in (event.get("threads") or {}).get("values") or []:
        _strip_frames(thread)
    _strip_frames(event)
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        # The template is our code's text; the parameters are whatever was passed in.
        event["logentry"] = {"message": scrub_text(str(logentry.get("message") or ""))}
    if isinstance(event.get("message"), str):
        event["message"] = scrub_text(event["message"])
    crumbs = event.get("breadcrumbs")
    if isinstance(crumbs, dict):
        values = [scrub_breadcrumb(c) for c in crumbs.get("values") or []]
        crumbs["values"] = [c for c in values if c is not None]
    # Whatever else (contexts, tags, extra fields) goes through the general pass; the parts
    # reduced above keep their shape, and the SDK's own description is left alone.
    done = ("sdk", "exception", "threads", "breadcrumbs", "request", "logentry", "modules")
    for key, value in list(event.items()):
        if key not in done:
            event[key] = scrub_value(value)
    return event


# Breadcrumb data worth keeping: nothing in these identifies a person or quotes content.
_SAFE_CRUMB_DATA = frozenset({"method", "status_code", "reason", "http.method"})


def scrub_breadcrumb(crumb: dict[str, Any], hint: Any = None) -> dict[str, Any] | None:
    """Sentry `before_breadcrumb`: message scrubbed, data reduced to harmless fields."""
    data = crumb.get("data") or {}
    kept: dict[str, Any] = {k: v for k, v in dict(data).items() if k in _SAFE_CRUMB_DATA}
    if "url" in data:
        kept["url"] = scrub_text(str(data["url"]).split("?", 1)[0])
    out: dict[str, Any] = {
        k: crumb[k] for k in ("type", "category", "level", "timestamp") if k in crumb
    }
    if crumb.get("message") is not None:
        out["message"] = scrub_text(str(crumb["message"]))
    if kept:
        out["data"] = kept
    return out
