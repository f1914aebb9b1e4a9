"""The lane's one validator of roster rows: the wire's rows (:data:`wire.roster.Row`) in, the
core's index columns out, and back for the roster file.

One reader for every way a roster reaches a lane (a snapshot's chunks, a delta, the roster file),
so an entry the lane would refuse from the hub is also refused from its own disk. A row is
``[hash, person_id, role, entry_date, exit_date]``, plus ``pass_from, pass_until`` for a visitor's
pass, the dates as ISO text.

:func:`columns_of_rows` turns a whole chunk of rows into :class:`~controller.core.roster.Columns`
and checks them column by column: each check is one C-level pass (``zip``, ``str.join``, ``map``,
``bytes.translate``, a regex over all names at once), and dates are parsed once per distinct day.
100,000 rows take ~40 ms where a Python call per row took ~300 ms. A chunk the column checks do
not accept (a wrong type, a bad value) goes through :func:`entry_of_row`, one row at a time, which
says exactly what is wrong; the column checks accept nothing :func:`entry_of_row` would refuse (a
property test holds them together).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from itertools import compress, islice
from typing import Any

from controller.core.roster import EMPTY_COLUMNS, Columns, RosterEntry, Window
from wire.roles import RosterRole

ROWS_PER_ARRAY = 1000
"""Rows per JSON array when the lane encodes rows itself: one ``json`` call holds the GIL ~1 ms."""

_HEX_TEXT = "0123456789abcdef"
_HEX = _HEX_TEXT.encode()
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ROLE_NAMES: dict[Any, str] = {role.value: role.value for role in RosterRole}
_ROLES: dict[Any, RosterRole] = {role.value: role for role in RosterRole}
_DAYS: dict[Any, date | None] = {None: None}
"""ISO day text to its date, for every day met so far (a roster has a few hundred distinct ones)."""
_DAYS_KEPT = 20_000
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _moment(text: Any) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a visitor pass time has no timezone")
    return moment


def _day(text: Any) -> date | None:
    if text is None:
        return None
    if type(text) is str:
        known = _DAYS.get(text)
        if known is not None:
            return known
    return date.fromisoformat(text)  # TypeError for anything but text


def entry_of_row(row: Sequence[Any]) -> tuple[str, RosterEntry]:
    """One row as ``(hash, entry)``; ValueError naming the field that is wrong."""
    if not isinstance(row, list | tuple):
        raise ValueError(f"a roster line is not an entry ({type(row).__name__})")
    size = len(row)
    if size == 5:
        credential_hash, person_id, role, start, end = row
        window: tuple[datetime | None, datetime | None] = (None, None)
    elif size == 7:
        credential_hash, person_id, role, start, end, pass_from, pass_until = row
        try:
            window = (_moment(pass_from), _moment(pass_until))
        except TypeError as err:
            raise ValueError("a pass time is not a string") from err
    else:
        raise ValueError(f"a row has 5 or 7 fields, not {size}")
    if type(credential_hash) is not str or len(credential_hash) != 64 or credential_hash.strip(_HEX_TEXT):
        raise ValueError("credential hash is not 64 hex digits")
    if type(person_id) is not str or not 0 < len(person_id) <= 64 or _CONTROL.search(person_id):
        raise ValueError("person_id is not a label")
    known = _ROLES.get(role) if isinstance(role, str) else None
    if known is None:
        raise ValueError("role is not one this lane knows")
    try:
        entry = RosterEntry(person_id, known, _day(start), _day(end), *window)
    except TypeError as err:
        raise ValueError("a date is not a string") from err
    return credential_hash, entry


def _learn_days(texts: Iterable[Any]) -> bool:
    """Parse the days not met before; False when one is not a day (the row reader says which)."""
    try:
        unknown = set(texts) - _DAYS.keys()
        if len(_DAYS) + len(unknown) > _DAYS_KEPT:
            _DAYS.clear()
            _DAYS[None] = None
        for text in unknown:
            if type(text) is not str:
                return False
            _DAYS[text] = date.fromisoformat(text)
    except (TypeError, ValueError):
        return False
    return True


def _columns(rows: Sequence[Any]) -> Columns | None:
    """Rows checked a column at a time; None when any check fails."""
    try:
        if not set(map(type, rows)) <= {list, tuple}:
            return None
        sizes = list(map(len, rows))
        if not set(sizes) <= {5, 7}:
            return None
        # The first five fields of every row (zip stops at the shortest row; when every row has a
        # pass window it gives seven columns); the windows come after.
        hashes, people, roles, starts, ends = islice(zip(*rows, strict=False), 5)
        joined = "".join(hashes)
        if (
            set(map(len, hashes)) != {64}
            or not joined.isascii()
            or joined.encode("ascii").translate(None, _HEX)
        ):
            return None
        names_text = "".join(people)  # TypeError unless every one is text
        lengths = set(map(len, people))
        if min(lengths) < 1 or max(lengths) > 64 or _CONTROL.search(names_text):
            return None
        names = list(map(_ROLE_NAMES.__getitem__, roles))
        try:
            starting = list(map(_DAYS.__getitem__, starts))
            ending = list(map(_DAYS.__getitem__, ends))
        except KeyError:  # a day not met before: parse it, then look again
            if not _learn_days(starts + ends):
                return None
            starting = list(map(_DAYS.__getitem__, starts))
            ending = list(map(_DAYS.__getitem__, ends))
        windows: dict[str, Window] = {}
        for index in compress(range(len(sizes)), map((5).__ne__, sizes)):
            row = rows[index]
            window = (_moment(row[5]), _moment(row[6]))
            if window != (None, None):
                windows[row[0]] = window
    except (KeyError, TypeError, ValueError):
        return None
    return Columns(hashes, people, names, starting, ending, windows)


def columns_of_rows(rows: Sequence[Any]) -> Columns:
    """A chunk's rows as columns, in the rows' order; ValueError for the first row that is wrong.

    A hash listed twice is the index's to find (:class:`~controller.core.roster.RosterIndex`):
    it sees every chunk's hashes in order anyway.
    """
    if not rows:
        return EMPTY_COLUMNS
    columns = _columns(rows)
    if columns is not None:
        return columns
    return Columns.of_entries([entry_of_row(row) for row in rows])


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def encode_columns(columns: Columns) -> Iterator[bytes]:
    """Entries as JSON arrays of rows, at most :data:`ROWS_PER_ARRAY` each."""
    texts: dict[date | None, str | None] = {None: None}
    for day in {*columns.starts, *columns.ends} - texts.keys():
        texts[day] = _iso(day)
    rows: list[tuple[Any, ...]] = list(
        zip(
            columns.hashes,
            columns.people,
            columns.roles,
            map(texts.__getitem__, columns.starts),
            map(texts.__getitem__, columns.ends),
            strict=True,
        )
    )
    if columns.windows:
        for index, credential_hash in enumerate(columns.hashes):
            window = columns.windows.get(credential_hash)
            if window is not None:
                rows[index] = (*rows[index], *map(_iso, window))
    for start in range(0, len(rows), ROWS_PER_ARRAY):
        yield _ENCODER.encode(rows[start : start + ROWS_PER_ARRAY]).encode()
