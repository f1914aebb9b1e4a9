"""Store-and-forward to the hub over MQTT.

The journal is the queue: the uplink publishes what the journal holds after the hub's last
acknowledgement, in windows of concurrent QoS 1 publishes, and the journal forgets an event only
when a :class:`StorageAck` says the hub stored it. A PUBACK from the broker is not enough (the
broker may drop a queue, the hub may die after receiving); if the hub's watermark stops moving
while events are outstanding, everything after it is sent again, and the hub's (device, seq)
uniqueness makes that harmless.

Reconnection is an explicit loop with exponential backoff and full jitter, so a broker restart
does not bring every lane of a city back in the same second.

A full or failing disk never stops the link (issue 20): the journal's writes here (the connection
generation, forgetting on an ack) are caught where they happen. The generation then moves on in
memory; the hub's watermark is kept in memory too, so nothing is resent for it, and forgetting is
retried at every ack and every idle wake until a write succeeds: :attr:`Uplink.journal_fault` says
why it is failing meanwhile, and clears with that write.

A hub restored from a backup says so on the ack channel (:class:`wire.models.ResendRequest`: its
watermark and the restore's epoch): the journal moves its watermark back to the hub's
(:meth:`Journal.rewind`, once per epoch, never past what it still keeps), and the drain sends what
follows again. The request can come only from the hub (the broker's ACL: a device writes nothing
under another device's down topics), and the worst it can do is make the lane resend events it
keeps, once per restore.

When the hub asks for events the journal no longer keeps (a backup older than the window), the
lane says which (:class:`wire.models.JournalGap`, on its ``journal_gap`` channel) right after the
rewind and again at each connection until the hub acknowledges past them: the hub checks it
against its restore, records the loss and moves its watermark over it, so the journal drains.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

import aiomqtt

from controller.config import MqttConfig
from controller.hub_time import HubTime
from controller.journal import Gap, Journal
from controller.resend_timer import ResendTimer
from controller.tls import tls_context
from sitegate.backoff import backoff_delays
from sitegate.mqtt_client import read_lost_connection
from sitegate.tasks import cancel_requested, run_together
from wire.clock import Clock, SystemClock
from wire.codec import decode, encode
from wire.message_errors import TopicError, WireError
from wire.models import Heartbeat, JournalGap, PresenceState, PresenceStatus, ResendRequest, StorageAck
from wire.topics import UP_CHANNELS, Channel, parse_topic, topic_for

log = logging.getLogger(__name__)

DownlinkHandler = Callable[[bytes], Awaitable[None]]

BACKOFF_MAX_S = 60.0


class Uplink:
    def __init__(
        self,
        config: MqttConfig,
        device_id: str,
        journal: Journal,
        *,
        heartbeat: Callable[[], Heartbeat] | None = None,
        rng: random.Random | None = None,
        clock: Clock | None = None,
    ) -> None:
        """``handlers`` (see :meth:`on`) receive the payloads of the device's other down channels.

        ``clock`` times the resend timer and connections (monotonic) and stamps presence (wall); a test
        passes a fake one to let the hub stay silent for a minute without waiting a minute.
        """
        self.config = config
        self.device_id = device_id
        self.journal = journal
        self._heartbeat = heartbeat
        self._clock: Clock = clock or SystemClock()
        self._delay = backoff_delays(rng or random.Random(), config.reconnect_window_s, BACKOFF_MAX_S)
        self._wake = asyncio.Event()
        self._acked = asyncio.Event()
        self.connected = False
        self.published = 0
        self.connections = 0
        self.connected_at: float | None = None
        """Monotonic time of the latest successful connection (health)."""
        self.attempted_at: float | None = None
        """Monotonic time the latest connection attempt began."""
        self.attempt_due: float | None = None
        """Monotonic time the backoff scheduled the latest attempt for: what the jitter spreads out,
        independent of how late a busy event loop gets round to it."""
        self._handlers: dict[Channel, DownlinkHandler] = {}
        self._on_connect: list[Callable[[], Awaitable[object]]] = []
        self._client: aiomqtt.Client | None = None
        self._generation = 0
        self.hub_through = 0
        self.hub_time = HubTime()
        """The hub's time from its acks: what the command runner judges a command's expiry by."""
        """The highest watermark the hub has acknowledged (in memory: the journal may not take it)."""
        self.journal_fault: str | None = None
        """Why the latest journal write of the uplink failed; None once one has succeeded."""
        self._hub_moved_at = 0.0
        """Monotonic time the hub's watermark last moved: when its ack came, not when the drain saw it."""
        self.resent = 0
        """Events a restored hub asked for again (:class:`ResendRequest`), since start."""
        self._ack_at: datetime | None = None
        """The hub's time in its latest ack: what the journal's retention window is counted on."""
        self._rewound = False
        self._gap_through = 0
        """The end of the gap told to a restored hub, until an ack covers it (0: none told)."""

    def _monotonic(self) -> float:
        return self._clock.mono_ns() / 1e9

    def on(self, channel: Channel, handler: DownlinkHandler) -> None:
        """Deliver payloads arriving on this device's ``channel`` (a down channel other than ACK).

        Subscribed at every (re)connection; a handler's exception is logged, never allowed to drop
        the link.
        """
        if channel is Channel.ACK or channel in UP_CHANNELS:
            raise ValueError(f"{channel.value!r} is not a down channel a handler may take")
        self._handlers[channel] = handler

    def on_connect(self, callback: Callable[[], Awaitable[object]]) -> None:
        """Run ``callback`` after every (re)connection, once subscribed: what the lane must say
        each time it comes back (its roster version, so a hub that moved on while it was away
        sends what it missed). An exception is logged and never drops the link."""
        self._on_connect.append(callback)

    async def send(self, channel: Channel, payload: bytes, *, qos: int = 1) -> bool:
        """Publish on one of this device's up channels now; False when offline (the caller decides
        whether that matters: status reports are re-sent on reconnect, events go through the journal)."""
        client = self._client
        if client is None or not self.connected:
            return False
        try:
            await client.publish(topic_for(self.device_id, channel), payload, qos=qos)
        except aiomqtt.MqttError as err:
            log.warning("could not send %s: %s", channel.value, err)
            return False
        return True

    def notify(self) -> None:
        """A new event is in the journal: wake the drain loop."""
        self._wake.set()

    def _presence(self, state: PresenceState, generation: int) -> bytes:
        return encode(
            PresenceStatus(
                device_id=self.device_id, state=state, generation=generation, at=self._clock.wall()
            )
        )

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                tls = self._tls_context()
            except OSError as err:  # ssl.SSLError is one: the lane keeps deciding, events wait
                log.error("uplink cannot use its TLS files: %s", err)
                delay = self._delay(attempt)
                attempt += 1
                self.attempt_due = self._monotonic() + delay
                await asyncio.sleep(delay)
                continue
            generation = self._next_generation()
            will = aiomqtt.Will(
                topic_for(self.device_id, Channel.PRESENCE),
                self._presence(PresenceState.OFFLINE, generation),
                qos=1,
                retain=True,
            )
            self.attempted_at = self._monotonic()
            mqtt: aiomqtt.Client | None = None
            try:
                mqtt = aiomqtt.Client(
                    self.config.host,
                    self.config.port,
                    identifier=self.device_id,
                    protocol=aiomqtt.ProtocolVersion.V5,
                    keepalive=self.config.keepalive_s,
                    will=will,
                    timeout=10,
                    max_inflight_messages=max(20, self.config.window),
                    tls_context=tls,
                )
                async with mqtt as client:
                    attempt = 0
                    self.connected = True
                    self.connections += 1
                    self.connected_at = self._monotonic()
                    log.info(
                        "uplink connected to %s:%d (generation %d)",
                        self.config.host,
                        self.config.port,
                        generation,
                    )
                    await client.publish(
                        topic_for(self.device_id, Channel.PRESENCE),
                        self._presence(PresenceState.ONLINE, generation),
                        qos=1,
                        retain=True,
                    )
                    await client.subscribe(topic_for(self.device_id, Channel.ACK), qos=1)
                    for channel in self._handlers:
                        await client.subscribe(topic_for(self.device_id, channel), qos=1)
                    self._client = client
                    await self._tell_gap()
                    for callback in self._on_connect:
                        try:
                            await callback()
                        except Exception:  # a hook's bug must not cost the lane its link
                            log.exception("uplink on-connect hook failed")
                    # A drain window is that many publishes in flight at once: expected, not a warning.
                    client.pending_calls_threshold = max(self.config.window * 2, 10)
                    await run_together(self._children(client))
            except* aiomqtt.MqttError as group:
                log.warning("uplink lost: %s", "; ".join(str(e) for e in group.exceptions))
            except* sqlite3.Error as group:  # a failing disk's read: reconnect and read again later
                self._journal_failed("read the journal", group.exceptions[0])
            finally:
                self.connected = False
                self._client = None
                if mqtt is not None:
                    read_lost_connection(mqtt)
            if cancel_requested():  # a stop that reached the link as it failed: not a lost link
                raise asyncio.CancelledError
            delay = self._delay(attempt)
            attempt += 1
            self.attempt_due = self._monotonic() + delay
            await asyncio.sleep(delay)

    def _next_generation(self) -> int:
        """The journal's next generation; on a failing disk one past the last known, in memory."""
        try:
            self._generation = max(self._generation + 1, self.journal.next_generation())
            self.journal_fault = None
        except (sqlite3.Error, OSError) as err:
            self._journal_failed("store the connection generation", err)
            self._generation += 1
        return self._generation

    def _journal_failed(self, what: str, err: BaseException) -> None:
        if self.journal_fault is None:
            log.error("uplink could not %s in the journal (kept in memory, retried): %s", what, err)
        self.journal_fault = str(err)

    def _acked_through(self) -> int:
        """What the hub has stored: the journal's watermark, or the hub's word if it could not be kept."""
        return max(self.journal.acked_through, min(self.hub_through, self.journal.last_seq))

    def _forget(self) -> None:
        """Forget what the hub stored; a failing write is retried at the next ack or idle wake."""
        if self.hub_through <= self.journal.acked_through:
            return
        try:
            covered = self.journal.forget_through(self.hub_through, at=self._ack_at)
        except (sqlite3.Error, OSError) as err:
            self._journal_failed("forget acknowledged events", err)
            return
        self.journal_fault = None
        if covered:
            log.debug("hub stored through seq %d; %d more events acknowledged", self.hub_through, covered)

    def _resend(self, request: ResendRequest) -> bool:
        """A restored hub's watermark: rewind the journal to it (once per epoch) and wake the drain.
        A journal that cannot take the write leaves the epoch unrecorded: the request, retained on
        the broker, comes again at the next connection. True when it rewound."""
        try:
            rewound = self.journal.rewind(request.through_seq, request.epoch)
        except (sqlite3.Error, OSError) as err:
            self._journal_failed("rewind for a restored hub", err)
            return False
        if rewound is None:
            return False
        log.warning(
            "hub restored (epoch %d) holds seq through %d: resending %d events%s",
            request.epoch,
            request.through_seq,
            rewound.resent,
            f"; {rewound.lost} more no longer kept here" if rewound.lost else "",
        )
        self.hub_through = self.journal.acked_through
        self.resent += rewound.resent
        self._rewound = True
        self._wake.set()
        return True

    def _gap(self) -> Gap | None:
        try:
            return self.journal.gap()
        except (sqlite3.Error, OSError) as err:
            self._journal_failed("read the gap a restored hub must hear of", err)
            return None

    async def _tell_gap(self) -> None:
        """Tell the hub which events it asked for are gone from the journal, if any are and it has
        not acknowledged past them (told again at the next connection until it has)."""
        gap = self._gap()
        self._gap_through = gap.through_seq if gap else 0
        if gap is None:
            return
        message = JournalGap(
            device_id=self.device_id, from_seq=gap.from_seq, through_seq=gap.through_seq, epoch=gap.epoch
        )
        if await self.send(Channel.JOURNAL_GAP, encode(message)):
            log.warning(
                "told the hub (epoch %d) that seq %d..%d (%d events) are no longer kept here",
                gap.epoch,
                gap.from_seq,
                gap.through_seq,
                gap.count,
            )

    def _hub_holds(self, through_seq: int) -> None:
        """An ack: a gap it covers has been taken by the hub (a journal write only then)."""
        if not 0 < self._gap_through <= through_seq:
            return
        self._gap_through = 0
        try:
            self.journal.hub_holds_through(through_seq)
        except (sqlite3.Error, OSError) as err:
            self._journal_failed("clear a gap the hub has taken", err)

    def _children(self, client: aiomqtt.Client) -> dict[str, Coroutine[Any, Any, None]]:
        """What runs while connected. Run together (sitegate.tasks), not in an asyncio.TaskGroup: a
        child can swallow its one cancel inside aiomqtt's publish (Python 3.11's wait_for), and a
        TaskGroup would then wait for it for ever, so that stopping the uplink never ended."""
        children = {
            f"uplink {self.device_id} receive": self._receive(client),
            f"uplink {self.device_id} drain": self._drain(client),
        }
        if self._heartbeat is not None:
            children[f"uplink {self.device_id} heartbeats"] = self._heartbeats(client)
        return children

    def _tls_context(self) -> ssl.SSLContext | None:
        """None for a plain link. Loaded at every connection, so a renewed certificate is used
        without restarting the lane."""
        config = self.config
        if config.ca_file is None or config.cert_file is None or config.key_file is None:
            return None
        return tls_context(config.ca_file, config.cert_file, config.key_file)

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            payload = message.payload
            if not isinstance(payload, bytes | bytearray):
                log.warning("ignored a non-binary payload on %s", message.topic)
                continue
            try:
                channel = parse_topic(message.topic.value).channel
            except TopicError as err:
                log.warning("ignored a message on an unexpected topic: %s", err.why)
                continue
            if channel is not Channel.ACK:
                await self._dispatch(channel, bytes(payload))
                continue
            try:
                ack = decode(Channel.ACK, payload)
            except WireError as err:
                log.warning("ignored a bad storage ack: %s", err)
                continue
            if not isinstance(ack, StorageAck | ResendRequest) or ack.device_id != self.device_id:
                log.warning("ignored a storage ack for another device")
                continue
            if isinstance(ack, ResendRequest):
                if self._resend(ack):
                    await self._tell_gap()
                continue
            self._ack_at = ack.at
            self._hub_holds(ack.through_seq)
            if ack.through_seq > self.hub_through:
                self._hub_moved_at = self._monotonic()
            self.hub_through = max(self.hub_through, ack.through_seq)
            self.hub_time.observe(ack.at, self._clock.mono_ns())
            self._forget()
            self._acked.set()

    async def _dispatch(self, channel: Channel, payload: bytes) -> None:
        handler = self._handlers.get(channel)
        if handler is None:
            log.warning("ignored a message on the %s channel: no handler", channel.value)
            return
        try:
            await handler(payload)
        except Exception:  # a bad roster or command must not take the event link down with it
            log.exception("the %s handler failed", channel.value)

    async def _drain(self, client: aiomqtt.Client) -> None:
        # When to send the outstanding events again is the timer's (controller.resend_timer): a hub
        # whose watermark has not moved for resend_after_s, or for longer while it still moves slowly.
        # Its silence counts from the later of the hub's last ack and the moment the outstanding run
        # of events began going out: after an idle spell the first new window starts the timer
        # afresh; it does not inherit the age of an ack from before the idle spell.
        sent_through = self._acked_through()
        timer = ResendTimer(self.config.resend_after_s, self.config.resend_max_s, self._monotonic())
        acked_seen = sent_through
        while True:
            acked = self._acked_through()
            if self._rewound:  # a restored hub's watermark: everything after it goes out again
                self._rewound = False
                sent_through = acked_seen = acked
                timer.start(self._monotonic())
            if acked > acked_seen:
                acked_seen = acked
                timer.progress(self._hub_moved_at, caught_up=acked >= sent_through)
            resending = sent_through > acked and timer.resend_due(self._monotonic())
            if resending:
                log.warning(
                    "hub silent on seq %d..%d for %.0fs; resending", acked + 1, sent_through, timer.ran_out
                )
                sent_through = acked
            sent_through = max(sent_through, acked)
            batch = self.journal.pending(sent_through, self.config.window)
            if batch:
                if sent_through == acked and not resending:  # a new run: its silence counts from now
                    timer.start(self._monotonic())
                await asyncio.gather(
                    *(
                        client.publish(topic_for(self.device_id, Channel.EVENT), encode(event), qos=1)
                        for event in batch
                    )
                )
                self.published += len(batch)
                sent_through = batch[-1].seq
                continue
            self._forget()  # a write that failed on a full disk is retried while idle
            self._wake.clear()
            self._acked.clear()
            waiters = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(self._acked.wait())}
            try:
                await asyncio.wait(
                    waiters, timeout=self.config.resend_after_s / 2, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for waiter in waiters:
                    waiter.cancel()

    async def _heartbeats(self, client: aiomqtt.Client) -> None:
        assert self._heartbeat is not None
        while True:
            await client.publish(
                topic_for(self.device_id, Channel.HEARTBEAT), encode(self._heartbeat()), qos=0
            )
            await asyncio.sleep(self.config.heartbeat_s)
