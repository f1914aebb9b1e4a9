"""The vocabulary of the operations table: a query or path parameter, an operation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    schema: Mapping[str, Any]
    description: str = ""
    required: bool = False
    where: str = "query"


def text(name: str, description: str = "", *, pattern: str | None = None, required: bool = False) -> Param:
    schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 200}
    if pattern:
        schema["pattern"] = pattern
    return Param(name, schema, description, required)


def integer(name: str, low: int, high: int, description: str = "") -> Param:
    return Param(name, {"type": "integer", "minimum": low, "maximum": high}, description)


def choice(name: str, values: Any, description: str = "") -> Param:
    return Param(name, {"type": "string", "enum": [getattr(v, "value", v) for v in values]}, description)


def timestamp(name: str, description: str = "") -> Param:
    return Param(name, {"type": "string", "format": "date-time"}, description)


def day(name: str, description: str = "", *, required: bool = False) -> Param:
    return Param(name, {"type": "string", "format": "date"}, description, required)


def boolean(name: str, description: str = "") -> Param:
    return Param(name, {"type": "string", "enum": ["true", "false"]}, description)


def path(name: str, description: str = "", *, pattern: str | None = None) -> Param:
    schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 64}
    if pattern:
        schema["pattern"] = pattern
    return Param(name, schema, description, required=True, where="path")


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    params: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None
    ok: int = 200
    """The success status (201 for a creation, 202 for accepted-but-pending...)."""
    public: bool = False
    """Needs no token (login, the document itself, the health check)."""
    media_type: str = "application/json"
    description: str = ""
    extra_ok: tuple[int, ...] = field(default_factory=tuple)
