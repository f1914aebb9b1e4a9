"""Keyset cursors for attendance listings: the (day, project, person) of the last row a page returned.

The envelope is :mod:`hub.store.cursor`'s (versioned ``a1``); a position, not a credential (scope
is in the query), so it is encoded, not signed.
"""

from __future__ import annotations

from datetime import date

from hub.errors import InvalidCursor
from hub.store.cursor import SUPPORTED_YEARS, pack, unpack

_VERSION = "a1"
_MAX_CURSOR_CHARS = 300
_NOT_OURS = "is not a cursor of this listing"

AttendanceKey = tuple[date, str, str]
"""(day, project_id, person_id)"""


def encode(key: AttendanceKey) -> str:
    day, project_id, person_id = key
    return pack(_VERSION, day.isoformat(), project_id, person_id)


def decode(cursor: str) -> AttendanceKey:
    day, project_id, person_id = unpack(cursor, _VERSION, 3, max_chars=_MAX_CURSOR_CHARS, foreign=_NOT_OURS)
    if not all(isinstance(part, str) and part for part in (project_id, person_id)):
        raise InvalidCursor(_NOT_OURS)
    try:
        parsed = date.fromisoformat(day)
    except (ValueError, TypeError) as err:
        raise InvalidCursor("is not a cursor this hub issued (not decodable)") from err
    if parsed.year not in SUPPORTED_YEARS:
        raise InvalidCursor("is not a cursor this hub issued (day out of range)")
    return parsed, project_id, person_id
