"""Who is inside, as far as this lane knows, and how far that knowledge can be trusted.

Anti-passback is per site (invariant 10), decided at each lane from its own memory, so a gate never
waits on the network. The memory (:class:`PassbackBook`) holds each person's latest passage:

- **Own passages** are recorded when the lane counts someone through: at the grant on a lane
  without a rotation sensor, at ``passage_confirmed`` on a lane with one. The lane saw it, so it
  always replaces what was held. It is persisted by the journal in the same transaction as the
  event that recorded it, so a power cut cannot leave the two disagreeing.
- **Relayed passages** are the site's other lanes' own, relayed by the hub (:mod:`wire.site`).
  One is taken only if it happened (:attr:`Passage.at`) after the passage held for that person:
  a duplicate, or a passage delivered late after a later one, changes nothing, in any order of
  arrival. Ordering is by the recording lanes' wall clocks (NTP-synchronised on a site; events
  say when they were not): a lane's own passage is applied whatever its time, so skew between
  lanes can only make a sibling take a relayed passage late, never make a lane doubt its own eyes.
- **Expiry**: an "inside" recorded before the site's daily cutoff (:attr:`Policy.inside_expires_at`,
  by default the end of the workers' hours) has expired once the cutoff has passed since: a missed
  exit (a tailgate, a broken rotation sensor, an exit through a vehicle gate) costs a person at
  most the rest of that day, never every day after. The lane journals ``passback_expired`` when
  it admits someone because of that.

How far to trust the memory (:class:`SiteView`): the hub tells each lane every few seconds who
its siblings are and how long ago it last heard from each. While the lane has had no such word
for longer than its bound, or a sibling has been silent that long, or it has just (re)connected
and not yet been caught up, its memory may lack an exit recorded elsewhere: hard anti-passback
then objects only softly (granted, with the ``passback_unverified`` caveat on the event), so an
outage degrades to warnings, never to locking people out. Ages are measured on the lane's own
monotonic clock from the moment a sync arrived; the hub's timestamps are only ever compared with
each other.

Pure: values in, values out; the journal and the site link do the I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from types import MappingProxyType

from wire.models import Direction


@dataclass(frozen=True, slots=True)
class Passage:
    """A person's latest passage as this lane holds it."""

    direction: Direction
    at: datetime | None = None
    """When it happened (aware). None only for a passage journaled before passages carried their
    time; the lane stamps those with its start time (:meth:`Journal.stamp_untimed`)."""
    device_id: str | None = None
    """The sibling lane that recorded it; None for this lane's own."""
    seq: int = 0
    """The record at that lane (this lane's journal sequence for its own)."""

    def newer_than(self, held: Passage | None) -> bool:
        """Whether this passage happened after ``held`` (an untimed one counts as the oldest)."""
        if held is None or held.at is None:
            return True
        return self.at is not None and self.at > held.at


def inside_expired(since: datetime, now: datetime, cutoff: time) -> bool:
    """Whether the daily ``cutoff`` (wall-clock time in ``now``'s zone, the site's) has come since
    ``since``: an entry at 10:00 with a 20:00 cutoff expires at 20:00 that day, one at 21:00 (after
    the cutoff) at 20:00 the next."""
    zone = now.tzinfo
    local = since.astimezone(zone)
    first = datetime.combine(local.date(), cutoff, tzinfo=zone)
    if first <= local:
        first = datetime.combine(local.date() + timedelta(days=1), cutoff, tzinfo=zone)
    return now >= first


class PassbackBook:
    def __init__(self, known: Iterable[tuple[str, Direction | Passage]] = ()) -> None:
        self._held: dict[str, Passage] = {
            person: held if isinstance(held, Passage) else Passage(held) for person, held in known
        }

    def inside(self, person_id: str | None) -> bool | None:
        """Whether the latest passage held was an entry (True), an exit (False), or there is none."""
        if person_id is None:
            return None
        held = self._held.get(person_id)
        return None if held is None else held.direction is Direction.IN

    def held(self, person_id: str) -> Passage | None:
        return self._held.get(person_id)

    def expired(self, person_id: str, now: datetime, cutoff: time | None) -> Passage | None:
        """The entry held for ``person_id`` if the site's cutoff has expired it by ``now``, else None."""
        held = self._held.get(person_id)
        if cutoff is None or held is None or held.direction is not Direction.IN or held.at is None:
            return None
        return held if inside_expired(held.at, now, cutoff) else None

    def record(self, person_id: str, direction: Direction, at: datetime | None = None, seq: int = 0) -> None:
        """This lane's own passage: always the newest word on the person."""
        self._held[person_id] = Passage(direction, at, None, seq)

    def offer(self, person_id: str, passage: Passage) -> bool:
        """A sibling's passage, taken only if it happened after the one held; whether it was."""
        if not passage.newer_than(self._held.get(person_id)):
            return False
        self._held[person_id] = passage
        return True

    def snapshot(self) -> Mapping[str, Direction]:
        return MappingProxyType({person: held.direction for person, held in self._held.items()})

    def __len__(self) -> int:
        return len(self._held)


class SiteView:
    """How fresh this lane's view of its site is; every reading takes the lane's monotonic now."""

    def __init__(self, silence_s: float) -> None:
        self.silence_ns = int(silence_s * 1e9)
        self._synced_ns: int | None = None
        self._ages: dict[str, int | None] = {}
        self._awaiting: str | None = ""  # not asked yet: no sync can answer that

    @property
    def siblings(self) -> tuple[str, ...]:
        return tuple(sorted(self._ages))

    @property
    def awaiting(self) -> str | None:
        """The nonce of the request sent at the latest connection until a sync answers it ("" before
        the first request), None once answered."""
        return self._awaiting

    def asked(self, nonce: str) -> None:
        """The lane (re)connected and asked to be caught up: unverified until that is answered,
        since whatever the site recorded while it was away is only now on its way."""
        self._awaiting = nonce

    def synced(self, mono_ns: int, siblings: Mapping[str, timedelta | None], answers: str | None) -> None:
        """A sync was accepted at ``mono_ns``; ``siblings`` maps each sibling to how long the hub had
        not heard from it when it issued the sync (None: never)."""
        self._synced_ns = mono_ns
        self._ages = {
            device: None if age is None else max(0, int(age.total_seconds() * 1e9))
            for device, age in siblings.items()
        }
        if answers is not None and answers == self._awaiting:
            self._awaiting = None

    def problem(self, mono_ns: int) -> str | None:
        """Why the view cannot be trusted now, or None when it can."""
        if self._synced_ns is None:
            return "no word from the hub about the site yet"
        if self._awaiting is not None:
            return "not yet caught up since connecting"
        if not self._ages:
            return None  # a lane alone on its site holds every passage there is
        since = mono_ns - self._synced_ns
        if since > self.silence_ns:
            return f"no word from the hub about the site for {since / 1e9:.0f} s"
        for device, age in sorted(self._ages.items()):
            if age is not None and age + since > self.silence_ns:
                return f"lane {device} silent for {(age + since) / 1e9:.0f} s"
        return None

    def verified(self, mono_ns: int) -> bool:
        return self.problem(mono_ns) is None
