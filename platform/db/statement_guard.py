"""What SQL the platform's own connections may send, checked with PostgreSQL's own
parser (libpg_query, through pglast) rather than patterns a comment or quoting defeats.

The application's login role may switch to any tenant role (that is how a binding
works), so no statement but the binding's may change role, search_path or any other
setting, end the transaction that carries the binding, or run SQL hidden in a string
(DO blocks, functions that execute queries given as text). Verdicts are cached by
statement text: SQLAlchemy sends the same compiled text again and again.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pglast
from pglast import ast
from pglast.visitors import Visitor

# Functions that change settings or execute SQL passed to them as text.
FORBIDDEN_FUNCTIONS = frozenset(
    {
        "set_config",
        "query_to_xml",
        "query_to_xmlschema",
        "query_to_xml_and_xmlschema",
        "cursor_to_xml",
        "cursor_to_xmlschema",
        "dblink",
        "dblink_exec",
        "dblink_open",
        "dblink_send_query",
    }
)

_PLACEHOLDER = re.compile(r"%\(\w+\)s|%s")


class ForbiddenStatement(RuntimeError):
    """A statement tried to leave or change its tenant binding."""


class _Finder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.reasons: list[str] = []

    def visit_VariableSetStmt(self, parent: object, node: ast.VariableSetStmt) -> None:
        self.reasons.append(f"SET/RESET {node.name or ''}".strip())

    def visit_TransactionStmt(self, parent: object, node: ast.TransactionStmt) -> None:
        self.reasons.append("transaction control")

    def visit_DoStmt(self, parent: object, node: ast.DoStmt) -> None:
        self.reasons.append("DO block")

    def visit_FuncCall(self, parent: object, node: ast.FuncCall) -> None:
        name = str(getattr((node.funcname or ("",))[-1], "sval", "")).lower()
        if name in FORBIDDEN_FUNCTIONS:
            self.reasons.append(f"function {name}")


@lru_cache(maxsize=8192)
def refusal(statement: str) -> str | None:
    """Why `statement` may not run, or None if it may."""
    try:
        tree = pglast.parse_sql(_PLACEHOLDER.sub("$1", statement).replace("%%", "%"))
    except pglast.parser.ParseError:
        return "statement could not be checked"
    finder = _Finder()
    finder(tree)
    return "; ".join(finder.reasons) or None
