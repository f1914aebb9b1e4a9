"""Opaque pagination cursors: the position after the last row a page returned.

A cursor encodes that row's ``(wall_time, id)``. Newest-first pages continue strictly below it,
so rows with equal wall times are neither skipped nor repeated. The encoding is versioned
(``v1``) so a later format can still read, or cleanly refuse, cursors already handed out.
A cursor is a position, not a credential: a client that edits one only moves where it reads.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from hub.errors import InvalidCursor

_VERSION = "v1"
_MAX_CURSOR_CHARS = 200
_MAX_ID = 2**63 - 1


def encode_cursor(wall_time: datetime, row_id: int) -> str:
    if wall_time.tzinfo is None:
        raise ValueError("cursor times must be timezone-aware")
    body = json.dumps([_VERSION, wall_time.astimezone(UTC).isoformat(), row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The ``(wall_time, id)`` a cursor stands for, or :class:`InvalidCursor` saying why not."""
    if not cursor or len(cursor) > _MAX_CURSOR_CHARS:
        raise InvalidCursor("is empty or too long to be a cursor this hub issued")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError) as err:
        raise InvalidCursor("is not a cursor this hub issued (not decodable)") from err
    if not (isinstance(value, list) and len(value) == 3 and value[0] == _VERSION):
        raise InvalidCursor("is not a cursor this hub issued (unknown format)")
    _, time_text, row_id = value
    if not isinstance(time_text, str) or type(row_id) is not int or not 0 < row_id <= _MAX_ID:
        raise InvalidCursor("is not a cursor this hub issued (bad position)")
    try:
        wall_time = datetime.fromisoformat(time_text)
    except ValueError as err:
        raise InvalidCursor("is not a cursor this hub issued (bad time)") from err
    if wall_time.tzinfo is None:
        raise InvalidCursor("is not a cursor this hub issued (time without timezone)")
    return wall_time, row_id
