"""Keyset cursors for the registry's long listings (people, assignments): the key of the last
row a page returned, so the next page starts strictly after it whatever was inserted meanwhile.

The envelope is :mod:`hub.store.cursor`'s (versioned ``r1``); a cursor is a position, not a
credential (scope is in the query), so it is encoded, not signed.
"""

from __future__ import annotations

from typing import Final

from hub.errors import InvalidCursor
from hub.store.cursor import MAX_ROW_ID, pack, unpack

_VERSION: Final = "r1"


def encode_key(key: str | int) -> str:
    return pack(_VERSION, key)


def decode_key(cursor: str, kind: type[str] | type[int]) -> str | int:
    """The last key of the previous page, or :class:`InvalidCursor` saying why not."""
    (key,) = unpack(cursor, _VERSION, 1)
    if type(key) is not kind or (isinstance(key, int) and not 0 < key <= MAX_ROW_ID) or key == "":
        raise InvalidCursor("is not a cursor of this listing")
    return key
