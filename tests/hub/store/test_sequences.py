"""The watermarks of a batch's devices read, locked and created at once (hub.store.sequences), both stores."""

from __future__ import annotations

from sqlalchemy import select

from hub.store import Store, sequences
from hub.store.schema import device_sequences


async def test_a_batch_of_known_and_new_devices_gets_every_watermark_once(store: Store) -> None:
    """One statement for the batch's devices whatever their number (issue 16): known devices keep
    their stored watermark, new ones start at 0, a device named twice is one row."""
    async with store.write("test") as conn:
        await conn.execute(
            device_sequences.insert(),
            [{"device_id": "lane-k", "contiguous_through": 5, "highest_seen": 7, "gap_count": 1}],
        )
    async with store.write("test") as conn:
        assert await sequences.lock_all(conn, ["lane-n2", "lane-k", "lane-n1", "lane-k"]) == {
            "lane-k": (5, 7),
            "lane-n1": (0, 0),
            "lane-n2": (0, 0),
        }
    async with store.write("test") as conn:
        assert await sequences.lock_all(conn, ["lane-k"]) == {"lane-k": (5, 7)}
        assert await sequences.lock_all(conn, ["lane-n1", "lane-n2"]) == {
            "lane-n1": (0, 0),
            "lane-n2": (0, 0),
        }
    async with store.read("test") as conn:
        rows = (await conn.execute(select(device_sequences).order_by(device_sequences.c.device_id))).all()
    assert [tuple(row) for row in rows] == [("lane-k", 5, 7, 1), ("lane-n1", 0, 0, 0), ("lane-n2", 0, 0, 0)]
