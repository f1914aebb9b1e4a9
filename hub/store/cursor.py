"""Opaque pagination cursors: the position after the last row a page returned.

Every listing's cursor is one envelope, base64url of a JSON list ``[version, *key parts]``, so a
later format can still read, or cleanly refuse, cursors already handed out. :func:`pack` and
:func:`unpack` are that envelope; each listing names its version and the parts of its key (the
event listings here; the registry's and the attendance listings in their own packages).
A cursor is a position, not a credential: a client that edits one only moves where it reads.

The event listings' cursor is ``(wall_time, id)`` of the last row. Newest-first pages continue
strictly below it, so rows with equal wall times are neither skipped nor repeated.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from hub.errors import InvalidCursor

_VERSION = "v1"
MAX_CURSOR_CHARS = 200
MAX_ROW_ID = 2**63 - 1
UNKNOWN_FORMAT = "is not a cursor this hub issued (unknown format)"
SUPPORTED_YEARS = range(1970, 3000)
"""The years a time the hub is asked about may fall in (UTC and as given): far enough either way for
any real question, near enough that no offset or month arithmetic overflows Python's dates or a
database's timestamps (year 9999 with an offset of -23:59 did, as a 500)."""


def in_supported_years(value: datetime) -> bool:
    return value.year in SUPPORTED_YEARS and value.astimezone(UTC).year in SUPPORTED_YEARS


def pack(version: str, *parts: object) -> str:
    body = json.dumps([version, *parts], separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def unpack(
    cursor: str, version: str, parts: int, *, max_chars: int = MAX_CURSOR_CHARS, foreign: str = UNKNOWN_FORMAT
) -> list[Any]:
    """The ``parts`` key parts of a cursor of ``version``, or :class:`InvalidCursor` saying why not
    (``foreign`` when it decodes but is not this listing's)."""
    if not cursor or len(cursor) > max_chars:
        raise InvalidCursor("is empty or too long to be a cursor this hub issued")
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as err:
        raise InvalidCursor("is not a cursor this hub issued (not decodable)") from err
    if not (isinstance(value, list) and len(value) == parts + 1 and value[0] == version):
        raise InvalidCursor(foreign)
    return value[1:]


def encode_cursor(wall_time: datetime, row_id: int) -> str:
    if wall_time.tzinfo is None:
        raise ValueError("cursor times must be timezone-aware")
    return pack(_VERSION, wall_time.astimezone(UTC).isoformat(), row_id)


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The ``(wall_time, id)`` a cursor stands for, or :class:`InvalidCursor` saying why not."""
    time_text, row_id = unpack(cursor, _VERSION, 2)
    if not isinstance(time_text, str) or type(row_id) is not int or not 0 < row_id <= MAX_ROW_ID:
        raise InvalidCursor("is not a cursor this hub issued (bad position)")
    try:
        wall_time = datetime.fromisoformat(time_text)
    except ValueError as err:
        raise InvalidCursor("is not a cursor this hub issued (bad time)") from err
    if wall_time.tzinfo is None:
        raise InvalidCursor("is not a cursor this hub issued (time without timezone)")
    if not in_supported_years(wall_time):
        raise InvalidCursor("is not a cursor this hub issued (time out of range)")
    return wall_time, row_id
