"""The hub's relay of passages between the lanes of a site, and the syncs that keep lanes honest.

See :mod:`hub.site` for the design. :class:`SiteRelay` runs beside the ingest (``async with``):

- :meth:`SiteRelay.stored` is the ingest's hook after each committed batch. It only sorts the
  batch (no I/O) and wakes a worker; the ingest's next batch never waits on a relay.
- The worker relays what the batches held, a round at a time: confirmations resolved against
  their grants (one query per round for those not remembered), each passage's site from the
  registry's placements (:class:`~hub.site.gates.SiteMap`), then one signed
  :class:`~wire.site.PassageRelay` per sibling lane per round, QoS 1, on the lane's ``site`` topic.
- A placed lane of a project this instance owns (hub.instances: one owner per project when
  several hub instances share the database) gets a signed :class:`~wire.site.SiteSync` (its
  siblings and when the hub last heard from each: ``devices.last_seen_at``, what heartbeats and
  ``online`` presence stamp) when it needs one (:mod:`hub.site.schedule`): its first from this
  process, its siblings changed, a sibling heard again that it judges silent or soon would, its
  last word getting old. A lane alone on its site is sent none but the answers to its requests.
  The relay asks who is due every :attr:`~hub.site.schedule.SyncTiming.tick_s`, one query for all
  lanes' last words.
- A lane's :class:`~wire.site.SiteRequest` (sent at every connection) is answered with the site's
  recent passages from the stored record (:func:`~hub.site.passages.recent_passages`), then a
  sync naming the request's nonce, in that order on the lane's topic.
- A relay the broker did not take (the hub's own link dropped: the lanes are still connected and
  will not ask) is kept and sent again at the next tick, before its syncs.

Signed with the roster key the lanes pin. ``issued_at`` strictly grows within a hub process, so
two syncs in the same clock tick are still in order for the lane's replay check.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from hub.background import BackgroundTasks
from hub.errors import HubError
from hub.lane_sender import LaneSender, Sender
from hub.site.gates import SiteMap, Sites
from hub.site.passages import Batch, Grant, Key, confirmed, recent_passages, sort_batch, stored_grants
from hub.site.schedule import SyncTiming, Told, due, told
from hub.store import Store
from hub.store.schema import devices
from wire.clock import Clock, SystemClock
from wire.message_errors import TopicError, WireError
from wire.models import AccessEvent, LaneEvent
from wire.signing import Signer
from wire.site import (
    MAX_RELAY_PASSAGES,
    PassageRelay,
    SiblingSeen,
    SitePassage,
    SiteRequest,
    SiteSync,
    decode_site_request,
    encode_site,
)
from wire.topics import Channel, parse_topic

log = logging.getLogger(__name__)

CATCH_UP = timedelta(hours=25)
"""How far back a connecting lane is caught up: an entry older than a day has expired at every
lane whatever its cutoff, and an exit older than that clears nothing a lane still counts."""
GRANTS_KEPT = 20_000
"""Recent grants remembered for the confirmations that follow them within seconds."""
ANSWER_EVERY_S = 1.0
"""A lane's requests are answered at most this often (a flood costs one catch-up a second)."""
SEND_WINDOW = 64
"""Site messages in flight at once during a round of syncs."""
UNSENT_KEPT = 10_000
"""Passages kept per lane while the broker link is down, sent again at the next tick
(the oldest go first when there are more: the lane catches those up when it next connects)."""


@dataclass
class RelayCounters:
    passages: int = 0
    """Passages relayed (each once, however many siblings it went to)."""
    relays_sent: int = 0
    syncs_sent: int = 0
    catch_ups: int = 0
    unplaced: int = 0
    """Passages from a device placed at no gate: relayed nowhere."""
    disagreeing: int = 0
    """Confirmations whose grant names someone else or is unknown, passages the wrong way for the
    gate: relayed nowhere, logged."""
    send_failures: int = 0


class SiteRelay:
    def __init__(
        self,
        store: Store,
        sender: Sender,
        signing_key: Ed25519PrivateKey,
        *,
        clock: Clock | None = None,
        timing: SyncTiming | None = None,
        sites: SiteMap | None = None,
        owns: Callable[[str], bool] | None = None,
    ) -> None:
        """``owns``: whether this hub instance owns a project (hub.instances; None: every project):
        only the lanes of the projects it owns are sent syncs on the schedule. Passages and the
        answers to requests go from whichever instance took the event or the request."""
        self._store = store
        self._owns = owns
        self._lanes = LaneSender(sender, in_flight=SEND_WINDOW)
        self._signer = Signer(signing_key)
        self._clock = clock or SystemClock()
        self._timing = timing or SyncTiming()
        self._told: dict[str, Told] = {}
        """What each lane was last told by this process (the schedule's memory)."""
        self._started: float | None = None
        self.sites = sites or SiteMap(store)
        self.counters = RelayCounters()
        self._pending: list[Batch] = []
        self._wake = asyncio.Event()
        self._grants: OrderedDict[Key, Grant] = OrderedDict()
        self._confirming: set[str] = set()
        """Lanes seen confirming passages: their grants are remembered as they are stored."""
        self._issued: datetime | None = None
        self._unsent: dict[tuple[str, str], list[SitePassage]] = {}
        """(lane, project) → passages a failed publish did not deliver: the lane is still
        connected and will not ask, so they go again at the next tick."""
        self._answer_locks: dict[str, asyncio.Lock] = {}
        self._answered: dict[str, float] = {}
        self._tasks = BackgroundTasks("site relay", log)

    async def __aenter__(self) -> SiteRelay:
        self._tasks.spawn(self._worker(), "site-relay")
        self._tasks.spawn(self._sync_loop(), "site-sync")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._tasks.stop()

    # -- passages --------------------------------------------------------------------------------

    def stored(self, records: Sequence[AccessEvent | LaneEvent]) -> None:
        """The ingest's hook, after a batch committed: sort it, remember the grants that
        confirmations will refer to, wake the worker. In memory only: the ingest's next batch never
        waits on a relay (~0.3 µs an event that is no passage)."""
        batch = sort_batch(records, self._confirming)
        if batch.grants:
            self._remember(batch.grants.items())
        for event in batch.confirmations:
            self._confirming.add(event.device_id)
        if batch.passages or batch.confirmations:
            self._pending.append(batch)
            self._wake.set()

    def _remember(self, grants: Iterable[tuple[Key, Grant]]) -> None:
        kept = self._grants
        for key, grant in grants:
            kept[key] = grant
        while len(kept) > GRANTS_KEPT:
            kept.popitem(last=False)

    async def _worker(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending, self._pending = self._pending, []
            try:
                await self._relay(pending)
            except HubError as err:  # the lanes catch up from the record when they next connect
                log.error("passages of %d batches not relayed: %s", len(pending), err)
            except Exception:  # never the end of the worker: the next batch is relayed again
                log.exception("passages of %d batches not relayed", len(pending))

    async def _relay(self, batches: Sequence[Batch]) -> None:
        passages = [passage for batch in batches for passage in batch.passages]
        confirmations = [event for batch in batches for event in batch.confirmations]
        if confirmations:
            missing = {(e.device_id, e.ref_seq) for e in confirmations if e.ref_seq is not None}
            missing -= self._grants.keys()
            if missing:
                async with self._store.read("site grants") as conn:
                    self._remember((await stored_grants(conn, missing)).items())
            for event in confirmations:
                assert event.ref_seq is not None
                passage = confirmed(event, self._grants.get((event.device_id, event.ref_seq)))
                if passage is None:
                    self.counters.disagreeing += 1
                    log.warning(
                        "lane %s confirmed a passage (seq %d) its grant seq %d does not match: not relayed",
                        event.device_id,
                        event.seq,
                        event.ref_seq,
                    )
                else:
                    passages.append(passage)
        if not passages:
            return
        sites = await self.sites.current()
        by_project = self._placed(sites, passages)
        sends = []
        for project_id, found in by_project.items():
            found.sort(key=lambda p: (p.at, p.device_id, p.seq))
            self.counters.passages += len(found)
            for device_id in sites.lanes.get(project_id, ()):
                theirs = [p for p in found if p.device_id != device_id]
                if theirs:
                    sends.append(self._send_relays(device_id, project_id, theirs))
        await asyncio.gather(*sends)

    def _placed(self, sites: Sites, passages: Iterable[SitePassage]) -> dict[str, list[SitePassage]]:
        """Each passage under its project, as the registry places the lane that recorded it."""
        by_project: dict[str, list[SitePassage]] = {}
        for passage in passages:
            placed = sites.placement(passage.device_id)
            if placed is None:
                self.counters.unplaced += 1
                continue
            if not placed.allows(passage.direction):
                self.counters.disagreeing += 1
                log.warning(
                    "lane %s recorded a passage %s, but it is placed as an %s lane: not relayed",
                    passage.device_id,
                    passage.direction.value,
                    placed.direction,
                )
                continue
            by_project.setdefault(placed.project_id, []).append(passage)
        return by_project

    async def _send_relays(self, device_id: str, project_id: str, passages: Sequence[SitePassage]) -> bool:
        for start in range(0, len(passages), MAX_RELAY_PASSAGES):
            chunk = tuple(passages[start : start + MAX_RELAY_PASSAGES])
            relay = PassageRelay(
                device_id=device_id, project_id=project_id, issued_at=self._issue(), passages=chunk
            )
            if not await self._publish(relay):
                kept = self._unsent.setdefault((device_id, project_id), [])
                kept.extend(passages[start:])
                del kept[:-UNSENT_KEPT]
                return False
            self.counters.relays_sent += 1
        return True

    async def _send_unsent(self) -> None:
        """What a failed publish did not deliver, again; late is harmless (lanes order by ``at``)."""
        unsent, self._unsent = self._unsent, {}
        for (device_id, project_id), passages in unsent.items():
            await self._send_relays(device_id, project_id, sorted(passages, key=lambda p: p.at))

    # -- syncs -----------------------------------------------------------------------------------

    async def _sync_loop(self) -> None:
        while True:
            try:
                await self.sync_due()
            except HubError as err:
                log.warning("site syncs not sent: %s", err)
            await asyncio.sleep(self._timing.tick_s)

    async def sync_due(self) -> int:
        """One tick: what the broker did not take goes again, then a sync to every lane due one
        (:func:`~hub.site.schedule.due`); how many were due. Nothing while the broker link is down:
        they would all fail (and stay due)."""
        if not getattr(self._lanes.sender, "connected", True):
            return 0
        if self._unsent:
            await self._send_unsent()
        now = asyncio.get_running_loop().time()
        if self._started is None:
            self._started = now
        sites = await self.sites.current()
        placed = {device_id: placement.project_id for device_id, placement in sites.placements.items()}
        if self._owns is not None:
            owns = self._owns
            placed = {device_id: project_id for device_id, project_id in placed.items() if owns(project_id)}
        for gone in self._told.keys() - placed.keys():
            del self._told[gone]
        if not placed:
            return 0
        seen = await self._last_seen()
        lanes = due(now, placed, sites.siblings, seen, self._told, self._timing, self._started)
        await asyncio.gather(
            *(self._send_sync(device_id, placed[device_id], sites, seen) for device_id in lanes)
        )
        return len(lanes)

    async def _last_seen(self) -> dict[str, datetime | None]:
        d = devices.c
        async with self._store.read("site last seen") as conn:
            return {str(device): at for device, at in await conn.execute(select(d.device_id, d.last_seen_at))}

    async def _send_sync(
        self,
        device_id: str,
        project_id: str,
        sites: Sites,
        seen: dict[str, datetime | None],
        answers: str | None = None,
    ) -> bool:
        siblings = tuple(SiblingSeen(device_id=d, last_seen=seen.get(d)) for d in sites.siblings(device_id))
        sent_at = asyncio.get_running_loop().time()  # no later than the lane takes it: its clock starts after
        sync = SiteSync(
            device_id=device_id,
            project_id=project_id,
            issued_at=self._issue(),
            siblings=siblings,
            answers=answers,
        )
        sent = await self._publish(sync)
        if sent:
            self.counters.syncs_sent += 1
            heard = {sibling.device_id: sibling.last_seen for sibling in siblings}
            self._told[device_id] = told(sent_at, sync.issued_at, project_id, heard, self._timing.silence_s)
        return sent

    # -- requests --------------------------------------------------------------------------------

    async def on_request_message(self, topic: str, payload: bytes) -> str | None:
        """For the ingest: a message from a ``site_request`` topic; why it is refused, or None.

        Checks what can be refused at once (the registry's placements are cached); the catch-up
        runs as a task, so the ingest's batch never waits on it."""
        try:
            device_id = parse_topic(topic).device_id
        except TopicError as err:
            return f"bad topic: {err.why}"
        try:
            request = decode_site_request(payload)
        except WireError as err:
            return _describe(err)
        if request.device_id != device_id:
            return "device_id in the payload differs from the device in the topic"
        try:
            sites = await self.sites.current()
        except HubError as err:
            log.warning("site request of %s not answered: %s (the lane asks again)", device_id, err)
            return None
        placed = sites.placement(device_id)
        if placed is None:
            log.warning("lane %s asked for its site's news, but the registry places it at no gate", device_id)
            return None
        if placed.project_id != request.project_id:
            log.warning(
                "ALERT lane %s says it is on project %s; the registry places it on %s",
                device_id,
                request.project_id,
                placed.project_id,
            )
            return "project_id in the payload differs from the project the registry places the device at"
        self._tasks.spawn(
            self._answer(device_id, placed.project_id, request.nonce), f"site-answer-{device_id}"
        )
        return None

    async def _answer(self, device_id: str, project_id: str, nonce: str) -> None:
        """The site's recent passages, then a sync naming ``nonce``: in that order on the lane's topic."""
        loop = asyncio.get_running_loop()
        async with self._answer_locks.setdefault(device_id, asyncio.Lock()):
            wait = self._answered.get(device_id, -1e9) + ANSWER_EVERY_S - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._answered[device_id] = loop.time()
            sites = await self.sites.current()
            since = self._clock.wall() - CATCH_UP
            async with self._store.read("site catch-up") as conn:
                recent = await recent_passages(conn, sites.lanes.get(project_id, ()), since)
            placed = self._placed(sites, recent).get(project_id, [])
            self.counters.catch_ups += 1
            if placed and not await self._send_relays(device_id, project_id, placed):
                return  # the lane stays unverified and asks again
            await self._send_sync(device_id, project_id, sites, await self._last_seen(), answers=nonce)

    # -- signing and sending -----------------------------------------------------------------------

    def _issue(self) -> datetime:
        now = self._clock.wall()
        if self._issued is not None and now <= self._issued:
            now = self._issued + timedelta(microseconds=1)
        self._issued = now
        return now

    async def _publish(self, message: PassageRelay | SiteSync) -> bool:
        payload = encode_site(self._signer.sign(message))
        sent = await self._lanes.send(message.device_id, Channel.SITE, payload, what=message.kind)
        if not sent:
            self.counters.send_failures += 1
        return sent


_REQUEST_FIELDS = frozenset(SiteRequest.model_fields)


def _describe(err: WireError) -> str:
    return f"invalid site request: {err.redacted(_REQUEST_FIELDS)}"
