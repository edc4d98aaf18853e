"""Writes the SDL to `schema/schema.graphql` and the permission matrix to
`docs/permissions.md` (`audora schema export`); tests keep both equal to the code."""

from __future__ import annotations

from pathlib import Path

from audora.platform.auth.permissions import render_markdown
from audora.schema.build import build_schema

SDL_PATH = Path(__file__).resolve().parent / "schema.graphql"
PERMISSIONS_PATH = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"


def current_sdl() -> str:
    return build_schema().as_str() + "\n"


def export() -> Path:
    SDL_PATH.write_text(current_sdl())
    PERMISSIONS_PATH.write_text(render_markdown())
    return SDL_PATH
