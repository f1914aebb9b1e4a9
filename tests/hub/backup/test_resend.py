"""A restored hub's resend requests: one per known lane, at its watermark, retained; none unrestored."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from hub.backup.marker import write_marker
from hub.backup.resend import ask_lanes_to_resend
from hub.store import Store
from hub.store.schema import device_sequences
from tests.support.clock import FakeClock
from tests.support.placed import place_lanes
from wire.codec import decode
from wire.models import ResendRequest
from wire.topics import Channel, topic_for

AT = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


class Sent:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []

    async def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        self.messages.append((topic, payload, retain))


async def test_a_restored_hub_asks_every_lane_from_its_watermark(store: Store, tmp_path: Path) -> None:
    await place_lanes(store, [("lane-r1", "proj-1"), ("lane-r2", "proj-1")])
    async with store.write("test") as conn:
        await conn.execute(
            insert(device_sequences).values(
                device_id="lane-r1", contiguous_through=41, highest_seen=45, gap_count=2
            )
        )
    sent = Sent()
    assert await ask_lanes_to_resend(store, sent, tmp_path, clock=FakeClock(AT)) == 0  # never restored
    assert sent.messages == []

    marker = write_marker(tmp_path, taken_at=AT)
    assert await ask_lanes_to_resend(store, sent, tmp_path, clock=FakeClock(AT)) == 2
    requests = {topic: decode(Channel.ACK, payload) for topic, payload, retain in sent.messages if retain}
    assert requests == {
        topic_for(device, Channel.ACK): ResendRequest(
            device_id=device, through_seq=through, epoch=marker.epoch, at=AT
        )
        for device, through in (("lane-r1", 41), ("lane-r2", 0))  # a placed lane with nothing stored: 0
    }
