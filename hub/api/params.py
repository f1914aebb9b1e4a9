"""Query and path parameters: declared once on a route's row, parsed and documented from that.

A row of the route table (:mod:`hub.api.routes`) lists the :class:`Param` its endpoint takes; the
OpenAPI document describes them from there, and a handler reads its query with
:func:`params_of`, which accepts exactly those names (anything else is a 400) and takes an
integer's bounds and default from the same declaration.

Rejecting unknown parameters catches typos (``?projectid=``) that would otherwise return every
project's events as if the filter had matched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, TypeVar

from aiohttp import web
from multidict import MultiDict, MultiMapping

from hub.api.error_responses import ApiError
from hub.errors import InvalidQuery
from hub.events.records import EventFilters, LaneEventFilters
from hub.store.cursor import SUPPORTED_YEARS, in_supported_years
from wire.models import DEVICE_ID_PATTERN, PROJECT_ID_PATTERN, Decision, Direction, LaneEventType, Reason

MAX_TEXT = 200
_DATED_FORMATS = frozenset({"date", "date-time"})
_MONTH_PATTERN = r"^\d{4}-\d{2}$"
EXAMPLE_TIME = "2026-05-01T08:00:00+08:00"

E = TypeVar("E", bound=StrEnum)


def ascii_digits(text: str) -> bool:
    """Only 0-9. ``str.isdigit`` also says yes to "³" and "٣", which ``int`` then refuses with a
    ValueError (the API fuzzer's ``month=³`` was a 500)."""
    return text.isascii() and text.isdigit()


def row_id(text: str) -> int | None:
    """A row's id as a URL or a form spelled it, or None: ASCII digits within the database's BIGINT
    (a larger one would reach the database and fail there)."""
    if not ascii_digits(text):
        return None
    number = int(text)
    return number if 0 < number < 2**63 else None


@dataclass(frozen=True, slots=True)
class Param:
    """One query or path parameter: its JSON schema (what the document shows and, for integers,
    the bounds the parser enforces) and, for an integer, the value when it is absent."""

    name: str
    schema: Mapping[str, Any]
    description: str = ""
    required: bool = False
    where: str = "query"
    default: int | None = None


def text(name: str, description: str = "", *, pattern: str | None = None, required: bool = False) -> Param:
    schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}
    if pattern:
        schema["pattern"] = pattern
    return Param(name, schema, description, required)


def integer(name: str, low: int, high: int, description: str = "", *, default: int | None = None) -> Param:
    return Param(name, {"type": "integer", "minimum": low, "maximum": high}, description, default=default)


def choice(name: str, values: Iterable[Any], description: str = "") -> Param:
    return Param(name, {"type": "string", "enum": [getattr(v, "value", v) for v in values]}, description)


def timestamp(name: str, description: str = "") -> Param:
    return Param(name, {"type": "string", "format": "date-time"}, description)


def day(name: str, description: str = "", *, required: bool = False) -> Param:
    return Param(name, {"type": "string", "format": "date"}, description, required)


def month(name: str, description: str = "") -> Param:
    return Param(name, {"type": "string", "pattern": _MONTH_PATTERN}, description)


def boolean(name: str, description: str = "") -> Param:
    return Param(name, {"type": "string", "enum": ["true", "false"]}, description)


def path(name: str, description: str = "", *, pattern: str | None = None) -> Param:
    schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 64}
    if pattern:
        schema["pattern"] = pattern
    return Param(name, schema, description, required=True, where="path")


def path_id(name: str) -> Param:
    """A path segment that is a database id (an order, an assignment)."""
    return Param(name, {"type": "integer", "minimum": 1}, required=True, where="path")


# -- declarations shared by several rows ------------------------------------------------------------

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 500
PAGING: Final = (
    integer("limit", 1, MAX_LIMIT, "rows per page (default 100)", default=DEFAULT_LIMIT),
    text("cursor", "next_cursor of the previous page"),
)
WINDOW: Final = (
    timestamp("since", "wall_time at or after (ISO 8601 with a timezone)"),
    timestamp("until", "wall_time before"),
)
EVENT_FILTERS: Final = (
    text("project_id"),
    text("device_id", "the gate's controller"),
    text("person_id"),
    text("enterprise_id", "the person worked on the event's project for this enterprise"),
    choice("direction", Direction),
    choice("decision", Decision),
    choice("reason", Reason),
    *WINDOW,
)
LANE_EVENT_FILTERS: Final = (
    text("project_id"),
    text("device_id"),
    choice("type", LaneEventType),
    boolean("alert"),
    *WINDOW,
)
DEVICE: Final = path("device_id", "a controller's id", pattern=DEVICE_ID_PATTERN)
PROJECT: Final = path(
    "project_id", "the project's id (as lanes and rosters carry it)", pattern=PROJECT_ID_PATTERN
)
PERSON: Final = path("person_id", "a registered person's id (never an ID number)")
ENTERPRISE: Final = path("enterprise_id")
ASSIGNMENT: Final = path_id("assignment_id")
ORDER: Final = path_id("order_id")

ACCEPTED: Final = web.RequestKey("accepted_query", dict)
"""The query parameters of the route a request matched, by name (set by the route table's guard)."""


def params_of(request: web.Request) -> Params:
    """The request's query, checked against the parameters its route's row declares."""
    return Params(request.query, request.get(ACCEPTED, {}))


def form_params_of(request: web.Request) -> Params:
    """A console form's query, checked like :func:`params_of`; an empty field is "any" (a browser
    sends every field of a GET form, filled or not)."""
    given = MultiDict((name, value) for name, value in request.query.items() if value)
    return Params(given, request.get(ACCEPTED, {}))


def by_name(params: Iterable[Param]) -> dict[str, Param]:
    """The query parameters among ``params``, by name, in their order (made once per route)."""
    return {p.name: p for p in params if p.where == "query"}


class Params:
    """The query of one request, checked against the parameters its endpoint accepts."""

    def __init__(self, query: MultiMapping[str], accepted: Mapping[str, Param]) -> None:
        """``accepted``: the route's declared query parameters by name (:func:`by_name`)."""
        self._declared = accepted
        unknown = sorted(set(query) - set(self._declared))
        if unknown:
            names = ", ".join(repr(name) for name in unknown)
            listed = ", ".join(self._declared) or "none"
            message = f"unknown query parameter {names} (accepted: {listed})"
            raise ApiError(400, "unknown_parameter", message)
        for name in query:
            if len(query.getall(name)) > 1:
                raise InvalidQuery(name, "is given more than once")
        self._query = query

    def text(self, name: str) -> str | None:
        value = self._query.get(name)
        if value is None:
            return None
        if not value or len(value) > MAX_TEXT:
            raise InvalidQuery(name, f"must be 1 to {MAX_TEXT} characters")
        if self._is_dated(name) and ascii_digits(value[:4]) and int(value[:4]) not in SUPPORTED_YEARS:
            raise InvalidQuery(name, self._year_range())
        return value

    def _is_dated(self, name: str) -> bool:
        """A date, a date-time or a month: its year is checked before anything computes with it."""
        schema = self._declared[name].schema if name in self._declared else {}
        return schema.get("format") in _DATED_FORMATS or schema.get("pattern") == _MONTH_PATTERN

    @staticmethod
    def _year_range() -> str:
        return f"must fall in the years {SUPPORTED_YEARS.start} to {SUPPORTED_YEARS.stop - 1}"

    def integer(self, name: str) -> int:
        """The declared integer, or its declared default when absent."""
        default = self._declared[name].default
        if default is None:
            raise TypeError(f"the integer {name!r} has no default: read it with maybe_integer")
        found = self.maybe_integer(name)
        return default if found is None else found

    def maybe_integer(self, name: str) -> int | None:
        """The declared integer within its declared bounds, or None when absent."""
        schema = self._declared[name].schema
        low, high = schema["minimum"], schema["maximum"]
        value = self._query.get(name)
        if value is None:
            return None
        if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
            raise InvalidQuery(name, f"must be an integer from {low} to {high}")
        return int(value)

    def choice(self, name: str, kind: type[E]) -> E | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return kind(value)
        except ValueError:
            raise InvalidQuery(name, f"must be one of {', '.join(m.value for m in kind)}") from None

    def boolean(self, name: str) -> bool | None:
        """``true`` or ``false``, spelled out: ``?alert=0`` or ``?alert=no`` is a 400, not a guess."""
        value = self.text(name)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise InvalidQuery(name, "must be true or false")
        return value == "true"

    def time(self, name: str) -> datetime | None:
        """ISO 8601 with a timezone. A literal ``+`` in a query reads as a space; put it back."""
        value = self.text(name)
        if value is None:
            return None
        candidate = value.replace(" ", "+") if "T" in value else value
        try:
            parsed = datetime.fromisoformat(candidate)
        except ValueError:
            raise InvalidQuery(name, f"must be an ISO 8601 date-time, e.g. {EXAMPLE_TIME}") from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise InvalidQuery(name, "must include a timezone (Z or an offset such as +08:00)")
        if not in_supported_years(parsed):
            raise InvalidQuery(name, self._year_range())
        return parsed

    def window(self) -> tuple[datetime | None, datetime | None]:
        """``since`` and ``until``, which every event listing takes and checks the same way."""
        since, until = self.time("since"), self.time("until")
        if since and until and since >= until:
            raise InvalidQuery("until", "must be later than since")
        return since, until

    def event_filters(self) -> EventFilters:
        since, until = self.window()
        return EventFilters(
            project_id=self.text("project_id"),
            device_id=self.text("device_id"),
            person_id=self.text("person_id"),
            enterprise_id=self.text("enterprise_id"),
            direction=self.choice("direction", Direction),
            decision=self.choice("decision", Decision),
            reason=self.choice("reason", Reason),
            since=since,
            until=until,
        )

    def lane_event_filters(self) -> LaneEventFilters:
        since, until = self.window()
        return LaneEventFilters(
            project_id=self.text("project_id"),
            device_id=self.text("device_id"),
            type=self.choice("type", LaneEventType),
            alert=self.boolean("alert"),
            since=since,
            until=until,
        )
