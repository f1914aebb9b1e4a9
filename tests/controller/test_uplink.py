"""The uplink against a real mosquitto, with a stand-in hub that acknowledges storage."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import aiomqtt
import pytest

from controller.config import MqttConfig
from controller.journal import Journal, Retention
from controller.uplink import Uplink
from sitegate.mosquitto import Mosquitto
from sitegate.tasks import cancel_until_done
from tests.controller.test_journal import make_event
from tests.support.clock import FakeClock, site_time
from tests.support.disk import small_disk
from tests.support.failing_disconnect import make_disconnects_fail
from wire.codec import decode, encode
from wire.models import (
    AccessEvent,
    JournalGap,
    PresenceState,
    PresenceStatus,
    ResendRequest,
    StorageAck,
    utc_now,
)
from wire.topics import Channel, subscription, topic_for

pytestmark = pytest.mark.broker


class StandInHub:
    """Receives events and acks the contiguous watermark, or stays silent while ``silent`` is set."""

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker
        self.received: list[int] = []
        self.silent = False
        self.presence: list[PresenceStatus] = []

    async def run(self) -> None:
        async with aiomqtt.Client(self.broker.host, self.broker.port, identifier="stand-in-hub") as client:
            await client.subscribe(subscription("up", Channel.EVENT), qos=1)
            await client.subscribe(subscription("up", Channel.PRESENCE), qos=1)
            async for message in client.messages:
                if message.topic.matches(subscription("up", Channel.PRESENCE)):
                    presence = decode(Channel.PRESENCE, message.payload)
                    assert isinstance(presence, PresenceStatus)
                    self.presence.append(presence)
                    continue
                event = decode(Channel.EVENT, message.payload)
                assert isinstance(event, AccessEvent)
                self.received.append(event.seq)
                if self.silent:
                    continue
                stored = set(self.received)
                through = 0
                while through + 1 in stored:
                    through += 1
                ack = StorageAck(device_id=event.device_id, through_seq=through, at=utc_now())
                await client.publish(topic_for(event.device_id, Channel.ACK), encode(ack), qos=1)


async def until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(*coroutines):
    tasks = [asyncio.create_task(c) for c in coroutines]
    try:
        yield tasks
    finally:
        # Cancel until each task has really stopped: Python 3.11's asyncio.wait_for (under aiomqtt's
        # publish) swallows a cancel that lands as the PUBACK completes, and one cancel then left the
        # stand-in hub acking forever and this helper waiting for it (a hang, ~1 run in 15).
        await cancel_until_done(tasks, recancel_s=0.5)


async def test_events_flow_and_are_forgotten_only_after_storage_ack(
    broker: Mosquitto, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    for _ in range(50):
        journal.append(make_event)
    hub = StandInHub(broker)
    uplink = Uplink(MqttConfig(host=broker.host, port=broker.port, window=16), "lane-a1", journal)
    async with running(hub.run()):
        await asyncio.sleep(0.2)
        async with running(uplink.run()):
            await until(lambda: journal.backlog() == 0)
            assert sorted(set(hub.received)) == list(range(1, 51))
            journal.append(make_event)
            uplink.notify()
            await until(lambda: journal.acked_through == 51)
            assert any(p.state is PresenceState.ONLINE for p in hub.presence)
            heard = uplink.hub_time.now(time.monotonic_ns())  # the acks' time, for command expiry
            assert heard is not None and abs(heard - utc_now()) < timedelta(seconds=30)


async def test_silent_hub_gets_everything_again(broker: Mosquitto, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    for _ in range(10):
        journal.append(make_event)
    hub = StandInHub(broker)
    hub.silent = True
    uplink = Uplink(MqttConfig(host=broker.host, port=broker.port, resend_after_s=0.3), "lane-a1", journal)
    async with running(hub.run()):
        await asyncio.sleep(0.2)
        async with running(uplink.run()):
            await until(lambda: len(hub.received) >= 20)  # sent, then sent again while unacknowledged
            assert journal.backlog() == 10
            hub.silent = False
            await until(lambda: journal.backlog() == 0)


async def test_the_first_window_after_idling_gets_the_full_silence_interval(
    broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue 11: after an idle spell longer than resend_after_s, the first new event was sent and
    # at once sent again with "hub silent ... resending": the timer still ran from the last ack.
    clock = FakeClock(site_time(2026, 3, 2, 9))
    journal = Journal(tmp_path / "j.sqlite3")
    journal.append(make_event)
    hub = StandInHub(broker)
    config = MqttConfig(host=broker.host, port=broker.port, resend_after_s=10.0)
    uplink = Uplink(config, "lane-a1", journal, clock=clock)
    async with running(hub.run()):
        await asyncio.sleep(0.2)
        async with running(uplink.run()):
            await until(lambda: journal.acked_through == 1)
            hub.silent = True  # from here on, only the uplink's own timer decides about resending
            clock.advance(60)  # the lane idles for a minute
            journal.append(make_event)
            uplink.notify()
            await until(lambda: 2 in hub.received)
            clock.advance(9)  # less than resend_after_s since seq 2 went out
            journal.append(make_event)
            uplink.notify()
            await until(lambda: 3 in hub.received)
            assert hub.received == [1, 2, 3]  # nothing was resent
            assert "hub silent" not in caplog.text
            clock.advance(2)  # 11 s since seq 2 went out, and still no ack: now it is resent
            uplink.notify()
            await until(lambda: len(hub.received) >= 5)
            assert hub.received == [1, 2, 3, 2, 3]
            assert "hub silent on seq 2..3 for 10s; resending" in caplog.text


async def test_a_hub_that_acknowledges_slowly_gets_longer_not_its_backlog_again(
    broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue 16: a hub minutes behind still acknowledges, only late; resending to it after 10 s
    # gave it its backlog again. A silent hub's 10 s is test_the_first_window_after_idling_...'s.
    clock = FakeClock(site_time(2026, 3, 2, 9))
    journal = Journal(tmp_path / "j.sqlite3")
    for _ in range(3):
        journal.append(make_event)
    hub = StandInHub(broker)
    hub.silent = True  # it acknowledges only what the test says, when it says
    config = MqttConfig(host=broker.host, port=broker.port, resend_after_s=10.0, resend_max_s=60.0)
    uplink = Uplink(config, "lane-a1", journal, clock=clock)

    async def ack(through: int) -> None:
        acked = StorageAck(device_id="lane-a1", through_seq=through, at=utc_now())
        async with aiomqtt.Client(broker.host, broker.port, identifier="slow-hub") as client:
            await client.publish(topic_for("lane-a1", Channel.ACK), encode(acked), qos=1)
        await until(lambda: uplink.hub_through == through)

    async def journal_one(seq: int) -> None:  # also lets the drain look at its timer once more
        journal.append(make_event)
        uplink.notify()
        await until(lambda: seq in hub.received)

    async with running(hub.run()):
        await asyncio.sleep(0.2)
        async with running(uplink.run()):
            await until(lambda: hub.received == [1, 2, 3])
            await ack(1)  # alive, but behind
            clock.advance(11)
            await journal_one(4)  # 11 s since its ack, which came in this run: 20 s allowed now
            clock.advance(1)
            await ack(2)  # it moved again since that allowance ran out
            clock.advance(21)
            await journal_one(5)  # 21 s since: it moved, so 40 s allowed
            clock.advance(18)
            await journal_one(6)  # 39 s: within the 40 s
            assert hub.received == [1, 2, 3, 4, 5, 6]  # nothing was resent
            assert "hub silent" not in caplog.text
            clock.advance(2)  # 41 s without an ack, and none since the 40 s were given: stuck, not slow
            uplink.notify()
            await until(lambda: len(hub.received) >= 10)
            assert hub.received[6:] == [3, 4, 5, 6]
            assert "hub silent on seq 3..6 for 40s; resending" in caplog.text  # the 40 s that ran out


async def test_broker_restart_loses_nothing(broker: Mosquitto, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    hub = StandInHub(broker)
    config = MqttConfig(host=broker.host, port=broker.port, resend_after_s=0.5, reconnect_window_s=0.5)
    uplink = Uplink(config, "lane-a1", journal, rng=random.Random(1))
    async with running(uplink.run()):
        for _ in range(5):
            journal.append(make_event)  # hub not there yet: these wait in the journal
        uplink.notify()
        await until(lambda: uplink.connected)
        broker.restart()
        for _ in range(5):
            journal.append(make_event)
        async with running(hub.run()):
            await until(lambda: uplink.connected, timeout=30)
            uplink.notify()
            await until(lambda: journal.backlog() == 0, timeout=30)
    assert set(hub.received) == set(range(1, 11))


async def test_down_channels_reach_their_handlers_and_replies_go_up(
    broker: Mosquitto, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    uplink = Uplink(MqttConfig(host=broker.host, port=broker.port), "lane-a1", journal)
    got: list[bytes] = []

    async def on_command(payload: bytes) -> None:
        got.append(payload)
        if payload == b"boom":
            raise RuntimeError("a broken handler must not drop the link")
        await uplink.send(Channel.COMMAND_RESULT, b"done:" + payload)

    subscribed = asyncio.Event()

    async def on_connect() -> None:
        subscribed.set()

    uplink.on(Channel.COMMAND, on_command)
    uplink.on_connect(on_connect)  # hooks run once the down channels are subscribed
    async with aiomqtt.Client(broker.host, broker.port, identifier="operator") as operator:
        await operator.subscribe(topic_for("lane-a1", Channel.COMMAND_RESULT), qos=1)
        async with running(uplink.run()):
            # Not ``uplink.connected``: that is set before the subscriptions, and a command sent in
            # between was lost (~1 run in 30).
            await asyncio.wait_for(subscribed.wait(), 10)
            for payload in (b"boom", b"resync"):
                await operator.publish(topic_for("lane-a1", Channel.COMMAND), payload, qos=1)
            async with asyncio.timeout(5):
                async for message in operator.messages:
                    assert message.payload == b"done:resync"
                    break
            assert got == [b"boom", b"resync"]
            assert uplink.connections == 1


def test_only_down_channels_take_handlers(tmp_path: Path) -> None:
    uplink = Uplink(MqttConfig(), "lane-a1", Journal(tmp_path / "j.sqlite3"))
    with pytest.raises(ValueError, match="not a down channel"):
        uplink.on(Channel.EVENT, lambda payload: asyncio.sleep(0))


async def test_on_connect_hooks_run_at_every_connection_and_a_failing_one_keeps_the_link(
    broker: Mosquitto, tmp_path: Path
) -> None:
    config = MqttConfig(host=broker.host, port=broker.port, reconnect_window_s=0.3)
    uplink = Uplink(config, "lane-a1", Journal(tmp_path / "j.sqlite3"), rng=random.Random(2))
    said: list[bool] = []

    async def report() -> None:
        said.append(await uplink.send(Channel.ROSTER_STATUS, b"{}"))  # sendable from inside the hook

    async def broken() -> None:
        raise RuntimeError("a bug in a hook")

    uplink.on_connect(broken)
    uplink.on_connect(report)
    async with running(uplink.run()):
        await until(lambda: said == [True])
        broker.restart()
        await until(lambda: uplink.connections == 2 and said == [True, True], timeout=30)
        assert uplink.connected


async def test_one_cancel_stops_the_uplink_even_when_its_disconnect_fails(
    broker: Mosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lane stopping as its link fails: aiomqtt's disconnect raises an MqttError in place of the
    cancel, which the reconnect loop took for a lost link and went round again (200 lanes of a test
    went on reconnecting after their one cancel until pytest-timeout)."""
    config = MqttConfig(host=broker.host, port=broker.port, reconnect_window_s=0.3)
    uplink = Uplink(config, "lane-a1", Journal(tmp_path / "j.sqlite3"), rng=random.Random(2))
    make_disconnects_fail(monkeypatch)
    task = asyncio.create_task(uplink.run())
    try:
        await until(lambda: uplink.connected)
        task.cancel()  # once, as a lane's shutdown does
        done, _ = await asyncio.wait([task], timeout=10)
        assert task in done and task.cancelled(), f"still running, {uplink.connections} connections"
    finally:
        monkeypatch.undo()  # a loop that took each cancel for a lost link stops at its next link
        await cancel_until_done([task], recancel_s=0.5)


async def test_a_full_disk_never_stops_the_uplink(broker: Mosquitto) -> None:
    """Issue 20: the generation bump and the forgetting on an ack fail on a full disk; the uplink
    still connects and drains, and forgets what the hub stored once space is back."""
    with small_disk() as disk:
        journal = Journal(disk.root / "j.sqlite3")
        for _ in range(20):
            journal.append(make_event)
        disk.fill()
        with pytest.raises(sqlite3.OperationalError):
            journal.next_generation()  # the fault is real: a write finds no room
        hub = StandInHub(broker)
        config = MqttConfig(host=broker.host, port=broker.port, window=8, resend_after_s=1.0)
        uplink = Uplink(config, "lane-a1", journal, rng=random.Random(1))
        try:
            async with running(hub.run()):
                await asyncio.sleep(0.2)
                async with running(uplink.run()) as (task,):
                    await until(lambda: sorted(set(hub.received)) == list(range(1, 21)) or task.done())
                    assert not task.done(), task.exception()
                    assert uplink.connections >= 1
                    assert journal.backlog() == 20  # nothing could be forgotten yet
                    disk.free()
                    await until(lambda: journal.backlog() == 0 or task.done())
                    assert not task.done(), task.exception()
                    assert journal.acked_through == 20
        finally:
            journal.close()


async def test_a_restored_hubs_resend_request_is_obeyed_once_and_for_this_lane_only(
    broker: Mosquitto, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    for _ in range(20):
        journal.append(make_event)
    hub = StandInHub(broker)
    uplink = Uplink(MqttConfig(host=broker.host, port=broker.port), "lane-a1", journal)

    async def say(device_id: str, through: int, epoch: int) -> None:
        request = ResendRequest(device_id=device_id, through_seq=through, epoch=epoch, at=utc_now())
        async with aiomqtt.Client(broker.host, broker.port, identifier="restored-hub") as client:
            await client.publish(topic_for("lane-a1", Channel.ACK), encode(request), qos=1)

    async with running(hub.run()):
        await asyncio.sleep(0.2)
        async with running(uplink.run()):
            await until(lambda: journal.acked_through == 20 and uplink.connected)
            await say("lane-b7", 0, epoch=7)  # another lane's word on this lane's topic: ignored
            await say("lane-a1", 5, epoch=7)
            await until(lambda: len(hub.received) == 35)  # seqs 6-20 again, kept after their ack
            assert sorted(hub.received[20:]) == list(range(6, 21)) and uplink.resent == 15
            await until(lambda: journal.acked_through == 20)
            await say("lane-a1", 5, epoch=7)  # the same restore again (a retained copy): nothing
            await asyncio.sleep(0.5)
    assert len(hub.received) == 35 and journal.resend_epoch == 7


async def test_a_lane_tells_a_restored_hub_which_events_it_no_longer_keeps(
    broker: Mosquitto, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "j.sqlite3", retention=Retention(max_events=4, min_free_mb=0))
    for _ in range(10):
        journal.append(make_event)
    hub = StandInHub(broker)
    uplink = Uplink(MqttConfig(host=broker.host, port=broker.port), "lane-a1", journal)
    gaps: list[JournalGap] = []

    async def hear_gaps() -> None:
        async with aiomqtt.Client(broker.host, broker.port, identifier="gap-listener") as client:
            await client.subscribe(subscription("up", Channel.JOURNAL_GAP), qos=1)
            async for message in client.messages:
                gap = decode(Channel.JOURNAL_GAP, message.payload)
                assert isinstance(gap, JournalGap)
                gaps.append(gap)

    async with running(hub.run(), hear_gaps()):
        await asyncio.sleep(0.2)
        async with running(uplink.run()):
            await until(lambda: journal.acked_through == 10 and uplink.connected)
            assert journal.kept() == 4  # seqs 7-10: 3-6 are past the journal's bound
            request = ResendRequest(device_id="lane-a1", through_seq=2, epoch=9, at=utc_now())
            async with aiomqtt.Client(broker.host, broker.port, identifier="restored-hub") as client:
                await client.publish(topic_for("lane-a1", Channel.ACK), encode(request), qos=1)
            await until(lambda: len(gaps) == 1 and len(hub.received) == 14)
            # The stand-in holds 1-10 already, so its next ack covers the gap: told no more.
            await until(lambda: journal.gap() is None)
    assert gaps == [JournalGap(device_id="lane-a1", from_seq=3, through_seq=6, epoch=9)]
    assert sorted(hub.received[10:]) == [7, 8, 9, 10] and journal.backlog() == 0
