"""Keyset cursors for the registry's long listings (people, assignments): the key of the last
row a page returned, so the next page starts strictly after it whatever was inserted meanwhile.

Versioned like :mod:`hub.store.cursor`; a cursor is a position, not a credential (scope is in
the query), so it is encoded, not signed.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Final

from hub.errors import InvalidCursor

_VERSION: Final = "r1"
_MAX_CURSOR_CHARS: Final = 200
_MAX_ID: Final = 2**63 - 1


def encode_key(key: str | int) -> str:
    body = json.dumps([_VERSION, key], separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_key(cursor: str, kind: type[str] | type[int]) -> str | int:
    """The last key of the previous page, or :class:`InvalidCursor` saying why not."""
    if not cursor or len(cursor) > _MAX_CURSOR_CHARS:
        raise InvalidCursor("is empty or too long to be a cursor this hub issued")
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as err:
        raise InvalidCursor("is not a cursor this hub issued (not decodable)") from err
    if not (isinstance(value, list) and len(value) == 2 and value[0] == _VERSION):
        raise InvalidCursor("is not a cursor this hub issued (unknown format)")
    key = value[1]
    if type(key) is not kind or (isinstance(key, int) and not 0 < key <= _MAX_ID) or key == "":
        raise InvalidCursor("is not a cursor of this listing")
    return key
