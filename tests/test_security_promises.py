"""docs/security-promises.md names, for each promise, the code that keeps it and the
tests that prove it. A renamed or deleted test must not leave the page pointing at
nothing: every test it names exists, and every promise it calls kept names one."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "security-promises.md"


def _rows() -> list[list[str]]:
    rows = []
    for line in PAGE.read_text().splitlines():
        # Cells part at a pipe with white space on both sides: `run|schedule` in code
        # stays whole, and an empty cell ("| |") is still a cell.
        inner = line.strip().removeprefix("|").removesuffix("|")
        cells = [cell.strip() for cell in re.split(r"(?<=\s)\|(?=\s)", f" {inner} ")]
        if len(cells) == 6 and re.fullmatch(r"[A-Z]\d+", cells[0]):
            rows.append(cells)
    return rows


def _named_tests(cell: str) -> list[tuple[str, str]]:
    """(file, test) pairs a "proven by" cell names; `::name` and a bare `test_name`
    belong to the file named last before them; a file named alone ("every test of
    it") is a pair with an empty name."""
    named: list[tuple[str, str]] = []
    current = ""
    for token in re.findall(r"`([^`]+)`", cell):
        path, _, name = token.partition("::")
        if path.startswith("tests/"):
            current = path
            named.append((current, name.split("[")[0]))
        elif name or path.startswith("test_"):
            named.append((current, (name or path).split("[")[0]))
    return named


def test_the_page_has_a_row_for_each_promise() -> None:
    ids = [row[0] for row in _rows()]
    assert len(ids) == len(set(ids)) == 51


def test_every_test_the_page_names_exists() -> None:
    missing = []
    for row in _rows():
        for path, name in _named_tests(row[5]):
            source = REPO / path
            if not source.is_file() or (
                name
                and not re.search(rf"^(async )?def {re.escape(name)}\(", source.read_text(), re.M)
            ):
                missing.append(f"{row[0]}: {path}::{name}")
    assert missing == []


def test_every_kept_promise_names_a_test() -> None:
    unproven = [row[0] for row in _rows() if row[3].startswith("kept") and not _named_tests(row[5])]
    assert unproven == []
