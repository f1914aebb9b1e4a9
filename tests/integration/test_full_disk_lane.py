"""A lane whose disk fills up, on real parts (issue 20): a real lane with its journal on a small
tmpfs, a real mosquitto, the hub on SQLite.

While the disk is full the lane refuses to open unrecorded (as it must) and says "system fault,
call the site office", its uplink keeps its link (across a broker restart too) and drains what it
holds, its heartbeat tells the hub; once space returns its fault clears without a swipe and the
next swipe reaches the hub. Nothing is lost or duplicated.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from controller.core.indication import SYSTEM_FAULT, Indication
from hardware.emulators.identities import synthetic_identity
from hub.api.keys import STORE
from hub.store.schema import access_events, devices
from sitegate.mosquitto import Mosquitto
from tests.integration.test_clock_step_to_hub import Lane, make_lane, present, started_hub
from tests.support.disk import SmallDisk, small_disk

pytestmark = [pytest.mark.broker, pytest.mark.serial]


async def until(predicate: Callable[[], Awaitable[bool]], within_s: float = 20.0) -> None:
    deadline = time.monotonic() + within_s
    while not await predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@pytest.fixture
async def world(
    broker: Mosquitto, tmp_path: Path
) -> AsyncIterator[tuple[TestClient, Lane, SmallDisk, object]]:
    client = await started_hub(broker, tmp_path)
    person = synthetic_identity(random.Random(9))
    with small_disk("3m") as disk:
        lane = make_lane(disk.root / "lane", "lane-df-in", "in", broker, person, "boot-df-00000001")
        reader = lane.service.sources[0]
        await reader.__aenter__()  # type: ignore[attr-defined]
        task = asyncio.create_task(lane.service.run())
        try:
            yield client, lane, disk, person
            assert not task.done(), task.exception()  # the lane never went down
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await reader.__aexit__(None, None, None)  # type: ignore[attr-defined]
            lane.service.outputs.close()
            lane.service.journal.close()
            lane.emulator.close()
            await client.close()


async def test_a_full_lane_disk_is_a_reported_fault_that_clears_by_itself(world, broker: Mosquitto) -> None:
    hub, lane, disk, person = world
    service, uplink = lane.service, lane.service.uplink
    assert uplink is not None
    shown: list[Indication] = []
    real_indicate = service.outputs.indicate

    def indicate(indication: Indication) -> None:
        shown.append(indication)
        real_indicate(indication)

    service.outputs.indicate = indicate  # type: ignore[method-assign]

    async def stored_seqs() -> list[int]:
        async with hub.app[STORE].read("test") as conn:
            return sorted((await conn.execute(select(access_events.c.seq))).scalars())

    async def journal_fault_at_hub() -> bool | None:
        async with hub.app[STORE].read("test") as conn:
            beat = (await conn.execute(select(devices.c.last_heartbeat))).scalar_one_or_none()
        return None if beat is None else bool(beat.get("journal_fault"))

    first = await present(lane, person)
    assert first.reason.value == "granted"
    await until(lambda: _eq(stored_seqs(), [first.seq]))

    disk.fill()
    refused_at = len(lane.events)
    lane.emulator.present(person)
    await until(lambda: _true(lambda: SYSTEM_FAULT in shown))
    lane.emulator.remove()
    assert len(lane.events) == refused_at  # nothing recorded, so nothing opened
    assert service.problems()
    await until(journal_fault_at_hub)  # the heartbeat says so

    connections = uplink.connections
    await asyncio.to_thread(broker.restart)  # a new connection needs a new generation: no room for it
    await until(lambda: _true(lambda: uplink.connections > connections and uplink.connected), within_s=90)

    disk.free()
    await until(lambda: _true(lambda: service.problems() == []))  # no swipe needed
    second = await present(lane, person)
    assert second.decision.value == "granted"
    await until(lambda: _eq(stored_seqs(), [first.seq, second.seq]))
    await until(lambda: _not(journal_fault_at_hub()))
    await until(lambda: _true(lambda: service.journal.backlog() == 0))


async def _eq(value: Awaitable[object], expected: object) -> bool:
    return await value == expected


async def _not(value: Awaitable[object]) -> bool:
    return await value is False


async def _true(check: Callable[[], bool]) -> bool:
    return check()
