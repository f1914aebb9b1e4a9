"""Read-side SQL for both event tables: filters, newest-first keyset pages, grouped counts.

Keyset pagination, not OFFSET: a page costs the same however deep the reader is, and events that
arrive meanwhile (ingest never stops) do not shift rows between pages. Access events and lane
events page the same way, with the same cursors, through the same two functions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, exists, func, or_, select
from sqlalchemy.engine import Row

from hub.errors import InvalidQuery
from hub.store.cursor import decode_cursor, encode_cursor
from hub.store.records import EventCount, EventFilters, Item, LaneEventFilters, Page
from hub.store.schema import access_events, assignments

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
    table: Table, filters: Filters, cursor: str | None, limit: int, scope: ColumnElement[bool] | None = None
) -> Select[Any]:
    """One more row than asked for: its presence says whether a next page exists.

    ``scope``: what the asking account may see (hub.auth.scope), ANDed with the filters.
    """
    if limit < 1:
        raise InvalidQuery("limit", "must be at least 1")
    t = table.c
    clauses = where_clauses(table, filters)
    if scope is not None:
        clauses.append(scope)
    if cursor is not None:
        after_time, after_id = decode_cursor(cursor)
        # The plain bound beside the OR is what lets the index scan start at the cursor; the OR
        # alone makes every page re-read all the rows above it (deep pages grew linearly).
        clauses.append(t.wall_time <= after_time)
        clauses.append(or_(t.wall_time < after_time, and_(t.wall_time == after_time, t.id < after_id)))
    return select(table).where(*clauses).order_by(t.wall_time.desc(), t.id.desc()).limit(limit + 1)


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


def count_query(
    filters: EventFilters, group_by: Sequence[str], scope: ColumnElement[bool] | None = None
) -> Select[Any]:
    unknown = [name for name in group_by if name not in GROUPABLE]
    if unknown or not group_by or len(set(group_by)) != len(group_by):
        raise InvalidQuery("group_by", f"must be distinct names from {', '.join(GROUPABLE)}")
    columns = [access_events.c[name] for name in group_by]
    return (
        select(*columns, func.count().label("count"))
        .where(*where_clauses(access_events, filters), *([scope] if scope is not None else []))
        .group_by(*columns)
        .order_by(*columns)
    )


def to_counts(rows: Sequence[Row[Any]], group_by: Sequence[str]) -> list[EventCount]:
    return [
        EventCount(group={name: row._mapping[name] for name in group_by}, count=int(row._mapping["count"]))
        for row in rows
    ]
