"""Process-wide logging set-up, called once by each entry point.

Log lines go through structlog: JSON lines in production, console lines otherwise. Records
from the standard library's `logging` (ours, uvicorn's, arq's ...) take the same path
through a `ProcessorFormatter`, so every line, whoever wrote it, passes `scrub_log_event`
(platform/scrub.py): no e-mail address, credential or IP address reaches the output, and an
exception is logged as its type and frames only, with its message in dev alone.
"""

from __future__ import annotations

import logging
import platform
import sys
import traceback
from collections.abc import Callable, MutableMapping
from types import TracebackType
from typing import IO, Any

import structlog

from audora.platform.scrub import REDACTED, is_sensitive_key, scrub_text, scrub_value

# The name of the one handler `configure` installs on the root logger.
_HANDLER_NAME = "audora"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _exc_info(value: Any) -> ExcInfo | None:
    if value is True:
        current = sys.exc_info()
        return None if current[0] is None else current
    if isinstance(value, BaseException):
        return type(value), value, value.__traceback__
    if isinstance(value, tuple) and len(value) == 3 and value[0] is not None:
        return value
    return None


def _exception(info: ExcInfo, keep_message: bool) -> dict[str, Any]:
    kind, error, tb = info
    described: dict[str, Any] = {
        "type": f"{kind.__module__}.{kind.__qualname__}",
        "frames": [
            f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(tb)
        ],
    }
    if keep_message:
        described["message"] = scrub_text(str(error))
    return described


def _exception_text(described: dict[str, Any]) -> str:
    """The console's form: a traceback of the frames, then the type and scrubbed message."""
    frames = "".join(f"\n  {frame}" for frame in described["frames"])
    message = f": {described['message']}" if "message" in described else ""
    return f"Traceback (most recent call last):{frames}\n{described['type']}{message}"


def scrub_processor(
    keep_messages: bool, *, as_text: bool = False
) -> Callable[..., MutableMapping[str, Any]]:
    """A structlog processor: the event scrubbed, sensitive keys replaced, an exception
    reduced to its type and frames (its message kept, scrubbed, only if `keep_messages`);
    `as_text` gives the exception as one string, as the console renderer wants it."""

    def scrub_log_event(
        logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event_dict.pop("stack_info", None)
        info = _exc_info(event_dict.pop("exc_info", None))
        if info is not None:
            described = _exception(info, keep_messages)
            event_dict["exception"] = _exception_text(described) if as_text else described
        for key, value in list(event_dict.items()):
            if key.startswith("_") or key in ("exception", "level", "logger", "timestamp"):
                continue
            if key != "event" and is_sensitive_key(key):
                event_dict[key] = REDACTED
            else:
                event_dict[key] = scrub_value(value)
        return event_dict

    return scrub_log_event


def configure(
    level: str = "INFO", *, json_lines: bool = False, stream: IO[str] | None = None
) -> None:
    """Routes all logging through structlog: JSON lines if `json_lines` (production),
    console lines otherwise; either way through the scrubber. As `logging.basicConfig`,
    it leaves alone a process whose logging someone else set up (a test runner); called
    again, it replaces its own handler."""
    root = logging.getLogger()
    if any(handler.get_name() != _HANDLER_NAME for handler in root.handlers):
        return
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        scrub_processor(keep_messages=not json_lines, as_text=not json_lines),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    for previous in list(root.handlers):
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def runtime_banner() -> str:
    """Names the OS through the standard library's `platform` module: if our own
    `platform/` folder ever shadowed it, this line is where a process would fail first."""
    return (
        f"runtime: {platform.system()} {platform.python_implementation()} "
        f"{platform.python_version()}"
    )
