"""Process-wide logging set-up, called once by each entry point."""

from __future__ import annotations

import logging
import platform
import sys


def configure(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def runtime_banner() -> str:
    """Names the OS through the standard library's `platform` module: if our own
    `platform/` folder ever shadowed it, this line is where a process would fail first."""
    return (
        f"runtime: {platform.system()} {platform.python_implementation()} "
        f"{platform.python_version()}"
    )
