"""From the broker to the store: a shared subscription, batches, and storage acknowledgements.

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
import logging
import random
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Protocol, cast

import aiomqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

from hub.errors import BrokerUnavailable, HubError, StoreError
from hub.events.journal import store_events
from hub.inbound import Accepted, Rejected, classify
from hub.store import JournalRecord, SeqConflict, Store
from sitegate.tasks import cancel_until_done
from wire.clock import Clock, SystemClock
from wire.codec import encode
from wire.message_errors import TopicError
from wire.models import AccessEvent, Heartbeat, LaneEvent, PresenceStatus, StorageAck
from wire.topics import UP_CHANNELS, Channel, parse_topic, shared, subscription, topic_for

log = logging.getLogger(__name__)

BACKOFF_MIN_S = 0.2
BACKOFF_MAX_S = 30.0
KEEPALIVE_S = 30


StoredHook = Callable[[Sequence[JournalRecord]], None]
"""Called with the records of each committed batch (duplicates included, seq conflicts not), after
the commit and before the batch's acks; must not block (the site relay only sorts and wakes)."""

ChannelHandler = Callable[[str, bytes], Awaitable[str | None]]
"""Takes (topic, payload) of an up channel the ingest does not store itself; returns a reason to
dead-letter the message, or None."""
"""Takes a roster status message (topic, payload); returns why it is refused, or None."""


class Publisher(Protocol):
    """The part of an MQTT client that acknowledging needs (``aiomqtt.Client`` is one)."""

    async def publish(self, topic: str, payload: bytes, qos: int = 0) -> None: ...


class Inbox(asyncio.Queue[aiomqtt.Message]):
    """The queue aiomqtt delivers received messages into, made by the ingest so that its batch
    loop can take everything waiting at once. Taking them one by one through ``client.messages``
    costs a Task and an ``asyncio.wait`` per message, and the hub receives thousands a second.

    Unbounded, like aiomqtt's own (whose bound drops messages): paho reads whatever the broker
    sends, so a backlog moves from the broker into this queue (bench/ingest.py: 80,000 messages
    at the peak). MQTT v5 flow control would bound it (a Receive Maximum, and PUBACKs only after
    each batch), but mosquitto 2.0.11 sent a burst far past it (21,000 unacknowledged with a
    limit of 2,000, measured), and paho's manual acks are not part of aiomqtt's API."""

    def take(self, limit: int) -> list[aiomqtt.Message]:
        """Up to ``limit`` waiting messages, oldest first, without waiting."""
        taken: list[aiomqtt.Message] = []
        while len(taken) < limit and not self.empty():
            taken.append(self.get_nowait())
        return taken


class SubscriptionRefused(HubError):
    """The broker answered SUBACK with a failure (no shared subscriptions, or an ACL)."""


@dataclasses.dataclass
class IngestCounters:
    """Since this process started; each hub instance counts only what it handled.

    ``accepted`` counts journal records of both kinds; ``lane_events`` the lane events among them.
    """

    accepted: int = 0
    lane_events: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    heartbeats: int = 0
    presence: int = 0
    acks_published: int = 0
    store_failures: int = 0
    connections: int = 0


class Ingest:
    """Run with ``async with Ingest(...)``: a background task connects, reconnects and ingests."""

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
    ) -> None:
        """``tls_context`` carries the hub's certificate: the broker's ACL lets that identity read
        every device's up topics and write their down topics. ``handlers`` take the up channels the
        ingest does not store itself (roster status, command results); each is subscribed only when
        a handler for it is given. ``clock`` dates the acks (the system's when not given; the
        store stamps what it receives with its own, the app's); batch windows and reconnect
        backoff are timed on the loop's monotonic clock. ``on_stored`` sees each committed
        batch's records (the site relay passes their passages on to the site's other lanes)."""
        self._on_stored = on_stored
        self._store = store
        self._clock = clock or SystemClock()
        self._tls_context = tls_context
        self._host, self._port, self._client_id = host, port, client_id
        self._batch_max = batch_max
        self._batch_window = batch_window
        self._rng = rng or random.Random()
        self.subscriptions = [
            shared(share_group, subscription("up", Channel.EVENT)),
            shared(share_group, subscription("up", Channel.HEARTBEAT)),
            subscription("up", Channel.PRESENCE),
        ]
        self._handlers = dict(handlers or {})
        for channel in self._handlers:
            if channel in (Channel.EVENT, Channel.HEARTBEAT, Channel.PRESENCE) or channel not in UP_CHANNELS:
                raise ValueError(f"no handler may take the {channel.value!r} channel")
            self.subscriptions.append(shared(share_group, subscription("up", channel)))
        self._live: aiomqtt.Client | None = None
        self._counters = IngestCounters()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        """Connected and subscribed: messages can arrive."""
        return self._ready.is_set()

    @property
    def counters(self) -> IngestCounters:
        return dataclasses.replace(self._counters)

    async def wait_connected(self) -> None:
        """Until connected and subscribed; wrap in ``asyncio.timeout`` to bound it."""
        await self._ready.wait()

    async def __aenter__(self) -> Ingest:
        self._task = asyncio.create_task(self.run(), name="hub-ingest")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        await cancel_until_done([task])

    def _backoff(self, attempt: int) -> float:
        """Exponential with equal jitter: never a tight loop, never every hub in the same second."""
        ceiling = min(BACKOFF_MAX_S, BACKOFF_MIN_S * 2.0**attempt)
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    async def run(self) -> None:
        """Connect, ingest until the link drops, back off, again; ends only when cancelled."""
        attempt = 0
        while True:
            try:
                client, inbox = self._client()
                async with client:
                    await self._subscribe(client)
                    self._live = client
                    attempt = 0
                    self._counters.connections += 1
                    self._ready.set()
                    log.info("ingest subscribed on %s:%d as %s", self._host, self._port, self._client_id)
                    await self._batches(client, inbox)
            except* (aiomqtt.MqttError, SubscriptionRefused) as group:
                log.warning("ingest link to %s:%d lost: %s", self._host, self._port, _summary(group))
            except* Exception:
                log.exception("ingest failed unexpectedly; reconnecting")
            finally:
                self._ready.clear()
                self._live = None
            delay = self._backoff(attempt)
            attempt += 1
            await asyncio.sleep(delay)

    def _client(self) -> tuple[aiomqtt.Client, Inbox]:
        """A client, and the queue it delivers into (handed to it as its ``queue_type``)."""
        inbox = Inbox()
        client = aiomqtt.Client(
            self._host,
            self._port,
            identifier=self._client_id,
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=True,
            keepalive=KEEPALIVE_S,
            timeout=10,
            tls_context=self._tls_context,
            queue_type=cast("type[asyncio.Queue[aiomqtt.Message]]", lambda maxsize=0: inbox),
        )
        # A batch acknowledges every device it touched at once; that is expected, not a warning.
        client.pending_calls_threshold = 10_000
        return client, inbox

    async def _subscribe(self, client: aiomqtt.Client) -> None:
        topics = [(topic, SubscribeOptions(qos=1)) for topic in self.subscriptions]
        granted = await client.subscribe(topics)
        failed = [t for t, code in zip(self.subscriptions, granted, strict=False) if _is_failure(code)]
        if failed:
            raise SubscriptionRefused(f"broker refused {', '.join(failed)}")

    async def _batches(self, client: aiomqtt.Client, inbox: Inbox) -> None:
        """Each batch starts with a wait on ``client.messages``, which also ends when the link
        drops (with MqttError, which ends the connection); then it takes what is waiting and
        what comes within the batch window from the inbox directly, up to ``batch_max``."""
        loop = asyncio.get_running_loop()
        messages = client.messages
        while True:
            batch = [await anext(messages)]
            deadline = loop.time() + self._batch_window
            while len(batch) < self._batch_max:
                waiting = inbox.take(self._batch_max - len(batch))
                if waiting:
                    batch += waiting
                    continue
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    async with asyncio.timeout(remaining):
                        batch.append(await inbox.get())  # a Queue.get gives up nothing when cancelled
                except TimeoutError:
                    break
            await self.handle_batch(client, [(m.topic.value, m.payload) for m in batch])

    async def handle_batch(self, client: Publisher, messages: Sequence[tuple[str, object]]) -> None:
        """One batch of (topic, payload): dead-letter the bad, store the records, ack, record status.

        Access events and lane events of a batch are stored together, in one transaction.
        Needs only something to publish acks with, so tests can drive it without a broker.
        """
        self._counters.batches += 1
        events: list[tuple[Accepted, JournalRecord]] = []
        status: list[Heartbeat | PresenceStatus] = []
        for topic, payload in messages:
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
        if events:
            await self._publish_acks(client, await self._store_events(events))
        for message in status:
            await self._record_status(message)

    async def _store_events(self, items: Sequence[tuple[Accepted, JournalRecord]]) -> dict[str, int]:
        """Store and return each touched device's watermark; {} when nothing may be acknowledged."""
        try:
            result = await store_events(self._store, [event for _, event in items])
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
            refused = {(c.device_id, c.seq, c.kind) for c in result.conflicts}
            records = (
                [r for _, r in items if (r.device_id, r.seq, r.kind) not in refused]
                if refused
                else [r for _, r in items]
            )
            try:
                self._on_stored(records)
            except Exception:  # the batch is stored: a hook's bug must not cost it its acks
                log.exception("the stored-batch hook failed")
        for alert in result.alerts:
            log.warning("alert from %s lane %s: %s", alert.device_id, alert.lane, alert.type.value)
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

    async def _record_status(self, message: Heartbeat | PresenceStatus) -> None:
        try:
            if isinstance(message, Heartbeat):
                await self._store.record_heartbeat(message)
                self._counters.heartbeats += 1
            else:
                await self._store.record_presence(message)
                self._counters.presence += 1
        except StoreError as err:
            self._counters.store_failures += 1
            log.error("could not record %s of %s: %s", message.kind, message.device_id, err)

    async def _handled(self, handler: ChannelHandler, topic: str, payload: object) -> None:
        raw = bytes(payload) if isinstance(payload, bytes | bytearray) else b""
        refused = await handler(topic, raw)
        if refused is not None:
            await self._reject(topic, raw, refused)

    async def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        """Publish down to a device over the ingest's own (reconnecting) link; the commands and
        the roster publisher use it. Raises :class:`BrokerUnavailable` while the link is down."""
        client = self._live
        if client is None or not self.connected:
            raise BrokerUnavailable("the hub is not connected to the broker")
        try:
            await client.publish(topic, payload, qos=qos, retain=retain)
        except aiomqtt.MqttError as err:
            raise BrokerUnavailable(f"publish failed: {err}") from err

    async def _reject(self, topic: str, payload: bytes, reason: str) -> None:
        """Dead-letter and log the reason; never the payload, which may hold personal data."""
        self._counters.rejected += 1
        log.warning("dead-lettered a message on %r: %s", topic, reason)
        try:
            await self._store.dead_letter(topic, reason, payload)
        except StoreError as err:
            self._counters.store_failures += 1
            log.error("could not keep a dead letter from %r: %s", topic, err)


def _channel_of(topic: str) -> Channel | None:
    try:
        return parse_topic(topic).channel
    except TopicError:
        return None


def _is_failure(code: object) -> bool:
    """SUBACK codes: paho gives ReasonCode objects on MQTT v5, ints (0x80 = failure) on v3."""
    is_failure = getattr(code, "is_failure", None)
    if isinstance(is_failure, bool):
        return is_failure
    return isinstance(code, int) and code >= 0x80


def _summary(group: BaseExceptionGroup[BaseException]) -> str:
    return "; ".join(str(err) or type(err).__name__ for err in group.exceptions)
