"""Run on its own by tests/test_layout.py with `python -m pytest` from the repository
root, where the current directory comes first on sys.path."""

from __future__ import annotations

import platform
import sysconfig
from pathlib import Path


def test_platform_is_the_standard_library_module() -> None:
    assert platform.system()
    assert Path(platform.__file__).parent == Path(sysconfig.get_paths()["stdlib"])
