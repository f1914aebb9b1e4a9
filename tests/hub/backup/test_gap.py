"""A lane's journal gap at the hub: taken only under the restore it names, only for the seqs the
hub really lacks (watermark moved over them, acknowledged, audited, alerted), refused otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.auth.principal import Principal, Role
from hub.backup.gap import GapIngest, missing
from hub.backup.marker import write_marker
from hub.backup.resend import watermarks
from hub.events.journal import store_events
from hub.store import Store
from hub.store.schema import audit_log, device_sequences
from hub.workflows.alerts import Alerts, AlertSettings
from tests.hub.backup.test_resend import Sent
from tests.hub.factories import make_event
from tests.support.clock import FakeClock
from tests.support.placed import place_lanes
from wire.codec import decode, encode
from wire.models import JournalGap, StorageAck
from wire.topics import Channel, topic_for

AT = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
LANE = "lane-t01"
CITY = Principal(1, "city", Role.CITY)


def claim(from_seq: int, through_seq: int, epoch: int, device_id: str = LANE) -> bytes:
    return encode(JournalGap(device_id=device_id, from_seq=from_seq, through_seq=through_seq, epoch=epoch))


async def stored(store: Store, device_id: str, seqs: range | list[int]) -> None:
    await store_events(store, [make_event(seq, device_id=device_id) for seq in seqs])


async def sequence_row(store: Store, device_id: str = LANE) -> tuple[int, int, int]:
    s = device_sequences.c
    async with store.read("test") as conn:
        row = (
            await conn.execute(
                select(s.contiguous_through, s.highest_seen, s.gap_count).where(s.device_id == device_id)
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


def acks(sent: Sent) -> list[StorageAck]:
    return [
        message
        for _, payload, _ in sent.messages
        if isinstance(message := decode(Channel.ACK, payload), StorageAck)
    ]


@pytest.mark.parametrize(
    ("watermark", "first_held", "taken"),
    [
        (3, 8, (4, 7)),  # only what the hub lacks: it holds 8 on
        (3, None, (4, 9)),  # it holds nothing after: the claim's end
        (5, 8, (6, 7)),  # the watermark moved meanwhile (resent events): from there
        (9, None, (10, 9)),  # all of it below the watermark: nothing (a repeat)
        (2, 8, None),  # the claim starts above seq 3, which the hub lacks: not a gap it may take
    ],
)
def test_what_the_hub_takes_of_a_claim(
    watermark: int, first_held: int | None, taken: tuple[int, int] | None
) -> None:
    gap = JournalGap(device_id=LANE, from_seq=4, through_seq=9, epoch=1)
    assert missing(gap, watermark, first_held) == taken


async def test_a_gap_is_taken_under_its_restore_only_for_what_is_missing(
    store: Store, tmp_path: Path
) -> None:
    await place_lanes(store)
    await stored(store, LANE, [1, 2, 3, 8, 9, 10])
    sent = Sent()
    gaps = GapIngest(store, sent, tmp_path, clock=FakeClock(AT))
    topic = topic_for(LANE, Channel.JOURNAL_GAP)

    # Never restored: a device cannot skip seqs with it.
    assert "not restored" in (await gaps(topic, claim(4, 7, epoch=5)) or "")
    marker = write_marker(tmp_path, taken_at=AT - timedelta(days=9))
    assert "another restore" in (await gaps(topic, claim(4, 7, epoch=marker.epoch - 1)) or "")
    assert "differs" in (
        await gaps(topic_for("lane-x9", Channel.JOURNAL_GAP), claim(4, 7, marker.epoch)) or ""
    )
    assert await sequence_row(store) == (3, 10, 4) and sent.messages == []

    # Under the restore: 4-7 taken (not 8-9, which the hub holds), the watermark over them and on.
    assert await gaps(topic, claim(4, 9, marker.epoch)) is None
    assert await sequence_row(store) == (10, 10, 0)
    assert acks(sent) == [StorageAck(device_id=LANE, through_seq=10, at=AT)]
    assert await watermarks(store) == {LANE: 10}  # what a later start asks the lane from

    # Said again (a reconnection): nothing more, acknowledged again; another claim: refused.
    assert await gaps(topic, claim(4, 9, marker.epoch)) is None
    assert [a.through_seq for a in acks(sent)] == [10, 10]
    assert "second" in (await gaps(topic, claim(11, 40, marker.epoch)) or "")
    assert await sequence_row(store) == (10, 10, 0)
    counters = gaps.counters
    assert (counters.taken, counters.lost, counters.refused) == (1, 4, 4)

    async with store.read("test") as conn:
        lines = (
            await conn.execute(select(audit_log.c.username, audit_log.c.target, audit_log.c.detail))
        ).all()
    assert [(u, t, d["from_seq"], d["through_seq"], d["count"]) for u, t, d in lines] == [
        ("hub", LANE, 4, 7, 4)
    ]
    found = await Alerts(store, CITY, AlertSettings()).alerts(now=AT + timedelta(hours=1))
    gap_alerts = [a for a in found if a.kind == "journal_gap"]
    assert [
        (a.subject, a.details["count"], a.details["from_seq"], a.details["through_seq"]) for a in gap_alerts
    ] == [(LANE, 4, 4, 7)]


async def test_a_gap_that_does_not_start_at_the_watermark_is_refused(store: Store, tmp_path: Path) -> None:
    await place_lanes(store)
    await stored(store, LANE, [1, 2, 3, 8])
    marker = write_marker(tmp_path, taken_at=AT)
    gaps = GapIngest(store, Sent(), tmp_path, clock=FakeClock(AT))
    reason = await gaps(topic_for(LANE, Channel.JOURNAL_GAP), claim(6, 7, marker.epoch))
    assert reason is not None and "watermark" in reason  # 4 and 5: the lane never said they are gone
    assert await sequence_row(store) == (3, 8, 4)


async def test_a_backup_holding_seqs_between_holes_loses_only_the_holes(store: Store, tmp_path: Path) -> None:
    await place_lanes(store)
    await stored(store, LANE, [1, 2, 3, 6, 9, 10])  # taken while a batch was being stored
    marker = write_marker(tmp_path, taken_at=AT)
    sent = Sent()
    gaps = GapIngest(store, sent, tmp_path, clock=FakeClock(AT))
    assert await gaps(topic_for(LANE, Channel.JOURNAL_GAP), claim(4, 8, marker.epoch)) is None
    assert await sequence_row(store) == (10, 10, 0)
    assert [a.through_seq for a in acks(sent)] == [10]
    assert (gaps.counters.taken, gaps.counters.lost) == (1, 4)  # 4, 5, 7 and 8
