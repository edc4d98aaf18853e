"""Reading and rewriting a plain-format pg_dump of one tenant schema as it streams by.

A plain dump is SQL with each table's rows in a `COPY <schema>.<table> (<columns>) FROM
stdin;` block, one row per line (COPY's text format escapes tabs and newlines inside
values), ended by a line `\\.`. That makes two jobs possible in one pass, line by line,
without ever holding the dump or writing it to disk:

- on the way out (`DumpFilter`): blank the columns that must never reach a backup (the
  recordings' wrapped keys: erasing a recording drops its key, and that erasure must
  reach every backup too), and count each table's rows, from the very snapshot dumped;
- on the way back in (`ScratchRewriter`): rename the tenant schema to a drill's scratch
  schema everywhere but inside the rows, which pass through untouched.

Anything unexpected fails closed: a dump in which a blanked table's block cannot be
read, or never appears, is refused rather than stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

COPY_END = b"\\."
NULL = b"\\N"
_COPY = re.compile(rb"\ACOPY ([^ (]+)\.([^ (]+) \((.*)\) FROM stdin;\Z")

# Columns whose values never go into a backup, by table.
BLANKED: Mapping[str, frozenset[str]] = {"recordings": frozenset({"wrapped_key"})}


class DumpFormatError(RuntimeError):
    """The dump is not what this module knows how to read: nothing is stored."""


def _ident(raw: bytes) -> str:
    text = raw.decode()
    return text[1:-1].replace('""', '"') if text.startswith('"') else text


class _Lines:
    """Splits a byte stream into complete lines, keeping the unfinished tail."""

    def __init__(self) -> None:
        self._tail = b""

    def split(self, chunk: bytes) -> list[bytes]:
        data = self._tail + chunk
        lines = data.split(b"\n")
        self._tail = lines.pop()
        return lines

    def rest(self) -> bytes:
        tail, self._tail = self._tail, b""
        return tail


class DumpFilter:
    """Feed pg_dump's output through `feed` and `finish`; forward what they return.
    `row_counts` then holds every dumped table's row count."""

    def __init__(self, schema: str, blanked: Mapping[str, frozenset[str]] = BLANKED) -> None:
        self.schema = schema
        self.blanked = blanked
        self.row_counts: dict[str, int] = {}
        self._lines = _Lines()
        self._table: str | None = None
        self._blank_at: list[int] = []

    def feed(self, chunk: bytes) -> bytes:
        out = [self._line(line) for line in self._lines.split(chunk)]
        return b"".join(line + b"\n" for line in out)

    def finish(self) -> bytes:
        tail = self._lines.rest()
        if tail or self._table is not None:
            raise DumpFormatError("the dump ended inside a line or a table's rows")
        missing = set(self.blanked) - set(self.row_counts)
        if missing:
            raise DumpFormatError(f"no rows block for {sorted(missing)} in the dump")
        return b""

    def _line(self, line: bytes) -> bytes:
        if self._table is not None:
            if line == COPY_END:
                self._table = None
                return line
            self.row_counts[self._table] += 1
            if not self._blank_at:
                return line
            fields = line.split(b"\t")
            for index in self._blank_at:
                if index >= len(fields):
                    raise DumpFormatError(f"a row of {self._table} has too few columns")
                fields[index] = NULL
            return b"\t".join(fields)
        if line.startswith(b"COPY "):
            match = _COPY.match(line)
            if match is None:
                raise DumpFormatError("a COPY line this reader does not understand")
            schema, table = _ident(match.group(1)), _ident(match.group(2))
            if schema != self.schema:
                raise DumpFormatError("rows of another schema in the dump")
            columns = [_ident(c.strip()) for c in match.group(3).split(b",")]
            doomed = self.blanked.get(table, frozenset())
            if not doomed <= set(columns):
                raise DumpFormatError(f"{table}'s rows lack a column to blank")
            self._blank_at = [i for i, c in enumerate(columns) if c in doomed]
            self._table = table
            self.row_counts[table] = 0
        return line


class ScratchRewriter:
    """Renames `schema` to `scratch` in the dump's SQL, never inside its rows."""

    def __init__(self, schema: str, scratch: str) -> None:
        self._from = schema.encode()
        self._to = scratch.encode()
        self._lines = _Lines()
        self._in_rows = False

    def feed(self, chunk: bytes) -> bytes:
        return b"".join(self._line(line) + b"\n" for line in self._lines.split(chunk))

    def finish(self) -> bytes:
        if self._in_rows:
            raise DumpFormatError("the dump ended inside a table's rows")
        tail = self._lines.rest()
        return tail.replace(self._from, self._to)

    def _line(self, line: bytes) -> bytes:
        if self._in_rows:
            if line == COPY_END:
                self._in_rows = False
            return line
        if line.startswith(b"COPY ") and line.endswith(b" FROM stdin;"):
            self._in_rows = True
        return line.replace(self._from, self._to)
