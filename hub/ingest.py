"""From the broker to the store: validate, store each record exactly once, acknowledge.

The ingest is the receiver of the hub's broker link (:class:`hub.mqtt_link.MqttLink`, which it
makes and names the subscriptions of): each batch of received messages is classified, its events
stored in one transaction (:func:`hub.events.journal.store_events`, where each (device, seq) is
stored once), and each touched lane acknowledged. What goes down to the lanes otherwise is the
downlink's (:mod:`hub.downlink`).

Heartbeats and presence go their own way from the link on: the link hands each batch it reads to
the ingest, which sorts it into two queues (:mod:`hub.ingest_queue`) and returns, so the link goes
on reading; a worker per queue takes its batches. A hub behind on events holds its backlog in
the events' queue, and the heartbeats of the same moment are recorded within a batch or two: in
one queue they waited behind every event, and a hub minutes behind showed live lanes offline
(issue 16: 1,385 of 3,000). The handled channels (roster status, command results ...) keep their
place among the events, in the events' queue.

Events and heartbeats come through MQTT v5 shared subscriptions, so several hub instances split
one stream. Presence uses a plain subscription: it is retained, and a spec-compliant broker
never delivers retained messages to a shared subscription, so a hub back from an outage would
otherwise not learn what changed meanwhile; every instance applying it is harmless, because
:meth:`Store.record_presence` ignores anything older than what is stored.

The broker's PUBACK is not what a controller relies on (paho acknowledges on receipt): the
:class:`StorageAck` published after each commit is. A batch lost in a crash or a disconnect is
simply never acknowledged, and the controller sends it again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import random
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType

import aiomqtt
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.devices.revocation import revoked_among
from hub.errors import StoreError
from hub.events.attribution import (
    OpenCommand,
    Placement,
    Refusal,
    attribute,
    is_remote_open,
    refused_in_place,
)
from hub.events.journal import store_events
from hub.events.placements import open_commands_for, placements_of
from hub.events.time_bounds import DEFAULT_BOUNDS, TimeBounds
from hub.inbound import Accepted, Rejected, classify
from hub.ingest_queue import BatchQueue
from hub.mqtt_link import MqttLink, Publisher
from hub.store import JournalRecord, SeqConflict, Store
from sitegate.tasks import cancel_until_done
from wire.clock import Clock, SystemClock
from wire.codec import encode
from wire.message_errors import TopicError
from wire.models import AccessEvent, Heartbeat, LaneEvent, PresenceStatus, StorageAck
from wire.topics import UP_CHANNELS, Channel, Topic, parse_topic, shared, subscription, topic_for

log = logging.getLogger(__name__)


StoredHook = Callable[[Sequence[JournalRecord]], None]
"""Called with the records of each committed batch (duplicates included, seq conflicts not), after
the commit and before the batch's acks; must not block (the site relay only sorts and wakes)."""

ChannelHandler = Callable[[str, bytes], Awaitable[str | None]]
"""Takes (topic, payload) of an up channel the ingest does not store itself; returns a reason to
dead-letter the message, or None."""


STATUS_CHANNELS = frozenset({Channel.HEARTBEAT, Channel.PRESENCE})
"""What goes through the statuses' queue; everything else through the events'."""

TOPICS_KEPT = 65_536
"""Parsed topics kept (:func:`_parsed`): every channel of some ten thousand lanes."""

EVERY_INSTANCE = frozenset({Channel.CARD_READ})
"""Handled channels every hub instance receives (a plain subscription, not a shared one): what
an instance keeps in its own memory for its API, the office readers' card reads
(:mod:`hub.registration_reads`), which a form may poll on any instance."""


@dataclasses.dataclass
class IngestCounters:
    """Since this process started; each hub instance counts only what it handled.

    ``accepted`` counts journal records of both kinds; ``lane_events`` the lane events among them.
    """

    accepted: int = 0
    lane_events: int = 0
    duplicates: int = 0
    rejected: int = 0
    unplaced: int = 0
    """Records refused because their device has no placement (not dead-lettered, not acknowledged)."""
    revoked: int = 0
    """Messages of any kind refused because their device is revoked (not stored, not acknowledged)."""
    batches: int = 0
    heartbeats: int = 0
    presence: int = 0
    resent_while_waiting: int = 0
    """Events dropped on arrival as the same topic and payload as one still in the events' queue
    (a lane's resend of what the hub has not handled yet): the one waiting is handled, stored
    once and acknowledged, as the copy would have been (:func:`_resendable`)."""
    acks_published: int = 0
    store_failures: int = 0
    connections: int = 0
    waiting_events: int = 0
    """Received messages in the events' queue now (events and the handled channels)."""
    waiting_statuses: int = 0
    """Received heartbeats and presence notices in their queue now."""


class Ingest:
    """Run with ``async with Ingest(...)``: its link (:attr:`link`) connects, reconnects and hands
    it each batch (:meth:`handle_batch`)."""

    def __init__(
        self,
        store: Store,
        *,
        host: str,
        port: int,
        client_id: str,
        share_group: str,
        batch_max: int = 2000,
        batch_window: float = 0.02,
        rng: random.Random | None = None,
        tls_context: ssl.SSLContext | None = None,
        handlers: Mapping[Channel, ChannelHandler] | None = None,
        clock: Clock | None = None,
        on_stored: StoredHook | None = None,
        time_bounds: TimeBounds = DEFAULT_BOUNDS,
    ) -> None:
        """``tls_context`` carries the hub's certificate: the broker's ACL lets that identity read
        every device's up topics and write their down topics. ``handlers`` take the up channels the
        ingest does not store itself (roster status, command results); each is subscribed only when
        a handler for it is given. ``clock`` dates the acks (the system's when not given; the
        store stamps what it receives with its own, the app's); batch windows and reconnect
        backoff are timed on the loop's monotonic clock. ``on_stored`` sees each committed
        batch's records (the site relay passes their passages on to the site's other lanes).
        ``time_bounds``: which event times the hub believes (:mod:`hub.events.time_bounds`)."""
        self._on_stored = on_stored
        self._time_bounds = time_bounds
        self._store = store
        self._clock = clock or SystemClock()
        self.subscriptions = [
            shared(share_group, subscription("up", Channel.EVENT)),
            shared(share_group, subscription("up", Channel.HEARTBEAT)),
            subscription("up", Channel.PRESENCE),
        ]
        self._handlers = dict(handlers or {})
        for channel in self._handlers:
            if channel in (Channel.EVENT, Channel.HEARTBEAT, Channel.PRESENCE) or channel not in UP_CHANNELS:
                raise ValueError(f"no handler may take the {channel.value!r} channel")
            topic_filter = subscription("up", channel)
            self.subscriptions.append(
                topic_filter if channel in EVERY_INSTANCE else shared(share_group, topic_filter)
            )
        self._counters = IngestCounters()
        self._events: BatchQueue[tuple[str, object]] = BatchQueue(batch_max, key=_resendable)
        self._statuses: BatchQueue[tuple[str, object]] = BatchQueue(batch_max)
        self._workers: list[asyncio.Task[None]] = []
        self.link = MqttLink(
            host=host,
            port=port,
            client_id=client_id,
            subscriptions=self.subscriptions,
            receiver=self._receive,
            batch_max=batch_max,
            batch_window=batch_window,
            rng=rng,
            tls_context=tls_context,
        )
        """The hub's one broker connection; the downlink (:class:`hub.downlink.Downlink`) publishes on it."""

    @property
    def connected(self) -> bool:
        """Connected and subscribed: messages can arrive."""
        return self.link.connected

    @property
    def counters(self) -> IngestCounters:
        return dataclasses.replace(
            self._counters,
            connections=self.link.connections,
            waiting_events=len(self._events),
            waiting_statuses=len(self._statuses),
        )

    async def wait_connected(self) -> None:
        """Until connected and subscribed; wrap in ``asyncio.timeout`` to bound it."""
        await self.link.wait_connected()

    async def __aenter__(self) -> Ingest:
        self._workers = [
            asyncio.create_task(self._work(self._events), name="hub-ingest-events"),
            asyncio.create_task(self._work(self._statuses), name="hub-ingest-statuses"),
        ]
        await self.link.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.link.__aexit__(exc_type, exc, tb)
        finally:
            # What is still queued was never acknowledged: the lanes send it again.
            workers, self._workers = self._workers, []
            await cancel_until_done(workers)

    async def _receive(self, client: Publisher, messages: Sequence[tuple[str, object]]) -> None:
        """The link's batch, sorted into the two queues; returns at once, so the link reads on."""
        events: list[tuple[str, object]] = []
        statuses: list[tuple[str, object]] = []
        for message in messages:
            (statuses if _channel_of(message[0]) in STATUS_CHANNELS else events).append(message)
        self._statuses.put(statuses)
        self._counters.resent_while_waiting += self._events.put(events)

    async def _work(self, queue: BatchQueue[tuple[str, object]]) -> None:
        """Handle the queue's batches for as long as the ingest runs, acknowledging over the
        link's client of the moment. A batch whose acks cannot go out (the link down) stays
        stored: its lanes send it again and are acknowledged then."""
        acks = _LinkPublisher(self.link)
        async for batch in queue.batches():
            try:
                await self.handle_batch(acks, batch)
            except aiomqtt.MqttError as err:
                log.warning(
                    "could not acknowledge a batch of %d messages (%s); the lanes resend", len(batch), err
                )
            except Exception:  # a bug must not stop the ingest: the next batch is handled
                log.exception("the ingest failed on a batch of %d messages", len(batch))

    async def handle_batch(self, client: Publisher, messages: Sequence[tuple[str, object]]) -> None:
        """One batch of (topic, payload): dead-letter the bad, store the records, ack, record status.

        Access events and lane events of a batch are stored together, in one transaction.
        Needs only something to publish acks with, so tests can drive it without a broker.
        """
        self._counters.batches += 1
        events: list[tuple[Accepted, JournalRecord]] = []
        status: list[Heartbeat | PresenceStatus] = []
        kept, placements = await self._registry_of(messages)
        for topic, payload in kept:
            channel = _channel_of(topic)
            handler = self._handlers.get(channel) if channel is not None else None
            if handler is not None:
                await self._handled(handler, topic, payload)
                continue
            outcome = classify(topic, payload)
            if isinstance(outcome, Rejected):
                await self._reject(outcome.topic, outcome.payload, outcome.reason)
            elif isinstance(outcome.message, AccessEvent | LaneEvent):
                events.append((outcome, outcome.message))
            else:
                status.append(outcome.message)
        events = await self._attributed(events, placements)
        if events:
            await self._publish_acks(client, await self._store_events(events))
        if status:
            await self._record_statuses(status)

    async def _registry_of(
        self, messages: Sequence[tuple[str, object]]
    ) -> tuple[Sequence[tuple[str, object]], Mapping[str, Placement]]:
        """The batch without the messages of revoked devices, and the placements of the devices
        that sent events (:meth:`_attributed`), read together: one connection for both, each
        query built once, no transaction of their own on PostgreSQL (:func:`_autocommit`).

        Revocation is the hub's own record, read once a batch by the topic's device (the broker's
        ACL binds that to the certificate). A revoked device's messages are neither stored,
        acknowledged, recorded nor handed to a handler, and not dead-lettered (a revoked lane
        would fill the dead letters); nothing at all is kept when the record cannot be read."""
        topics = {topic: _parsed(topic) for topic, _ in messages}
        devices = {parsed.device_id for parsed in topics.values() if parsed is not None}
        placing = {p.device_id for p in topics.values() if p is not None and p.channel is Channel.EVENT}
        try:
            async with self._store.read("revocations") as conn:
                await _autocommit(conn)
                revoked = await revoked_among(conn, devices)
                placements = await placements_of(conn, placing - revoked)
        except StoreError as err:
            self._counters.store_failures += 1
            log.error("could not read revocations for %d messages (%s); unacknowledged", len(messages), err)
            return [], {}
        if not revoked:
            return messages, placements
        kept = [(topic, payload) for topic, payload in messages if _device_of(topic) not in revoked]
        self._counters.revoked += len(messages) - len(kept)
        log.warning(
            "refused %d messages of %d revoked devices: %s",
            len(messages) - len(kept),
            len(revoked),
            ", ".join(sorted(revoked)),
        )
        return kept, placements

    async def _attributed(
        self, items: Sequence[tuple[Accepted, JournalRecord]], placements: Mapping[str, Placement]
    ) -> list[tuple[Accepted, JournalRecord]]:
        """Each record as the registry attributes it (:mod:`hub.events.attribution`), by the
        placements read for the batch (:meth:`_registry_of`) and the commands its ``remote_open``
        events name (read only when there are any). A record that contradicts its device's
        placement is dead-lettered with the reason and an ``attribution_refused`` alert stored at
        its seq instead (the lane is acknowledged and forgets it). An unplaced device's records
        are neither stored nor acknowledged, and not dead-lettered either: the lane keeps them and
        resends them until the device is placed, which would otherwise fill the dead letters."""
        if not items:
            return []
        records = [record for _, record in items]
        try:
            opens = await self._open_commands(records)
        except StoreError as err:
            self._counters.store_failures += 1
            log.error("could not read the placements of %d events (%s); unacknowledged", len(items), err)
            return []
        kept: list[tuple[Accepted, JournalRecord]] = []
        unplaced: set[str] = set()
        for accepted, record in items:
            placement = placements.get(record.device_id)
            outcome = attribute(record, placement, opens)
            if not isinstance(outcome, Refusal):
                kept.append((accepted, outcome))
            elif placement is None:
                unplaced.add(record.device_id)
            else:
                await self._reject(accepted.topic, accepted.payload, outcome.reason)
                kept.append((accepted, refused_in_place(record, placement)))
        if unplaced:
            self._counters.unplaced += len(items) - len(kept)
            log.warning(
                "refused the events of %d unplaced devices: %s", len(unplaced), ", ".join(sorted(unplaced))
            )
        return kept

    async def _open_commands(self, records: Sequence[JournalRecord]) -> Mapping[str, OpenCommand]:
        if not any(is_remote_open(record) for record in records):
            return {}
        async with self._store.read("attribution") as conn:
            await _autocommit(conn)
            return await open_commands_for(conn, records)

    async def _store_events(self, items: Sequence[tuple[Accepted, JournalRecord]]) -> dict[str, int]:
        """Store and return each touched device's watermark; {} when nothing may be acknowledged."""
        try:
            result = await store_events(self._store, [event for _, event in items], bounds=self._time_bounds)
        except StoreError as err:
            if err.transient:
                self._counters.store_failures += 1
                log.error(
                    "could not store %d events (%s); unacknowledged, so controllers resend", len(items), err
                )
                return {}
            if len(items) == 1:
                accepted, _ = items[0]
                await self._reject(
                    accepted.topic, accepted.payload, f"the database refused the event ({err})"
                )
                return {}
            # One row the database will never take must not hold the rest of the batch back.
            merged: dict[str, int] = {}
            for item in items:
                for device_id, through in (await self._store_events([item])).items():
                    merged[device_id] = max(through, merged.get(device_id, 0))
            return merged
        self._counters.accepted += result.new
        self._counters.lane_events += result.new_lane_events
        self._counters.duplicates += result.duplicates
        if self._on_stored is not None:
            # A seq conflict was not stored; a clock-suspect record is no passage to pass on.
            refused = {(c.device_id, c.seq, c.kind) for c in result.conflicts}
            records = (
                [
                    r
                    for _, r in items
                    if (r.device_id, r.seq, r.kind) not in refused
                    and (r.device_id, r.seq) not in result.suspect
                ]
                if refused or result.suspect
                else [r for _, r in items]
            )
            try:
                self._on_stored(records)
            except Exception:  # the batch is stored: a hook's bug must not cost it its acks
                log.exception("the stored-batch hook failed")
        for alert in result.alerts:
            log.warning("alert from %s lane %s: %s", alert.device_id, alert.lane, alert.type.value)
        for device_id, count in sorted(Counter(device_id for device_id, _ in result.suspect).items()):
            log.warning("%d records from %s stored clock-suspect (time not believed)", count, device_id)
        await self._reject_conflicts(items, result.conflicts)
        return dict(result.watermarks)

    async def _reject_conflicts(
        self, items: Sequence[tuple[Accepted, JournalRecord]], conflicts: Sequence[SeqConflict]
    ) -> None:
        """Dead-letter every record that reused a seq its device had given the other kind.

        The seq's first record stays stored and acknowledged; the reuse is a controller bug (or
        worse) for a person to look at, so it is kept, not counted as a harmless duplicate.
        """
        refused = {(c.device_id, c.seq, c.kind): c for c in conflicts}
        for accepted, record in items:
            conflict = refused.get((record.device_id, record.seq, record.kind))
            if conflict is not None:
                reason = (
                    f"seq {conflict.seq} reused: this {conflict.kind} has the seq of a stored "
                    f"{conflict.stored_kind}"
                )
                await self._reject(accepted.topic, accepted.payload, reason)

    async def _publish_acks(self, client: Publisher, watermarks: dict[str, int]) -> None:
        """At QoS 0: an ack is a cumulative watermark, so a lost one is covered by the next, or
        by the controller's resend after ``resend_after_s``. At QoS 1 the batch loop waited for
        each PUBACK, which the broker queues behind every message already on its way to this hub:
        with a backlog that took longer than the client's timeout, the MqttError tore the link
        down and the clean-start reconnect threw the broker's queue away."""
        at = self._clock.wall()
        for device_id, through in sorted(watermarks.items()):
            await client.publish(
                topic_for(device_id, Channel.ACK),
                encode(StorageAck(device_id=device_id, through_seq=through, at=at)),
                qos=0,
            )
        self._counters.acks_published += len(watermarks)

    async def _record_statuses(self, messages: Sequence[Heartbeat | PresenceStatus]) -> None:
        """The batch's heartbeats and presence notices, one transaction for them all (a commit
        each was the ingest's limit at thousands of lanes, issue 16)."""
        try:
            await self._store.record_statuses(messages)
        except StoreError as err:
            self._counters.store_failures += 1
            log.error("could not record %d heartbeats and presence notices: %s", len(messages), err)
            return
        beats = sum(isinstance(message, Heartbeat) for message in messages)
        self._counters.heartbeats += beats
        self._counters.presence += len(messages) - beats

    async def _handled(self, handler: ChannelHandler, topic: str, payload: object) -> None:
        raw = bytes(payload) if isinstance(payload, bytes | bytearray) else b""
        refused = await handler(topic, raw)
        if refused is not None:
            await self._reject(topic, raw, refused)

    async def _reject(self, topic: str, payload: bytes, reason: str) -> None:
        """Dead-letter and log the reason; never the payload, which may hold personal data."""
        self._counters.rejected += 1
        log.warning("dead-lettered a message on %r: %s", topic, reason)
        try:
            await self._store.dead_letter(topic, reason, payload)
        except StoreError as err:
            self._counters.store_failures += 1
            log.error("could not keep a dead letter from %r: %s", topic, err)


class _LinkPublisher:
    """Publishes over whichever client the link has now (a worker outlives a reconnection)."""

    def __init__(self, link: MqttLink) -> None:
        self._link = link

    async def publish(self, topic: str, payload: bytes, qos: int = 0) -> None:
        client = self._link.client
        if client is None:
            raise aiomqtt.MqttError("the hub is not connected to the broker")
        await client.publish(topic, payload, qos=qos)


@functools.lru_cache(maxsize=TOPICS_KEPT)
def _parsed(topic: str) -> Topic | None:
    """The topic's device and channel, None for a malformed one; each topic parsed once (the
    ingest asked three times a message, issue 16), of a bounded number kept."""
    try:
        return parse_topic(topic)
    except TopicError:
        return None


def _resendable(message: tuple[str, object]) -> tuple[str, bytes] | None:
    """What makes an event the same as one waiting: its topic and its bytes. A lane resends
    everything after its watermark when the hub has been silent (``resend_after_s``), so a hub
    behind by minutes held each record several times over, and storing, judging and
    acknowledging the copies (duplicates, every one) was work that put it further behind
    (issue 16: 11,342 resends in a 1,000-lane rush). A copy of a waiting event has the waiting
    one's fate: stored once (the copy would have been a duplicate), refused, or dead-lettered
    (once, where the copy would have left a second identical dead letter), and the
    acknowledgement after it covers both. Only the event channel: a handled channel's repeated
    message (a roster status, a command result) is handled again."""
    topic, payload = message
    if type(payload) is not bytes or _channel_of(topic) is not Channel.EVENT:
        return None
    return topic, payload


def _device_of(topic: str) -> str | None:
    parsed = _parsed(topic)
    return None if parsed is None else parsed.device_id


def _channel_of(topic: str) -> Channel | None:
    parsed = _parsed(topic)
    return None if parsed is None else parsed.channel


async def _autocommit(conn: AsyncConnection) -> None:
    """A read of the ingest's runs without a transaction of its own on PostgreSQL: at READ
    COMMITTED each statement sees what was committed when it started, with or without one, so
    BEGIN and ROLLBACK were two round trips a batch for nothing. SQLite keeps the store's own
    transaction handling (:func:`hub.store.dialect.prepare_sqlite`)."""
    if conn.dialect.name == "postgresql":
        await conn.execution_options(isolation_level="AUTOCOMMIT")
