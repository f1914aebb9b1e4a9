"""Which lanes are due a site sync at an instant: the pure core of :class:`~hub.site.relay.SiteRelay`'s syncs.

A lane (:class:`controller.core.passback.SiteView`) trusts its view of the site while no sibling
has been silent for longer than its bound ``silence_s`` (90 s by default), counting a sibling's
silence as its age in the latest sync (``issued_at - last_seen``, the hub's clock) plus the time
since that sync arrived (the lane's monotonic clock), and while that sync is itself younger than
``silence_s``. A lane alone on its site is trusted whatever the age of its sync. So a sync is only
worth sending when it changes what the lane concludes:

- **First word**: a lane this hub process has not told yet (it started, the lane was just
  placed, or its project just became this instance's: hub.instances) is told once; the first
  syncs after a start are spread over ``first_round_s`` by a hash of the device, not sent in one
  burst (those of a project taken over from another instance go at its next tick). A lane's
  request (at every connection) is answered at once whatever the schedule, and counts as its word.
- **Siblings changed**: the registry placed or removed a lane at the site (or moved this one).
- **A sibling heard again**: the hub has heard from a sibling since it last told the lane, and
  the lane judges that sibling silent now or will within ``margin_s`` (its told age plus the time
  since has passed ``silence_s - margin_s``). This is both the refresh that keeps a live sibling
  from ever being judged silent and the prompt word that a silent one is back. A sibling not heard
  since is not a reason: a sync could only repeat its silence.
- **No word**: a lane with siblings told nothing for ``longest_s`` (by default ``silence_s -
  margin_s``), so it never judges its own sync too old.

The arithmetic with the defaults (silence 90 s, lanes' heartbeats every 30 s stamping
``devices.last_seen_at``, margin 15 s): a live sibling's told age is 0–30 s plus the ingest's lag,
so its lane is refreshed 45–75 s after its last sync (90 − 15 − age), never every 15 s as before;
the margin covers the relay's tick (at most ``margin_s / 3``), the downlink's queue and the
delivery. Refreshes fall where the siblings' heartbeats fall, which are spread over the heartbeat
interval, so they come evenly, not in rounds. Publishes a minute: a lone lane 0 after its first
sync; a lane with siblings ~1 (was 4).

Pure: values in, lanes out; times are the hub's monotonic seconds (``now``, :attr:`Told.at`) and
its wall clock for what the lanes are told.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

SILENCE_S = 90.0
"""The lanes' bound (controller ``[site] sibling_silence_s``); the hub's must not be above it."""
MARGIN_S = 15.0
"""How long before a lane would judge a live sibling silent (or its sync too old) it is refreshed."""


@dataclass(frozen=True, slots=True)
class SyncTiming:
    silence_s: float = SILENCE_S
    margin_s: float = MARGIN_S
    longest_s: float | None = None
    """The longest a lane with siblings goes without a sync; None: ``silence_s - margin_s``."""
    first_round_s: float | None = None
    """Over how long the first syncs after a start are spread; None: a third of :attr:`longest`."""

    @property
    def longest(self) -> float:
        return self.longest_s if self.longest_s is not None else self.silence_s - self.margin_s

    @property
    def first_round(self) -> float:
        return self.first_round_s if self.first_round_s is not None else self.longest / 3

    @property
    def tick_s(self) -> float:
        """How often the relay asks who is due: well inside the margin and the longest wait."""
        return min(self.margin_s / 3, self.longest / 2)


@dataclass(frozen=True, slots=True)
class Told:
    """What a lane was last told, and when."""

    at: float
    """The hub's monotonic seconds when the sync was sent."""
    project_id: str
    heard: Mapping[str, datetime | None]
    """Each sibling's ``last_seen`` as the sync said it."""
    silent_at: Mapping[str, float]
    """Each sibling the lane had heard of: when (hub monotonic) the lane judges it silent."""


def told(
    at: float, issued_at: datetime, project_id: str, heard: Mapping[str, datetime | None], silence_s: float
) -> Told:
    """The record of a sync issued at ``issued_at`` (wall) and sent at ``at`` (monotonic)."""
    silent_at = {
        device: at + silence_s - (issued_at - seen).total_seconds()
        for device, seen in heard.items()
        if seen is not None
    }
    return Told(at, project_id, dict(heard), silent_at)


def phase(device_id: str) -> float:
    """A stable fraction in [0, 1) per device: where in the first round its first sync falls."""
    return zlib.crc32(device_id.encode()) / 2**32


def due(
    now: float,
    placed: Mapping[str, str],
    siblings: Callable[[str], Sequence[str]],
    seen: Mapping[str, datetime | None],
    last_told: Mapping[str, Told],
    timing: SyncTiming,
    started: float,
) -> list[str]:
    """The lanes (of ``placed``: device → project) due a sync at ``now``, sorted.

    ``siblings`` names a lane's siblings as the registry places them now, ``seen`` when the hub
    last heard from each device, ``last_told`` what each lane was last told, ``started`` when this
    schedule began (the first round's origin)."""
    return sorted(
        device
        for device, project_id in placed.items()
        if _is_due(now, device, project_id, siblings(device), seen, last_told.get(device), timing, started)
    )


def _is_due(
    now: float,
    device: str,
    project_id: str,
    siblings: Sequence[str],
    seen: Mapping[str, datetime | None],
    last: Told | None,
    timing: SyncTiming,
    started: float,
) -> bool:
    if last is None:
        return now >= started + phase(device) * timing.first_round
    if last.project_id != project_id or set(siblings) != last.heard.keys():
        return True
    if not siblings:
        return False
    if now - last.at >= timing.longest:
        return True
    soon = now + timing.margin_s
    for sibling in siblings:
        heard, was = seen.get(sibling), last.heard[sibling]
        if heard is None or (was is not None and heard <= was):
            continue  # not heard since: a sync would only repeat its silence
        if soon >= last.silent_at.get(sibling, last.at):
            return True
    return False
