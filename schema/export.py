"""Writes the SDL to `schema/schema.graphql`, the permission matrix to
`docs/permissions.md` and the retention schedule to `docs/retention.md` (`audora schema
export`); tests keep all three equal to the code."""

from __future__ import annotations

from pathlib import Path

from audora.platform.auth import permissions
from audora.schema.build import build_schema
from audora.tenants.lifecycle import schedule

SDL_PATH = Path(__file__).resolve().parent / "schema.graphql"
PERMISSIONS_PATH = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"
RETENTION_PATH = PERMISSIONS_PATH.with_name("retention.md")


def current_sdl() -> str:
    return build_schema().as_str() + "\n"


def export() -> Path:
    SDL_PATH.write_text(current_sdl())
    PERMISSIONS_PATH.write_text(permissions.render_markdown())
    RETENTION_PATH.write_text(schedule.render_markdown())
    return SDL_PATH
