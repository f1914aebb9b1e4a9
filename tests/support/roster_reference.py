"""Line-at-a-time reference versions of the roster body's fast paths, for the tests only.

:func:`wire.roster.body_bytes`, :func:`wire.roster.chunk_body` and :func:`wire.roster.split_chunk`
work on a whole body or chunk at once, with tricks (one JSON encoding for every row, a cut per
chunk, a join instead of a parse). These say the same thing the plain way, a line at a time, and
the property tests in ``tests/roster/test_wire_roster.py`` hold the two together.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from wire.roster import CHUNK_BYTES, Row, split_chunk

_LINE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def body_lines(rows: Iterable[Row], watchlist: Iterable[str]) -> Iterator[bytes]:
    """The body's lines in canonical order; ``rows`` are sorted here by credential hash."""
    for row in sorted(rows, key=lambda r: r[0] or ""):
        yield (_LINE.encode(row) + "\n").encode()
    for credential_hash in sorted(set(watchlist)):
        yield b'"' + credential_hash.encode("ascii") + b'"\n'


def chunk_lines(lines: Iterable[bytes], limit: int = CHUNK_BYTES) -> list[bytes]:
    """Whole lines packed greedily into pieces of at most ``limit`` bytes."""
    pieces: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for line in lines:
        if len(line) > limit:
            raise ValueError(f"a roster line of {len(line)} bytes exceeds the chunk limit {limit}")
        if size + len(line) > limit:
            pieces.append(b"".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        pieces.append(b"".join(current))
    return pieces


def parse_chunk(data: bytes) -> tuple[list[list[Any]], list[str]]:
    """A chunk's entry rows (unchecked JSON arrays) and watchlisted hashes; ValueError for anything
    that is not whole lines of arrays and strings."""
    entries, listed = split_chunk(data)
    rows = json.loads(entries)
    for value in rows:
        if not isinstance(value, list):
            raise ValueError(f"a roster line is neither an entry nor a hash ({type(value).__name__})")
    return rows, listed
