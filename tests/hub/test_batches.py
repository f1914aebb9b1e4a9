"""One ingest batch end to end on a real store, acks caught by a recording publisher (no broker)."""

from __future__ import annotations

import logging

import pytest

from hub.events.internal import InternalEventReads
from hub.inbound import Accepted
from hub.ingest import Ingest
from hub.store import JournalRecord, Store
from tests.hub.factories import make_event, make_lane_event
from tests.support.placed import place_lanes
from wire.codec import decode, encode
from wire.models import LaneEventType, StorageAck
from wire.topics import Channel, topic_for

EVENT_TOPIC = topic_for("lane-t01", Channel.EVENT)
PLACED = [("lane-t01", "proj-1"), ("lane-t02", "proj-1")]


class RecordingPublisher:
    def __init__(self) -> None:
        self.acks: list[tuple[str, StorageAck]] = []

    async def publish(self, topic: str, payload: bytes, qos: int = 0) -> None:
        # QoS 0: a watermark is cumulative, so the next ack (or the lane's resend) covers a lost
        # one, and no PUBACK wait can stall the batch loop behind the broker's backlog.
        assert qos == 0
        ack = decode(Channel.ACK, payload)
        assert isinstance(ack, StorageAck)
        self.acks.append((topic, ack))


def make_ingest(store: Store) -> Ingest:
    return Ingest(store, host="127.0.0.1", port=1, client_id="test-hub", share_group="test")


async def test_a_batch_is_stored_acknowledged_and_its_bad_input_dead_lettered(store: Store) -> None:
    ingest = make_ingest(store)
    await place_lanes(store, PLACED)
    publisher = RecordingPublisher()
    other = topic_for("lane-t02", Channel.EVENT)
    await ingest.handle_batch(
        publisher,
        [
            (EVENT_TOPIC, encode(make_event(1))),
            (EVENT_TOPIC, b"{"),
            (EVENT_TOPIC, encode(make_event(2))),
            (EVENT_TOPIC, encode(make_event(2))),
            (other, encode(make_event(7, device_id="lane-t02"))),
        ],
    )
    counters = ingest.counters
    assert (counters.accepted, counters.duplicates, counters.rejected, counters.batches) == (3, 1, 1, 1)
    assert sorted((topic, ack.device_id, ack.through_seq) for topic, ack in publisher.acks) == [
        (topic_for("lane-t01", Channel.ACK), "lane-t01", 2),
        (topic_for("lane-t02", Channel.ACK), "lane-t02", 0),
    ]
    [letter] = await InternalEventReads(store).dead_letters()
    assert (letter.topic, letter.payload_size) == (EVENT_TOPIC, 1)


async def test_a_row_the_database_refuses_does_not_hold_back_the_rest(store: Store) -> None:
    ingest = make_ingest(store)
    await place_lanes(store, PLACED)
    poison = make_event(2).model_copy(update={"mono_ns": 2**64})  # past classify's guard, on purpose
    items = [
        (Accepted(EVENT_TOPIC, b"synthetic", event), event)
        for event in (make_event(1), poison, make_event(3))
    ]
    watermarks = await ingest._store_events(items)
    assert watermarks == {"lane-t01": 1}
    assert ingest.counters.accepted == 2
    assert ingest.counters.rejected == 1
    [letter] = await InternalEventReads(store).dead_letters()
    assert "database refused" in letter.reason


async def test_both_kinds_in_one_batch_are_stored_and_acknowledged_together(store: Store) -> None:
    ingest = make_ingest(store)
    await place_lanes(store, PLACED)
    publisher = RecordingPublisher()
    records: list[JournalRecord] = [
        make_event(1),
        make_lane_event(2),
        make_event(3),
        make_lane_event(4, LaneEventType.NOT_PASSED),
    ]
    await ingest.handle_batch(publisher, [(EVENT_TOPIC, encode(r)) for r in records])
    counters = ingest.counters
    assert (counters.accepted, counters.lane_events, counters.rejected) == (4, 2, 0)
    assert [ack.through_seq for _, ack in publisher.acks] == [4]


async def test_a_seq_reused_by_the_other_kind_is_dead_lettered_not_counted_as_a_duplicate(
    store: Store,
) -> None:
    ingest = make_ingest(store)
    await place_lanes(store, PLACED)
    publisher = RecordingPublisher()
    reuse = make_lane_event(2, LaneEventType.TAMPER)
    await ingest.handle_batch(publisher, [(EVENT_TOPIC, encode(make_event(s))) for s in (1, 2)])
    await ingest.handle_batch(publisher, [(EVENT_TOPIC, encode(reuse))])
    counters = ingest.counters
    assert (counters.accepted, counters.duplicates, counters.rejected, counters.lane_events) == (2, 0, 1, 0)
    [letter] = await InternalEventReads(store).dead_letters()
    assert letter.reason == "seq 2 reused: this lane_event has the seq of a stored access_event"
    assert (letter.topic, letter.payload_size) == (EVENT_TOPIC, len(encode(reuse)))
    assert [ack.through_seq for _, ack in publisher.acks] == [2, 2]  # seq 2 itself is stored


async def test_an_alert_is_logged_once_as_a_warning(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    ingest = make_ingest(store)
    await place_lanes(store, PLACED)
    publisher = RecordingPublisher()
    alarm = encode(make_lane_event(1, LaneEventType.FIRE_ALARM))
    quiet = encode(make_lane_event(2, LaneEventType.LANE_DISABLED))
    with caplog.at_level(logging.WARNING, logger="hub.ingest"):
        await ingest.handle_batch(publisher, [(EVENT_TOPIC, alarm), (EVENT_TOPIC, quiet)])
        await ingest.handle_batch(publisher, [(EVENT_TOPIC, alarm)])  # resent: stored already
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "alert from lane-t01 lane A1: fire_alarm")
    ]


async def test_each_batch_reads_revocation_and_placement_afresh(store: Store) -> None:
    """Nothing the registry says is kept between batches: a lane revoked after one batch is refused
    at the next, let back in by its enrolment, and a gate moved to another project is obeyed."""
    from sqlalchemy import update

    from hub.devices.revocation import mark_enrolled, mark_revoked
    from hub.store.schema import gates
    from tests.hub.factories import BASE_TIME

    ingest = make_ingest(store)
    await place_lanes(store, [*PLACED, ("lane-t09", "proj-2")])
    publisher = RecordingPublisher()

    async def send(seq: int, project_id: str = "proj-1") -> None:
        await ingest.handle_batch(publisher, [(EVENT_TOPIC, encode(make_event(seq, project_id=project_id)))])

    await send(1)
    async with store.write("revoke") as conn:
        await mark_revoked(conn, "lane-t01", BASE_TIME)
    await send(2)
    assert (ingest.counters.accepted, ingest.counters.revoked) == (1, 1)
    async with store.write("enrol") as conn:
        await mark_enrolled(conn, "lane-t01", BASE_TIME)
    await send(2)
    async with store.write("move") as conn:
        await conn.execute(update(gates).where(gates.c.device_id == "lane-t01").values(project_id="proj-2"))
    await send(3, project_id="proj-2")
    assert (ingest.counters.accepted, ingest.counters.revoked, ingest.counters.rejected) == (3, 1, 0)
    assert [ack.through_seq for _, ack in publisher.acks] == [1, 2, 3]


async def test_a_resend_of_events_still_waiting_is_dropped_and_the_waiting_ones_acknowledged(
    store: Store,
) -> None:
    """A lane resending what the hub has not handled yet: the copies are dropped on arrival (not
    stored twice, not counted as duplicates), the events are stored once and acknowledged; a
    heartbeat, and a copy arriving after its original was taken, go through as before."""
    from tests.security.test_api_attacks import make_heartbeat

    ingest = make_ingest(store)
    await place_lanes(store, PLACED)
    publisher = RecordingPublisher()
    events = [(EVENT_TOPIC, encode(make_event(seq))) for seq in (1, 2)]
    beat = (topic_for("lane-t01", Channel.HEARTBEAT), encode(make_heartbeat(device_id="lane-t01")))
    await ingest._receive(publisher, [*events, beat])
    await ingest._receive(publisher, [*events, beat, (EVENT_TOPIC, encode(make_event(3)))])
    counters = ingest.counters
    assert (counters.resent_while_waiting, counters.waiting_events, counters.waiting_statuses) == (2, 3, 2)
    [batch] = [await anext(ingest._events.batches())]
    await ingest.handle_batch(publisher, batch)
    await ingest.handle_batch(publisher, events)  # resent after its originals were taken
    counters = ingest.counters
    assert (counters.accepted, counters.duplicates, counters.waiting_events) == (3, 2, 0)
    assert [ack.through_seq for _, ack in publisher.acks] == [3, 3]
