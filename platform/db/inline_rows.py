"""Tenant tables whose rows always fit in a page, kept without a TOAST table.

PostgreSQL gives a table a TOAST table (and its index: two more relations and two more
files) as soon as one column could hold a value too long for a page, which any `text`,
`bytea` or array column could. At 10,000 tenants a tenant had 15 of them, and making
them was 18% of PostgreSQL's CPU in a sign-up (docs/scaling.md). A table marked with
`INLINE_ROWS` has every variable-length column created with `STORAGE PLAIN`, which
PostgreSQL takes as "never out of line", so it makes no TOAST table at all.

Only tables whose every value is bounded are marked: short system strings, keys,
hashes, names the API bounds, and reasons the platform writes, in `Reason` columns,
which clip whatever is written to them (`platform.input_text.bounded_reason`). A row
that still came out longer than a page would be refused whole by PostgreSQL ("row is
too big"), never stored in part.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateColumn
from sqlalchemy.sql import sqltypes
from sqlalchemy.sql.compiler import DDLCompiler

from audora.platform.input_text import bounded_reason

# Put in a Table's info: `Table(..., info=INLINE_ROWS)`.
INLINE_ROWS: dict[str, Any] = {"inline_rows": True}


class Reason(sqltypes.TypeDecorator[str]):
    """A failure reason: TEXT in the database, clipped to MAX_REASON characters on the
    way in, whichever statement writes it."""

    impl = sqltypes.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else bounded_reason(value)


def has_inline_rows(column: Column[Any]) -> bool:
    table = getattr(column, "table", None)
    return bool(table is not None and table.info.get("inline_rows"))


def variable_length(column: Column[Any]) -> bool:
    """Whether PostgreSQL could TOAST the column's values. A variable-length type left
    off this list shows up as a TOAST table, which a test looks for."""
    kind = column.type
    if isinstance(kind, sqltypes.TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, sqltypes.String | sqltypes.LargeBinary | sqltypes.ARRAY | sqltypes.JSON)


@compiles(CreateColumn, "postgresql")
def _create_column(element: CreateColumn, compiler: DDLCompiler, **kw: Any) -> str:
    text: str = compiler.visit_create_column(element, **kw)  # type: ignore[no-untyped-call]
    column = element.element
    if not (has_inline_rows(column) and variable_length(column)):
        return text
    if getattr(column.type, "collation", None):
        # The type's text would end in COLLATE, which must come after STORAGE.
        raise NotImplementedError(f"{column}: a collation in a table of inline rows")
    # STORAGE must follow the type at once (PostgreSQL 16's grammar), before any
    # default or constraint.
    type_text = compiler.dialect.type_compiler_instance.process(column.type, type_expression=column)
    head = f"{compiler.preparer.format_column(column)} {type_text}"
    if not text.startswith(head):
        raise RuntimeError(f"unexpected column DDL for {column}: {text!r}")
    return f"{head} STORAGE PLAIN{text[len(head) :]}"
