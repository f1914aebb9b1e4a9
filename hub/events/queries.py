"""Read-side SQL for both event tables: filters, newest-first keyset pages, grouped counts.

Keyset pagination, not OFFSET: a page costs the same however deep the reader is, and events that
arrive meanwhile (ingest never stops) do not shift rows between pages. Access events and lane
events page the same way, with the same cursors, through the same two functions.

Every query takes the scope clause as a required argument: the scoped reads
(:class:`hub.events.event_records.EventRecords`) choose it from the account, the unscoped path
(:class:`hub.events.internal.InternalEventReads`) passes ``true()`` and says so in its name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, exists, func, or_, select
from sqlalchemy.engine import Row

from hub.errors import InvalidQuery
from hub.events.records import (
    NO_FILTERS,
    NO_LANE_FILTERS,
    EventCount,
    EventFilters,
    Item,
    LaneEventFilters,
    StoredEvent,
    StoredLaneEvent,
)
from hub.page import Page
from hub.store import Store
from hub.store.cursor import decode_cursor, encode_cursor
from hub.store.schema import access_events, assignments, lane_events

# Columns a count may be grouped by: low-cardinality facts plus the ids people filter on.
GROUPABLE = ("device_id", "project_id", "decision", "reason", "direction", "lane", "card_kind", "person_id")
DEFAULT_GROUP_BY = ("device_id", "decision", "reason")

Filters = EventFilters | LaneEventFilters


def where_clauses(table: Table, filters: Filters) -> list[ColumnElement[bool]]:
    """Every filter given must hold.

    ``since`` and ``until`` bound ``wall_time``; ``enterprise_id`` means "the person worked on the
    event's project for that enterprise" (an assignment); every other field of a filters class is
    named after the column it must equal, so such a filter needs no code here.
    """
    clauses: list[ColumnElement[bool]] = []
    for f in dataclasses.fields(filters):
        value = getattr(filters, f.name)
        if value is None:
            continue
        if f.name == "since":
            clauses.append(table.c.wall_time >= value)
        elif f.name == "until":
            clauses.append(table.c.wall_time < value)
        elif f.name == "enterprise_id":
            clauses.append(
                exists().where(
                    assignments.c.project_id == table.c.project_id,
                    assignments.c.person_id == table.c.person_id,
                    assignments.c.enterprise_id == value,
                )
            )
        else:
            clauses.append(table.c[f.name] == (value.value if isinstance(value, Enum) else value))
    return clauses


def page_query(
    table: Table, filters: Filters, cursor: str | None, limit: int, scope: ColumnElement[bool]
) -> Select[Any]:
    """One more row than asked for: its presence says whether a next page exists.

    ``scope``: what the asking account may see (hub.auth.scope), ANDed with the filters; the
    unscoped path (hub.events.internal) passes ``true()``, by name.
    """
    if limit < 1:
        raise InvalidQuery("limit", "must be at least 1")
    t = table.c
    clauses = [*where_clauses(table, filters), scope]
    if cursor is not None:
        after_time, after_id = decode_cursor(cursor)
        # The plain bound beside the OR is what lets the index scan start at the cursor; the OR
        # alone makes every page re-read all the rows above it (deep pages grew linearly).
        clauses.append(t.wall_time <= after_time)
        clauses.append(or_(t.wall_time < after_time, and_(t.wall_time == after_time, t.id < after_id)))
    return select(table).where(*clauses).order_by(t.wall_time.desc(), t.id.desc()).limit(limit + 1)


def newer_page_query(
    table: Table, filters: Filters, cursor: str, limit: int, scope: ColumnElement[bool]
) -> Select[Any]:
    """The page before ``cursor`` (a row a newest-first page began with): the rows just newer than
    it, oldest first (the caller turns them round), one more than asked for (more newer ones).

    Paging back towards the present without holding every page seen: a console's "newer" link
    carries the first row of the page it is on, as its "older" link carries the last.
    """
    if limit < 1:
        raise InvalidQuery("limit", "must be at least 1")
    t = table.c
    before_time, before_id = decode_cursor(cursor)
    clauses = [
        *where_clauses(table, filters),
        scope,
        t.wall_time >= before_time,
        or_(t.wall_time > before_time, and_(t.wall_time == before_time, t.id > before_id)),
    ]
    return select(table).where(*clauses).order_by(t.wall_time.asc(), t.id.asc()).limit(limit + 1)


def to_page(rows: Sequence[Row[Any]], limit: int, record: Callable[..., Item]) -> Page[Item]:
    """``record`` is the stored-record class: it takes every column but ``id`` by name, plus ``row_id``."""
    items = [_to_record(row, record) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit and items:
        last = items[-1]
        next_cursor = encode_cursor(last.wall_time, last.row_id)
    return Page(items=items, next_cursor=next_cursor)


def _to_record(row: Row[Any], record: Callable[..., Item]) -> Item:
    values = dict(row._mapping)
    return record(row_id=values.pop("id"), **values)


def count_query(filters: EventFilters, group_by: Sequence[str], scope: ColumnElement[bool]) -> Select[Any]:
    unknown = [name for name in group_by if name not in GROUPABLE]
    if unknown or not group_by or len(set(group_by)) != len(group_by):
        raise InvalidQuery("group_by", f"must be distinct names from {', '.join(GROUPABLE)}")
    columns = [access_events.c[name] for name in group_by]
    return (
        select(*columns, func.count().label("count"))
        .where(*where_clauses(access_events, filters), scope)
        .group_by(*columns)
        .order_by(*columns)
    )


def to_counts(rows: Sequence[Row[Any]], group_by: Sequence[str]) -> list[EventCount]:
    return [
        EventCount(group={name: row._mapping[name] for name in group_by}, count=int(row._mapping["count"]))
        for row in rows
    ]


class EventReads:
    """Listings and counts of both event tables under the scope clauses given at construction:
    the base of the scoped reads (:class:`hub.events.event_records.EventRecords`, clauses chosen
    from the account) and of the unscoped path (:class:`hub.events.internal.InternalEventReads`).
    Every method is one read and returns frozen values."""

    def __init__(
        self, store: Store, access_scope: ColumnElement[bool], lane_scope: ColumnElement[bool]
    ) -> None:
        """``access_scope`` is built on ``access_events``'s columns, ``lane_scope`` on ``lane_events``'s."""
        self._store = store
        self._access_scope = access_scope
        self._lane_scope = lane_scope

    async def access_events(
        self, filters: EventFilters = NO_FILTERS, cursor: str | None = None, limit: int = 100
    ) -> Page[StoredEvent]:
        """Newest first by (wall_time, id); ``next_cursor`` is None on the last page."""
        query = page_query(access_events, filters, cursor, limit, self._access_scope)
        async with self._store.read("query_access_events") as conn:
            rows = (await conn.execute(query)).all()
        return to_page(rows, limit, StoredEvent)

    async def lane_events(
        self, filters: LaneEventFilters = NO_LANE_FILTERS, cursor: str | None = None, limit: int = 100
    ) -> Page[StoredLaneEvent]:
        """Newest first by (wall_time, id), paged like :meth:`access_events`."""
        query = page_query(lane_events, filters, cursor, limit, self._lane_scope)
        async with self._store.read("query_lane_events") as conn:
            rows = (await conn.execute(query)).all()
        return to_page(rows, limit, StoredLaneEvent)

    async def count_access_events(
        self, filters: EventFilters = NO_FILTERS, group_by: Sequence[str] = DEFAULT_GROUP_BY
    ) -> list[EventCount]:
        query = count_query(filters, group_by, self._access_scope)
        async with self._store.read("count_access_events") as conn:
            rows = (await conn.execute(query)).all()
        return to_counts(rows, group_by)
