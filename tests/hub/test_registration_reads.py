"""The office readers' reads at the hub: held in memory, attributed from the registry, expired."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from controller.registration import office_read
from hardware.emulators.identities import synthetic_identity
from hub.registration_reads import KEEP_S, CardReadIngest, CardReads
from hub.store import Store
from hub.store.schema import dead_letters, devices
from tests.support.clock import FakeClock
from tests.support.placed import make_office_readers, place_at_gates
from wire.codec import encode
from wire.models import OfficeCardRead
from wire.topics import Channel, topic_for

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def a_read(device_id: str = "office-1", read_id: str = "1" * 32, seed: int = 1) -> OfficeCardRead:
    """A synthetic card as an office reader sends it (controller.registration)."""
    card = synthetic_identity(random.Random(seed))
    return office_read(card, device_id=device_id, read_id=read_id, now=NOW, synced=True)


def test_a_reader_holds_its_latest_read_and_a_duplicate_once() -> None:
    reads = CardReads(clock=FakeClock(NOW))
    first = reads.hold(a_read(), project_id="P1", lane="O1")
    assert first is not None and reads.hold(a_read(), project_id="P1", lane="O1") is None
    second = reads.hold(a_read(read_id="2" * 32, seed=2), project_id="P1", lane="O1")
    assert second is not None and second.number > first.number
    assert [h.read.read_id for h in reads.since("P1")] == ["2" * 32]  # the latest only
    assert reads.since("P1", after=second.number) == []
    assert reads.since("P2") == []  # another project's form sees nothing of it
    assert reads.counters.duplicates == 1


def test_a_read_expires_on_the_hubs_clock() -> None:
    clock = FakeClock(NOW)
    reads = CardReads(clock=clock)
    reads.hold(a_read(), project_id="P1", lane="O1")
    clock.advance(timedelta(seconds=KEEP_S - 1))
    assert len(reads.since("P1")) == 1
    clock.advance(timedelta(seconds=2))
    assert reads.since("P1") == []


def test_numbers_grow_across_a_restart() -> None:
    """A form passes ``after`` back: a restarted hub's first read must still be newer."""
    clock = FakeClock(NOW)
    before = CardReads(clock=clock).hold(a_read(), project_id="P1", lane="O1")
    clock.advance(1)
    after = CardReads(clock=clock).hold(a_read(), project_id="P1", lane="O1")
    assert before is not None and after is not None and after.number > before.number


async def test_a_waiting_form_wakes_at_the_read_and_times_out_without_one() -> None:
    reads = CardReads(clock=FakeClock(NOW))
    assert await reads.wait("P1", 0, 0.05) == []
    waiting = asyncio.create_task(reads.wait("P1", 0, 5))
    await asyncio.sleep(0.01)
    reads.hold(a_read(device_id="office-2"), project_id="P2", lane="O1")  # another project: still waits
    await asyncio.sleep(0.01)
    assert not waiting.done()
    reads.hold(a_read(), project_id="P1", lane="O1")
    [held] = await asyncio.wait_for(waiting, 1)
    assert held.read.device_id == "office-1"


async def test_a_waiting_form_is_answered_empty_when_the_hub_stops() -> None:
    reads = CardReads(clock=FakeClock(NOW))
    waiting = asyncio.create_task(reads.wait("P1", 0, 600))
    await asyncio.sleep(0.01)
    reads.close()
    assert await asyncio.wait_for(waiting, 5) == []  # a bound against a hang, not the ten minutes
    assert await reads.wait("P1", 0, 600) == []  # and a form that asks while it stops


async def _dead_letters(store: Store) -> int:
    async with store.read("test") as conn:
        return int(await conn.scalar(select(func.count()).select_from(dead_letters)) or 0)


async def test_the_ingest_attributes_from_the_registry_and_never_keeps_a_refusal(store: Store) -> None:
    await place_at_gates(store, [("office-1", "P1", "O1", "in"), ("office-r", "P1", "O2", "in")])
    await make_office_readers(store, ["office-1", "office-r"])
    async with store.write("revoke") as conn:
        await conn.execute(devices.insert().values(device_id="office-r", revoked_at=NOW))
    reads = CardReads(clock=FakeClock(NOW))
    handler = CardReadIngest(store, reads)
    for device in ("office-1", "office-r", "office-x"):  # placed; placed but revoked; never placed
        read = a_read(device_id=device)
        assert await handler(topic_for(device, Channel.CARD_READ), encode(read)) is None
    # one device speaking for another, and a payload that is not a read
    assert await handler(topic_for("office-x", Channel.CARD_READ), encode(a_read(read_id="3" * 32))) is None
    assert await handler(topic_for("office-1", Channel.CARD_READ), b'{"kind": "card_read"}') is None
    [held] = reads.since("P1")
    assert (held.read.device_id, held.project_id, held.lane) == ("office-1", "P1", "O1")
    assert reads.counters.refused == 4
    assert await _dead_letters(store) == 0  # a card's text never reaches the database


@pytest.mark.parametrize("field", ["id_number", "name"])
def test_the_reads_repr_carries_no_personal_data(field: str) -> None:
    read = a_read()
    assert getattr(read, field) not in repr(read) and getattr(read, field) not in str(read)
