"""The lane's end of the site channel: its siblings' passages in, its view of the site kept fresh.

Invariant 10 on the lane (the design is in :mod:`wire.site` and :mod:`controller.core.passback`).
:class:`SiteLink` is the uplink's handler for ``sitegate/v1/down/<device>/site`` and its
on-connect hook:

- On every connection it sends a :class:`~wire.site.SiteRequest` with a fresh nonce and counts
  its view of the site unverified until a sync answering that nonce arrives: the hub sends the
  site's recent passages first (whatever was recorded while this lane was away), then the sync.
- Every message must verify against the pinned hub key (the roster key) and be addressed to this
  lane and its project; anything else is refused whole and logged.
- A :class:`~wire.site.PassageRelay`'s passages are taken only for people on the lane's current
  roster (a lane never trusts a passage of someone it does not know), not dated more than
  :data:`FUTURE_TOLERANCE` after the lane's own clock (a sibling with a wild clock must not pin
  someone inside for days), and only where newer than what is held: written to the journal in
  one transaction, then applied to the :class:`~controller.core.passback.PassbackBook` exactly as
  the journal took them, so the two agree after any power cut.
- A :class:`~wire.site.SiteSync` is taken only if its ``issued_at`` is after the last one taken
  (persisted in the journal, so a replay after a reboot is refused too); it resets the ages the
  :class:`~controller.core.passback.SiteView` measures on the lane's monotonic clock.

The lane reads :meth:`SiteLink.verified` at every swipe; False turns hard anti-passback soft.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from controller.clock import LaneClock
from controller.core.passback import Passage, PassbackBook, SiteView
from controller.core.roster import Roster
from controller.journal import Journal
from wire.message_errors import WireError
from wire.signing import Verifier
from wire.site import PassageRelay, SiteMessage, SiteRequest, SiteSync, decode_site, encode_site
from wire.topics import Channel

log = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(minutes=5)
ASK_AGAIN_NS = 5_000_000_000
"""A request still unanswered this long after it was sent is sent again (at the next sync)."""

Send = Callable[[Channel, bytes], Awaitable[bool]]
Taken = Callable[[Sequence[tuple[str, Passage]]], None]


class PassbackHolder(Protocol):
    """What holds the lane's anti-passback state (the :class:`~controller.service.LaneService`)."""

    roster: Roster
    passback: PassbackBook
    journal: Journal


@dataclass
class SiteCounters:
    relays: int = 0
    taken: int = 0
    """Passages applied."""
    stale: int = 0
    """Passages not newer than the one held (duplicates, late deliveries)."""
    unknown: int = 0
    """Passages of people not on this lane's roster: ignored."""
    future: int = 0
    """Passages dated too far after this lane's clock: ignored."""
    syncs: int = 0
    refused: int = 0
    """Messages refused whole: unreadable, unsigned, forged, misaddressed, replayed."""


class SiteLink:
    def __init__(
        self,
        holder: PassbackHolder,
        *,
        device_id: str,
        project_id: str,
        public_key: bytes,
        silence_s: float,
        send: Send,
        clock: LaneClock,
    ) -> None:
        self.holder = holder
        self.device_id = device_id
        self.project_id = project_id
        self.view = SiteView(silence_s)
        self.counters = SiteCounters()
        self.observers: list[Taken] = []
        """Called with the passages each relay applied (tests and benchmarks watch them)."""
        self._verifier = Verifier(public_key)
        self._send = send
        self._clock = clock
        self._asked_ns: int | None = None
        self._people: tuple[Roster, frozenset[str]] | None = None

    def verified(self) -> bool:
        return self.view.verified(self._clock.mono_ns())

    def problem(self) -> str | None:
        """Why the lane cannot vouch for its site's passages right now, or None."""
        return self.view.problem(self._clock.mono_ns())

    async def hello(self) -> None:
        """The on-connect hook: ask to be caught up, and count the view unverified until then."""
        nonce = secrets.token_hex(16)
        self.view.asked(nonce)
        self._asked_ns = self._clock.mono_ns()
        request = SiteRequest(device_id=self.device_id, project_id=self.project_id, nonce=nonce)
        if not await self._send(Channel.SITE_REQUEST, encode_site(request)):
            log.warning(
                "lane %s could not ask for its site's news (offline); asks at the next sync", self.device_id
            )

    async def __call__(self, payload: bytes) -> None:
        try:
            message = decode_site(payload)
        except WireError as err:
            self._refuse(f"unreadable site message: {err}")
            return
        problem = self._check(message)
        if problem is not None:
            self._refuse(problem)
            return
        if isinstance(message, PassageRelay):
            self._relay(message)
        else:
            await self._sync(message)

    def _refuse(self, problem: str) -> None:
        self.counters.refused += 1
        log.warning("lane %s refused a site message: %s", self.device_id, problem)

    def _check(self, message: SiteMessage) -> str | None:
        """Signature first: whatever fails it is a forgery or damage, whatever it says inside."""
        name = message.kind
        forged = self._verifier.problem(message, name)
        if forged is not None:
            return forged
        if message.device_id != self.device_id:
            return f"{name} is addressed to {message.device_id}"
        if message.project_id != self.project_id:
            return f"{name} is for project {message.project_id}, this lane is on {self.project_id}"
        return None

    def _known_people(self) -> frozenset[str]:
        roster = self.holder.roster
        cached = self._people
        if cached is None or cached[0] is not roster:
            cached = (roster, frozenset(roster.entries.columns.people))
            self._people = cached
        return cached[1]

    def _relay(self, relay: PassageRelay) -> None:
        counters = self.counters
        counters.relays += 1
        people = self._known_people()
        book = self.holder.passback
        horizon = self._clock.wall() + FUTURE_TOLERANCE
        offered: list[tuple[str, Passage]] = []
        for item in sorted(relay.passages, key=lambda p: p.at):
            if item.person_id not in people:
                counters.unknown += 1
                continue
            if item.at > horizon:
                counters.future += 1
                log.warning(
                    "lane %s ignored a passage dated %s by %s: after this lane's clock",
                    self.device_id,
                    item.at.isoformat(),
                    item.device_id,
                )
                continue
            passage = Passage(item.direction, item.at, item.device_id, item.seq)
            if passage.newer_than(book.held(item.person_id)):
                offered.append((item.person_id, passage))
            else:
                counters.stale += 1
        taken = self.holder.journal.offer_passages(offered)  # durable before it counts
        for person_id, passage in taken:
            book.offer(person_id, passage)
        counters.taken += len(taken)
        counters.stale += len(offered) - len(taken)
        if taken:
            log.debug("lane %s took %d passages from its site", self.device_id, len(taken))
            for observe in self.observers:
                observe(taken)

    async def _sync(self, sync: SiteSync) -> None:
        journal = self.holder.journal
        mark = journal.site_sync_mark
        if mark is not None and sync.issued_at <= mark:
            self._refuse(f"site_sync issued {sync.issued_at.isoformat()}, not after the last taken: a replay")
            return
        journal.mark_site_sync(sync.issued_at)
        self.counters.syncs += 1
        ages = {
            sibling.device_id: None if sibling.last_seen is None else sync.issued_at - sibling.last_seen
            for sibling in sync.siblings
        }
        now = self._clock.mono_ns()
        self.view.synced(now, ages, sync.answers)
        asked = self._asked_ns
        if self.view.awaiting is not None and (asked is None or now - asked > ASK_AGAIN_NS):
            await self.hello()
