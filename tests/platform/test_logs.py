"""Promise: a log line, whoever wrote it (our code through logging or structlog, uvicorn,
arq), is rendered without e-mail addresses, credentials or IP addresses; in production it
is one JSON object per line, and an exception keeps its type and frames only."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from audora.platform.logs import configure

EMAIL = "dana.client@acme-example.com"
TOKEN = "sk_live_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"  # pragma: allowlist secret
PASSWORD = "hunter2-Correct-Horse"  # pragma: allowlist secret
IPV4 = "198.51.100.23"
IPV6 = "2001:db8:85a3::8a2e:370:7334"
CONTENT = "we plan to acquire Globex for forty million"


UVICORN_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error")


class FreshProcess:
    """Logging configured as an entry point would in a fresh process, into a buffer."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.set_aside: list[logging.Handler] = []
        self.level = logging.getLogger().level
        # A server an earlier test ran in this process may have given uvicorn's loggers
        # handlers of their own and stopped them propagating: a fresh process has neither.
        self.uvicorn = {
            name: (logger.handlers[:], logger.propagate, logger.level)
            for name in UVICORN_LOGGERS
            for logger in [logging.getLogger(name)]
        }
        for name in UVICORN_LOGGERS:
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.propagate = True
            logger.setLevel(logging.NOTSET)

    def configure(self, *, json_lines: bool) -> io.StringIO:
        # pytest's own capture handlers, added around each test, are set aside meanwhile.
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
            if handler.get_name() != "audora":
                self.set_aside.append(handler)
        configure(json_lines=json_lines, stream=self.buffer)
        return self.buffer

    def restore(self) -> None:
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in self.set_aside:
            root.addHandler(handler)
        root.setLevel(self.level)
        for name, (handlers, propagate, level) in self.uvicorn.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.propagate = propagate
            logger.setLevel(level)
        structlog.reset_defaults()


@pytest.fixture
def fresh() -> Iterator[FreshProcess]:
    process = FreshProcess()
    yield process
    process.restore()


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line]


def _sign_in(email: str, password: str) -> None:
    raise PermissionError(f"bad password {password} for {email}")


def test_a_production_log_line_is_json_without_emails_tokens_or_addresses(
    fresh: FreshProcess,
) -> None:
    output = fresh.configure(json_lines=True)
    logging.getLogger("audora.test").info(
        "sign-in by %s from %s with Bearer %s", EMAIL, IPV4, TOKEN
    )
    # uvicorn's access line, as it formats it (propagated to ours: log_config=None).
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', f"{IPV4}:51234", "GET", f"/files?token={TOKEN}", "1.1", 200
    )
    logging.getLogger("audora.test").warning("from %s", IPV6)
    logging.getLogger("uvicorn.error").info("Uvicorn running on https://127.0.0.1:8443")

    text = output.getvalue()
    for value in (EMAIL, TOKEN, IPV4, IPV6):
        assert value not in text
    first, access, third, bound = lines(output)
    assert first["event"] == "sign-in by [redacted] from [redacted] with Bearer [redacted]"
    assert first["level"] == "info"
    assert first["logger"] == "audora.test"
    assert access["event"] == '[redacted]:51234 - "GET /files?token=[redacted] HTTP/1.1" 200'
    assert third["event"] == "from [redacted]"
    # Loopback and "any" addresses name no one: kept.
    assert bound["event"] == "Uvicorn running on https://127.0.0.1:8443"


def test_structlog_fields_naming_credentials_or_content_are_replaced_whole(
    fresh: FreshProcess,
) -> None:
    output = fresh.configure(json_lines=True)
    structlog.get_logger("audora.test").info(
        "document pushed",
        password=PASSWORD,
        api_key=TOKEN,
        transcript=CONTENT,
        variables={"email": EMAIL},
        note=f"for {EMAIL}",
        call_id="c-42",
    )
    [line] = lines(output)
    assert line["event"] == "document pushed"
    assert line["password"] == line["api_key"] == line["transcript"] == "[redacted]"
    assert line["variables"] == "[redacted]"
    assert line["note"] == "for [redacted]"
    assert line["call_id"] == "c-42"


def test_an_exception_logged_in_production_keeps_its_type_and_frames_only(
    fresh: FreshProcess,
) -> None:
    output = fresh.configure(json_lines=True)
    try:
        _sign_in(EMAIL, PASSWORD)
    except PermissionError:
        logging.getLogger("audora.test").exception("sign-in failed")
    try:
        _sign_in(EMAIL, PASSWORD)
    except PermissionError:
        structlog.get_logger("audora.test").exception("sign-in failed again")

    assert EMAIL not in output.getvalue()
    assert PASSWORD not in output.getvalue()
    for line in lines(output):
        assert line["exception"]["type"] == "builtins.PermissionError"
        assert line["exception"]["frames"][-1].endswith(" in _sign_in")
        assert "message" not in line["exception"]


def test_logging_set_up_by_the_host_process_is_left_alone() -> None:
    # Here the host is pytest, whose capture handlers are on the root logger.
    before = list(logging.getLogger().handlers)
    assert before
    output = io.StringIO()
    configure(json_lines=True, stream=output)
    assert logging.getLogger().handlers == before
    logging.getLogger("audora.test").warning("to the host's handlers only")
    assert output.getvalue() == ""


def test_dev_logs_are_console_lines_through_the_same_scrubber(fresh: FreshProcess) -> None:
    output = fresh.configure(json_lines=False)
    try:
        _sign_in(EMAIL, PASSWORD)
    except PermissionError:
        logging.getLogger("audora.test").exception("sign-in from %s failed", IPV4)

    text = output.getvalue()
    assert "sign-in from [redacted] failed" in text
    # In dev an exception keeps its message, scrubbed of what has a recognisable shape.
    assert "PermissionError: bad password" in text
    assert "for [redacted]" in text
    assert "in _sign_in" in text
    assert EMAIL not in text
    assert IPV4 not in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])
