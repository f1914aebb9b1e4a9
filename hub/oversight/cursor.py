"""Keyset cursors for attendance listings: the (day, project, person) of the last row a page returned.

Versioned (``a1``) like the event cursors of :mod:`hub.store.cursor`; a position, not a
credential (scope is in the query), so it is encoded, not signed.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date

from hub.errors import InvalidCursor

_VERSION = "a1"
_MAX_CURSOR_CHARS = 300

AttendanceKey = tuple[date, str, str]
"""(day, project_id, person_id)"""


def encode(key: AttendanceKey) -> str:
    day, project_id, person_id = key
    body = json.dumps([_VERSION, day.isoformat(), project_id, person_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode(cursor: str) -> AttendanceKey:
    if not cursor or len(cursor) > _MAX_CURSOR_CHARS:
        raise InvalidCursor("is empty or too long to be a cursor this hub issued")
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (isinstance(value, list) and len(value) == 4 and value[0] == _VERSION):
            raise InvalidCursor("is not a cursor of this listing")
        _, day, project_id, person_id = value
        if not all(isinstance(part, str) and part for part in (project_id, person_id)):
            raise InvalidCursor("is not a cursor of this listing")
        return date.fromisoformat(day), project_id, person_id
    except (binascii.Error, ValueError, TypeError) as err:
        if isinstance(err, InvalidCursor):
            raise
        raise InvalidCursor("is not a cursor this hub issued (not decodable)") from err
