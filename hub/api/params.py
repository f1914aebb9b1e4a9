"""Query-string parsing: each endpoint states the parameters it takes, and anything else is a 400.

Rejecting unknown parameters catches typos (``?projectid=``) that would otherwise return every
project's events as if the filter had matched.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from multidict import MultiMapping

from hub.api.errors import ApiError
from hub.errors import InvalidQuery
from hub.store import EventFilters, LaneEventFilters
from wire.models import Decision, Direction, LaneEventType, Reason

EVENT_FILTERS = (
    "project_id",
    "device_id",
    "person_id",
    "enterprise_id",
    "direction",
    "decision",
    "reason",
    "since",
    "until",
)
LANE_EVENT_FILTERS = ("project_id", "device_id", "type", "alert", "since", "until")
PAGING = ("limit", "cursor")
MAX_TEXT = 200
EXAMPLE_TIME = "2026-05-01T08:00:00+08:00"

E = TypeVar("E", bound=StrEnum)


class Params:
    """The query of one request, checked against the parameters its endpoint accepts."""

    def __init__(self, query: MultiMapping[str], allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        unknown = sorted(set(query) - set(allowed))
        if unknown:
            names = ", ".join(repr(name) for name in unknown)
            accepted = ", ".join(allowed) or "none"
            message = f"unknown query parameter {names} (accepted: {accepted})"
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
        return value

    def integer(self, name: str, *, default: int, low: int, high: int) -> int:
        value = self._query.get(name)
        if value is None:
            return default
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
