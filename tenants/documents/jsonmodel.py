"""The document models as JSON: a JSON Schema for a language model's structured output
(OpenAI's strict mode: every property required, no others allowed, nullable written as
a type list), and a loader that checks a returned object against the same dataclasses.

Both are derived from the dataclasses' type hints, so the schema a provider is held to
and the model the renderer reads cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")


class InvalidDocument(ValueError):
    """A returned document does not match its model; the message says where."""


def schema_of(cls: type[Any]) -> dict[str, Any]:
    """The strict JSON Schema of dataclass `cls`."""
    return _schema(cls)


def _schema(hint: Any) -> dict[str, Any]:
    origin, args = get_origin(hint), get_args(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        hints = get_type_hints(hint)
        fields = [f.name for f in dataclasses.fields(hint)]
        return {
            "type": "object",
            "properties": {name: _schema(hints[name]) for name in fields},
            "required": fields,
            "additionalProperties": False,
        }
    if origin in (Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        if len(present) != 1:
            raise TypeError(f"unsupported union {hint}")
        inner = _schema(present[0])
        if "type" in inner and isinstance(inner["type"], str):
            return {**inner, "type": [inner["type"], "null"]}
        return {"anyOf": [inner, {"type": "null"}]}
    if origin is Literal:
        return {"type": "string", "enum": list(args)}
    if origin is tuple or origin is list:
        return {"type": "array", "items": _schema(args[0])}
    if hint is str:
        return {"type": "string"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    raise TypeError(f"no JSON schema for {hint!r}")


def load(cls: type[T], data: object) -> T:
    """`data` as an instance of dataclass `cls`, or InvalidDocument naming what is wrong."""
    value: T = _load(cls, data, cls.__name__)
    return value


def _load(hint: Any, data: object, where: str) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if not isinstance(data, dict):
            raise InvalidDocument(f"{where}: expected an object")
        hints = get_type_hints(hint)
        names = {f.name for f in dataclasses.fields(hint)}
        if unknown := set(data) - names:
            raise InvalidDocument(f"{where}: unexpected fields {sorted(unknown)}")
        if missing := names - set(data):
            raise InvalidDocument(f"{where}: missing fields {sorted(missing)}")
        return hint(**{n: _load(hints[n], data[n], f"{where}.{n}") for n in names})
    if origin in (Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        present = [a for a in args if a is not type(None)]
        return _load(present[0], data, where)
    if origin is Literal:
        if data not in args:
            raise InvalidDocument(f"{where}: {data!r} is not one of {list(args)}")
        return data
    if origin is tuple or origin is list:
        if not isinstance(data, list):
            raise InvalidDocument(f"{where}: expected an array")
        return tuple(_load(args[0], item, f"{where}[{i}]") for i, item in enumerate(data))
    if hint is float and isinstance(data, int | float) and not isinstance(data, bool):
        return float(data)
    if hint in (str, int, bool) and type(data) is hint:
        return data
    raise InvalidDocument(f"{where}: expected {getattr(hint, '__name__', hint)}")
