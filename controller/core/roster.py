"""The roster as the core sees it: an immutable index from credential hash to a person's pass.

The storage adapter builds a :class:`Roster` once per version and swaps it whole, so a decision
never sees half of one roster and half of the next. The watchlist travels with it: a set of
credential hashes the hub has flagged, checked before anything else.

One entry type: :class:`RosterEntry`, a decoded entry as the decision reads it (the wire's entry,
:class:`wire.roster.RosterItem`, is the hub's; :mod:`controller.roster_rows` checks the wire's rows
and turns them into this). Roles are the wire's :class:`~wire.roles.RosterRole`, by that one name.

:class:`RosterIndex` is the lane's compact in-memory index, not another form of an entry: it keeps
the entries as parallel :class:`Columns` in credential-hash order (what a chunk of the hub's rows
becomes) and makes an entry's :class:`RosterEntry` the first time it is looked up, then keeps that
one. A lane looks up the few thousand people who swipe in a day, while a new version brings all
100,000, and 100,000 frozen dataclasses (or tuples, or dictionary slots) cost more than the rest of
receiving a roster together (``bench/decision.py`` measures boot and lookups with it).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import compress, islice, pairwise
from operator import lt

from controller.core.policy import Policy
from wire.roles import RosterRole


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One person's assignment to this lane's project (进场 ``entry_date`` to 退场 ``exit_date``).

    A visitor's temporary pass has its own window (``pass_from`` to ``pass_until``, aware
    datetimes) instead of the role's working hours.
    """

    person_id: str
    role: RosterRole
    entry_date: date | None = None
    exit_date: date | None = None
    pass_from: datetime | None = None
    pass_until: datetime | None = None


Window = tuple[datetime | None, datetime | None]

ROLE_OF: Mapping[str, RosterRole] = {role.value: role for role in RosterRole}
"""A role by its value: ``RosterRole(text)`` goes through ``EnumMeta.__call__``, 2 us a call."""


@dataclass(frozen=True, slots=True)
class Columns:
    """The index's storage: entries as parallel columns, row ``i`` being ``hashes[i]``'s (what a
    chunk of rows becomes; not a form an entry travels in).

    ``roles`` holds each role's value (a plain string); ``windows`` only the entries that have a
    pass window. Checking the values is the maker's business (:mod:`controller.roster_rows`).
    """

    hashes: Sequence[str]
    people: Sequence[str]
    roles: Sequence[str]
    starts: Sequence[date | None]
    ends: Sequence[date | None]
    windows: Mapping[str, Window] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.hashes)

    @classmethod
    def of_entries(cls, items: Iterable[tuple[str, RosterEntry]]) -> Columns:
        """Columns of ``(credential hash, entry)`` pairs, in their order."""
        hashes: list[str] = []
        people: list[str] = []
        roles: list[str] = []
        starts: list[date | None] = []
        ends: list[date | None] = []
        windows: dict[str, Window] = {}
        for credential_hash, entry in items:
            hashes.append(credential_hash)
            people.append(entry.person_id)
            roles.append(entry.role.value)
            starts.append(entry.entry_date)
            ends.append(entry.exit_date)
            if entry.pass_from is not None or entry.pass_until is not None:
                windows[credential_hash] = (entry.pass_from, entry.pass_until)
        return cls(hashes, people, roles, starts, ends, windows) if hashes else EMPTY_COLUMNS

    def without(self, dropped: Set[str]) -> Columns:
        """These columns less the rows of the hashes in ``dropped`` (a delta's removals and the
        entries it replaces); one pass per column."""
        if not dropped:
            return self
        keep = [credential_hash not in dropped for credential_hash in self.hashes]
        return Columns(
            list(compress(self.hashes, keep)),
            list(compress(self.people, keep)),
            list(compress(self.roles, keep)),
            list(compress(self.starts, keep)),
            list(compress(self.ends, keep)),
            {h: window for h, window in self.windows.items() if h not in dropped},
        )


EMPTY_COLUMNS = Columns((), (), (), (), ())


class ColumnsJoiner:
    """Columns of consecutive parts appended as they come, in any order: a part is appended as
    soon as every part before it has been, so the work is done while later parts are on the way."""

    def __init__(self, parts: int) -> None:
        self.parts = parts
        self._next = 0
        self._waiting: dict[int, Columns] = {}
        self._columns: tuple[list[str], list[str], list[str], list[date | None], list[date | None]] = (
            [],
            [],
            [],
            [],
            [],
        )
        self._windows: dict[str, Window] = {}

    def add(self, index: int, part: Columns) -> None:
        self._waiting[index] = part
        while self._next in self._waiting:
            ready = self._waiting.pop(self._next)
            hashes, people, roles, starts, ends = self._columns
            hashes.extend(ready.hashes)
            people.extend(ready.people)
            roles.extend(ready.roles)
            starts.extend(ready.starts)
            ends.extend(ready.ends)
            self._windows.update(ready.windows)
            self._next += 1

    def __len__(self) -> int:
        return len(self._columns[0]) + sum(map(len, self._waiting.values()))

    def joined(self) -> Columns:
        if self._next != self.parts:
            missing = self.parts - self._next - len(self._waiting)
            raise ValueError(f"{missing} of {self.parts} parts missing")
        return Columns(*self._columns, self._windows)


def _ascending(hashes: Sequence[str]) -> bool:
    """Strictly: no hash twice. One C-level pass (``map`` over ``operator.lt``)."""
    return all(map(lt, hashes, islice(hashes, 1, None)))


class RosterIndex(Mapping[str, RosterEntry]):
    """Credential hash to entry, as columns in hash order, looked up by bisection (~1 us).

    No object per entry: the columns are what a chunk of rows gives anyway, so a roster of
    100,000 people is made without 100,000 tuples or dictionary slots, and holds ~200 bytes a
    person. A :class:`RosterEntry` is made the first time its hash is looked up, then kept (the
    same entry for the same hash every time): a cache, not state anyone can see change.
    """

    __slots__ = ("_ends", "_hashes", "_made", "_people", "_roles", "_starts", "_windows")

    def __init__(self, columns: Columns) -> None:
        """ValueError when a hash is listed twice; columns out of hash order are sorted."""
        if not _ascending(columns.hashes):
            columns = _sorted(columns)
        self._hashes = columns.hashes
        self._people = columns.people
        self._roles = columns.roles
        self._starts = columns.starts
        self._ends = columns.ends
        self._windows = columns.windows
        self._made: dict[str, RosterEntry] = {}

    @property
    def columns(self) -> Columns:
        return Columns(self._hashes, self._people, self._roles, self._starts, self._ends, self._windows)

    def _position(self, credential_hash: str) -> int:
        hashes = self._hashes
        at = bisect_left(hashes, credential_hash)
        return at if at < len(hashes) and hashes[at] == credential_hash else -1

    def get(self, credential_hash: str, default: RosterEntry | None = None) -> RosterEntry | None:  # type: ignore[override]
        entry = self._made.get(credential_hash)
        if entry is not None:
            return entry
        at = self._position(credential_hash)
        if at < 0:
            return default
        entry = RosterEntry(
            self._people[at],
            ROLE_OF[self._roles[at]],
            self._starts[at],
            self._ends[at],
            *self._windows.get(credential_hash, ()),
        )
        self._made[credential_hash] = entry
        return entry

    def __getitem__(self, credential_hash: str) -> RosterEntry:
        entry = self.get(credential_hash)
        if entry is None:
            raise KeyError(credential_hash)
        return entry

    def __contains__(self, credential_hash: object) -> bool:
        return isinstance(credential_hash, str) and self._position(credential_hash) >= 0

    def __iter__(self) -> Iterator[str]:
        return iter(self._hashes)

    def __len__(self) -> int:
        return len(self._hashes)

    def __repr__(self) -> str:
        return f"RosterIndex({len(self._hashes)} entries)"


def _sorted(columns: Columns) -> Columns:
    hashes = columns.hashes
    order = sorted(range(len(hashes)), key=hashes.__getitem__)
    arranged = [hashes[i] for i in order]
    if not _ascending(arranged):
        twice = next(a for a, b in pairwise(arranged) if a == b)
        raise ValueError(f"credential hash {twice[:12]}… is listed twice")
    return Columns(
        arranged,
        [columns.people[i] for i in order],
        [columns.roles[i] for i in order],
        [columns.starts[i] for i in order],
        [columns.ends[i] for i in order],
        columns.windows,
    )


@dataclass(frozen=True, slots=True)
class Roster:
    version: int
    project_id: str
    entries: RosterIndex = field(default_factory=lambda: RosterIndex(EMPTY_COLUMNS))
    watchlist: frozenset[str] = frozenset()
    policy: Policy | None = None
    """The project's site rules signed with this version; None: none came with it (the lane's
    configured bootstrap policy applies). On the roster, so one swap changes both."""

    @classmethod
    def build(
        cls,
        version: int,
        project_id: str,
        items: Iterable[tuple[str, RosterEntry]],
        watchlist: Iterable[str] = (),
    ) -> Roster:
        return cls.of_columns(version, project_id, Columns.of_entries(items), watchlist)

    @classmethod
    def of_columns(
        cls, version: int, project_id: str, columns: Columns, watchlist: Iterable[str] = ()
    ) -> Roster:
        """ValueError (naming the version) when a hash is listed twice."""
        try:
            index = RosterIndex(columns)
        except ValueError as err:
            raise ValueError(f"roster v{version}: {err}") from err
        return cls(version, project_id, index, frozenset(watchlist))

    def lookup(self, credential_hash: str) -> RosterEntry | None:
        return self.entries.get(credential_hash)

    def watchlisted(self, credential_hash: str) -> bool:
        return credential_hash in self.watchlist

    def __len__(self) -> int:
        return len(self.entries)


EMPTY_ROSTER = Roster(0, "")
