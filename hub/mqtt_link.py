"""The hub's one connection to the broker: connect, subscribe, reconnect, and hand over batches.

One MQTT v5 client at a time, reconnected with backoff (:mod:`sitegate.backoff`, equal jitter) for
as long as the link runs. It subscribes to what its receiver names (the ingest's shared
subscriptions, :meth:`hub.ingest.Ingest.subscriptions`) and gives the receiver every batch of
received messages; the downlink (:mod:`hub.downlink`) publishes over the same client.

What it knows is the connection, not what the messages mean: storing, acking and dead-lettering
are the ingest's (:mod:`hub.ingest`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Protocol, cast

import aiomqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

from hub.errors import HubError
from sitegate.backoff import backoff_delays
from sitegate.mqtt_client import read_lost_connection
from sitegate.tasks import cancel_requested, cancel_until_done

log = logging.getLogger(__name__)

BACKOFF_MIN_S = 0.2
BACKOFF_MAX_S = 30.0
KEEPALIVE_S = 30


class Publisher(Protocol):
    """The part of an MQTT client that acknowledging needs (``aiomqtt.Client`` is one)."""

    async def publish(self, topic: str, payload: bytes, qos: int = 0) -> None: ...


BatchReceiver = Callable[[Publisher, Sequence[tuple[str, object]]], Awaitable[None]]
"""Takes the live client (to answer on) and one batch of received (topic, payload)."""


class Inbox(asyncio.Queue[aiomqtt.Message]):
    """The queue aiomqtt delivers received messages into, made by the link so that its batch
    loop can take everything waiting at once. Taking them one by one through ``client.messages``
    costs a Task and an ``asyncio.wait`` per message, and the hub receives thousands a second.

    Unbounded, like aiomqtt's own (whose bound drops messages): paho reads whatever the broker
    sends. It stays short: the ingest takes each batch from it at once into its own queues
    (hub.ingest_queue: events, and heartbeats and presence apart, so a hub behind on events still
    sees its live lanes), and a backlog builds up there (bench/ingest.py: 80,000 messages at the
    peak). MQTT v5 flow control would bound it (a Receive Maximum, and PUBACKs only after
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


class MqttLink:
    """Run with ``async with MqttLink(...)``: a background task connects, reconnects and receives."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        client_id: str,
        subscriptions: Sequence[str],
        receiver: BatchReceiver,
        batch_max: int = 2000,
        batch_window: float = 0.02,
        rng: random.Random | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        """``tls_context`` carries the hub's certificate: the broker's ACL lets that identity read
        every device's up topics and write their down topics. Batch windows and reconnect backoff
        are timed on the loop's monotonic clock."""
        self._host, self._port, self._client_id = host, port, client_id
        self.subscriptions = list(subscriptions)
        self._receiver = receiver
        self._tls_context = tls_context
        self._batch_max = batch_max
        self._batch_window = batch_window
        self._backoff = backoff_delays(rng or random.Random(), BACKOFF_MIN_S, BACKOFF_MAX_S, floor_share=0.5)
        self._live: aiomqtt.Client | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.connections = 0
        """Since this process started: how many times the link connected and subscribed."""

    @property
    def connected(self) -> bool:
        """Connected and subscribed: messages can arrive."""
        return self._ready.is_set()

    @property
    def client(self) -> aiomqtt.Client | None:
        """The connected client, or None while the link is down."""
        return self._live if self.connected else None

    async def wait_connected(self) -> None:
        """Until connected and subscribed; wrap in ``asyncio.timeout`` to bound it."""
        await self._ready.wait()

    async def __aenter__(self) -> MqttLink:
        self._task = asyncio.create_task(self.run(), name="hub-ingest")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        await cancel_until_done([task])

    async def run(self) -> None:
        """Connect, receive until the link drops, back off, again; ends only when cancelled."""
        attempt = 0
        while True:
            client: aiomqtt.Client | None = None
            try:
                client, inbox = self._client()
                async with client:
                    await self._subscribe(client)
                    self._live = client
                    attempt = 0
                    self.connections += 1
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
                if client is not None:
                    read_lost_connection(client)
            if cancel_requested():  # a stop that reached the link as it failed: not a lost link
                raise asyncio.CancelledError
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
            await self._receiver(client, [(m.topic.value, m.payload) for m in batch])


def _is_failure(code: object) -> bool:
    """SUBACK codes: paho gives ReasonCode objects on MQTT v5, ints (0x80 = failure) on v3."""
    is_failure = getattr(code, "is_failure", None)
    if isinstance(is_failure, bool):
        return is_failure
    return isinstance(code, int) and code >= 0x80


def _summary(group: BaseExceptionGroup[BaseException]) -> str:
    return "; ".join(str(err) or type(err).__name__ for err in group.exceptions)
