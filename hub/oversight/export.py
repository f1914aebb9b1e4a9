"""Access events as CSV, page by page: a million rows cost one page of memory
(:meth:`hub.oversight.oversight.Oversight.export_pages` reads them under the account's scope).

The pages are the access-event listing's own keyset pages (:func:`hub.events.queries.page_query`,
same filters, same scope), narrowed to the columns a regulator reads and joined to the gate's,
the person's and the enterprise's names. Never exported: ID numbers (access events hold none)
and credential hashes (not even selected).

Times are written in the site's timezone (``2026-05-01T08:00:00+08:00``). A text cell that a
spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``) gets a leading apostrophe, so a
name in the registry cannot run in someone's spreadsheet. The file starts with a UTF-8 byte order
mark: without it, common spreadsheet programs show Chinese names as mojibake.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select

from hub.errors import InvalidQuery
from hub.events.queries import page_query
from hub.events.records import EventFilters
from hub.oversight.queries import latest_enterprise
from hub.store.schema import access_events, enterprises, gates, persons
from wire.clock import SITE_ZONE

MAX_SPAN = timedelta(days=31)
PAGE_ROWS = 1000
BOM = "\ufeff"
HEADER = (
    "time",
    "project_id",
    "device_id",
    "gate",
    "lane",
    "direction",
    "decision",
    "reason",
    "warnings",
    "person_id",
    "person_name",
    "enterprise_name",
    "clock_synced",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def window(filters: EventFilters) -> tuple[datetime, datetime]:
    """An export covers one bounded time range: both ends given, at most :data:`MAX_SPAN` apart."""
    example = "e.g. since=2026-05-01T00:00:00+08:00&until=2026-05-08T00:00:00+08:00"
    since, until = filters.since, filters.until
    if since is None:
        raise InvalidQuery("since", f"is required: an export covers one time range ({example})")
    if until is None:
        raise InvalidQuery("until", f"is required: an export covers one time range ({example})")
    if until - since > MAX_SPAN:
        raise InvalidQuery("until", f"must be at most {MAX_SPAN.days} days after since; export in parts")
    return since, until


def page_statement(
    filters: EventFilters, after: str | None, scope: ColumnElement[bool], page_rows: int = PAGE_ROWS
) -> Select[Any]:
    a, g, per = access_events.c, gates.c, persons.c
    return (
        page_query(access_events, filters, after, page_rows, scope)
        .with_only_columns(
            a.id,
            a.wall_time,
            a.project_id,
            a.device_id,
            g.name.label("gate"),
            a.lane,
            a.direction,
            a.decision,
            a.reason,
            a.warnings,
            a.person_id,
            per.name.label("person_name"),
            latest_enterprise(enterprises.c.name, a.project_id, a.person_id).label("enterprise_name"),
            a.clock_synced,
        )
        .select_from(
            access_events.outerjoin(gates, g.device_id == a.device_id).outerjoin(
                persons, per.id == a.person_id
            )
        )
    )


def neutralise(value: str | None) -> str:
    """A text cell a spreadsheet cannot run: one starting as a formula gets a leading apostrophe
    (also the console's CSV and xlsx downloads, hub.console.site_exports); None is empty."""
    if value is None:
        return ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def to_csv(rows: Sequence[Any], *, header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        buffer.write(BOM)
        writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            (
                row.wall_time.astimezone(SITE_ZONE).isoformat(),
                row.project_id,
                row.device_id,
                neutralise(row.gate),
                row.lane,
                row.direction,
                row.decision,
                row.reason,
                row.warnings,
                row.person_id or "",
                neutralise(row.person_name),
                neutralise(row.enterprise_name),
                "true" if row.clock_synced else "false",
            )
        )
    return buffer.getvalue()
