"""The two alembic streams: `platform` (once) and `tenant` (once per tenant schema)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def stream_config(stream: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS / stream))
    return config


@cache
def script_directory(stream: str) -> ScriptDirectory:
    return ScriptDirectory.from_config(stream_config(stream))


def head(stream: str) -> str:
    revision = script_directory(stream).get_current_head()
    if revision is None:
        raise RuntimeError(f"the {stream} migration stream has no head")
    return revision
