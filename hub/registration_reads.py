"""The office readers' latest card reads, held in memory for the registration form (issue 14).

An office reader (a lane in registration mode, :mod:`controller.registration`) sends each card it
reads; the console's 进场/离场登记 form asks for the reads of its project and shows the newest,
prefilled. A read is personal data the hub needs for a minute or two, while a manager at the site
office fills the form in: it is kept here, in memory only, never in the database (not even as a
dead letter), and forgotten :data:`KEEP_S` after it arrived, on the hub's injected clock.

Attribution is the registry's, as for every event (invariant 9): the reader's placement (its gate)
decides the project, and the read of an unplaced or revoked device is refused (counted and
logged by device, never stored). A read is the latest of its reader: a reader holds one read, the
one the manager just laid on it.

Several hub instances: the ingest subscribes the ``card_read`` channel plainly, not shared
(:data:`hub.ingest.EVERY_INSTANCE`), so every instance holds every read and a form polling any of
them sees it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from hub.errors import StoreError
from hub.events.attribution import OFFICE_READER
from hub.store import Store
from hub.store.schema import devices, gates
from wire.clock import Clock
from wire.codec import decode
from wire.message_errors import TopicError, WireError
from wire.models import OfficeCardRead
from wire.topics import parse_topic

log = logging.getLogger(__name__)

KEEP_S = 120.0
"""How long a read stays on offer: long enough to pick an enterprise, a team and dates, short
enough that the next person at the desk never gets the previous one's card."""


@dataclass(frozen=True, slots=True)
class HeldRead:
    """One read as the hub holds it, attributed from the registry."""

    number: int
    """Grows with every read this hub receives (its receipt time in milliseconds, or one more than
    the last): what a form passes back as ``after`` to wait for the next one, even across a
    restart of the hub."""
    project_id: str
    lane: str
    received_at: datetime
    read: OfficeCardRead


@dataclass
class CardReadCounters:
    held: int = 0
    duplicates: int = 0
    refused: int = 0


class CardReads:
    """The latest read of each office reader, by project; a form waits here for the next one."""

    def __init__(self, *, clock: Clock, keep_s: float = KEEP_S) -> None:
        self._clock = clock
        self._keep = timedelta(seconds=keep_s)
        self._latest: dict[str, HeldRead] = {}
        self._last_number = 0
        self._arrived = asyncio.Event()
        self.closed = False
        self.counters = CardReadCounters()

    def hold(self, read: OfficeCardRead, *, project_id: str, lane: str) -> HeldRead | None:
        """Keep ``read`` as its reader's latest and wake the forms waiting; None for a duplicate
        (QoS 1 may deliver a read twice)."""
        held = self._latest.get(read.device_id)
        if held is not None and held.read.read_id == read.read_id:
            self.counters.duplicates += 1
            return None
        now = self._clock.wall()
        self._last_number = max(self._last_number + 1, int(now.timestamp() * 1000))
        held = HeldRead(self._last_number, project_id, lane, now, read)
        self._latest[read.device_id] = held
        self.counters.held += 1
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()
        return held

    def since(self, project_id: str, after: int = 0) -> list[HeldRead]:
        """The project's reads newer than ``after`` and not yet expired, oldest first."""
        self._forget_expired()
        found = [h for h in self._latest.values() if h.project_id == project_id and h.number > after]
        return sorted(found, key=lambda h: h.number)

    async def wait(self, project_id: str, after: int, timeout_s: float) -> list[HeldRead]:
        """:meth:`since`, or the first read of the project that arrives within ``timeout_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not (found := self.since(project_id, after)):
            remaining = deadline - loop.time()
            if remaining <= 0 or self.closed:
                return []
            arrived = self._arrived
            try:
                async with asyncio.timeout(remaining):
                    await arrived.wait()
            except TimeoutError:
                return []
        return found

    def close(self) -> None:
        """The hub is stopping: every waiting form is answered now, with what it has (the page asks
        again). aiohttp waits for open requests when it stops and a wait lasts up to 25 s: an open
        registration form held every hub stop until SIGKILL."""
        self.closed = True
        self._arrived.set()

    def held(self, project_id: str, number: int) -> HeldRead | None:
        """The project's read ``number`` while it is held (not expired, not used, not replaced by
        its reader's next read): what a registration form confirms with."""
        return next((h for h in self.since(project_id, number - 1) if h.number == number), None)

    def use(self, held: HeldRead) -> None:
        """A registration used ``held``: no form is offered it again (a read is used once)."""
        if self._latest.get(held.read.device_id) is held:
            del self._latest[held.read.device_id]

    def _forget_expired(self) -> None:
        oldest = self._clock.wall() - self._keep
        for device_id in [d for d, h in self._latest.items() if h.received_at < oldest]:
            del self._latest[device_id]

    def forget_device(self, device_id: str) -> None:
        self._latest.pop(device_id, None)


class CardReadIngest:
    """The ingest's handler for the ``card_read`` channel: decode, attribute, hold.

    Returns None for every message, refused or not: a refusal is counted and logged (device and
    reason), and never dead-lettered, because a dead letter keeps the payload in the database and
    this payload is a whole ID card's text.
    """

    def __init__(self, store: Store, reads: CardReads) -> None:
        self._store = store
        self._reads = reads

    async def __call__(self, topic: str, payload: bytes) -> str | None:
        refused = await self._take(topic, payload)
        if refused is not None:
            self._reads.counters.refused += 1
            log.warning("refused a card read on %r: %s", topic, refused)
        return None

    async def _take(self, topic: str, payload: bytes) -> str | None:
        try:
            parsed = parse_topic(topic)
            message = decode(parsed.channel, payload)
        except (TopicError, WireError) as err:
            return str(err)
        if not isinstance(message, OfficeCardRead):
            return f"a {type(message).__name__} on the card_read channel"
        device_id = parsed.device_id
        if message.device_id != device_id:
            return "the read names another device than its topic"
        try:
            placement = await _placement(self._store, device_id)
        except StoreError as err:
            return f"its placement could not be read ({err})"
        if placement is None:
            self._reads.forget_device(device_id)
            return "the device is not placed at an office reader's gate, or is revoked"
        project_id, lane = placement
        self._reads.hold(message, project_id=project_id, lane=lane)
        return None


async def _placement(store: Store, device_id: str) -> tuple[str, str] | None:
    """(project, lane) of the device's gate; None when it has none, its gate is not an office
    reader's (a turnstile lane's card is never a registration), or its certificate is revoked."""
    g, d = gates.c, devices.c
    query = (
        select(g.project_id, g.lane, d.revoked_at)
        .select_from(gates.outerjoin(devices, d.device_id == g.device_id))
        .where(g.device_id == device_id, g.kind == OFFICE_READER)
    )
    async with store.read("card read placement") as conn:
        row = (await conn.execute(query)).first()
    if row is None or row.revoked_at is not None:
        return None
    return str(row.project_id), str(row.lane)
