"""Writes the SDL to `schema/schema.graphql` (`audora schema export`); a test keeps the
committed file equal to the code."""

from __future__ import annotations

from pathlib import Path

from audora.schema.build import build_schema

SDL_PATH = Path(__file__).resolve().parent / "schema.graphql"


def current_sdl() -> str:
    return build_schema().as_str() + "\n"


def export() -> Path:
    SDL_PATH.write_text(current_sdl())
    return SDL_PATH
