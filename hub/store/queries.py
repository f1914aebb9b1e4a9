"""Read-side SQL for access events: filters, newest-first keyset pages, grouped counts.

Keyset pagination, not OFFSET: a page costs the same however deep the reader is, and events that
arrive meanwhile (ingest never stops) do not shift rows between pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.engine import Row

from hub.errors import InvalidQuery
from hub.store.cursor import decode_cursor, encode_cursor
from hub.store.records import EventCount, EventFilters, Page, StoredEvent
from hub.store.schema import access_events

# Columns a count may be grouped by: low-cardinality facts plus the ids people filter on.
GROUPABLE = ("device_id", "project_id", "decision", "reason", "direction", "lane", "card_kind", "person_id")
DEFAULT_GROUP_BY = ("device_id", "decision", "reason")

_EVENT_COLUMNS = [c for c in access_events.c if c.name != "id"]


def where_clauses(filters: EventFilters) -> list[ColumnElement[bool]]:
    t = access_events.c
    clauses: list[ColumnElement[bool]] = []
    for name in ("project_id", "device_id", "person_id"):
        value = getattr(filters, name)
        if value is not None:
            clauses.append(t[name] == value)
    if filters.decision is not None:
        clauses.append(t.decision == filters.decision.value)
    if filters.reason is not None:
        clauses.append(t.reason == filters.reason.value)
    if filters.since is not None:
        clauses.append(t.wall_time >= filters.since)
    if filters.until is not None:
        clauses.append(t.wall_time < filters.until)
    return clauses


def page_query(filters: EventFilters, cursor: str | None, limit: int) -> Select[Any]:
    """One more row than asked for: its presence says whether a next page exists."""
    if limit < 1:
        raise InvalidQuery("limit", "must be at least 1")
    t = access_events.c
    clauses = where_clauses(filters)
    if cursor is not None:
        after_time, after_id = decode_cursor(cursor)
        clauses.append(or_(t.wall_time < after_time, and_(t.wall_time == after_time, t.id < after_id)))
    return (
        select(t.id, *_EVENT_COLUMNS)
        .where(*clauses)
        .order_by(t.wall_time.desc(), t.id.desc())
        .limit(limit + 1)
    )


def to_page(rows: Sequence[Row[Any]], limit: int) -> Page:
    items = [_to_event(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit and items:
        last = items[-1]
        next_cursor = encode_cursor(last.wall_time, last.row_id)
    return Page(items=items, next_cursor=next_cursor)


def _to_event(row: Row[Any]) -> StoredEvent:
    m = row._mapping
    return StoredEvent(row_id=m["id"], **{c.name: m[c.name] for c in _EVENT_COLUMNS})


def count_query(filters: EventFilters, group_by: Sequence[str]) -> Select[Any]:
    unknown = [name for name in group_by if name not in GROUPABLE]
    if unknown or not group_by or len(set(group_by)) != len(group_by):
        raise InvalidQuery("group_by", f"must be distinct names from {', '.join(GROUPABLE)}")
    columns = [access_events.c[name] for name in group_by]
    return (
        select(*columns, func.count().label("count"))
        .where(*where_clauses(filters))
        .group_by(*columns)
        .order_by(*columns)
    )


def to_counts(rows: Sequence[Row[Any]], group_by: Sequence[str]) -> list[EventCount]:
    return [
        EventCount(group={name: row._mapping[name] for name in group_by}, count=int(row._mapping["count"]))
        for row in rows
    ]
