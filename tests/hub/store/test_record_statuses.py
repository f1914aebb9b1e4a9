"""A batch's heartbeats and presence notices in a few multi-row statements (issue 16) leave every
device and its heartbeat history exactly as the notices one at a time would."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from hub.store import Store
from hub.store.schema import devices, heartbeat_history
from tests.hub.factories import BASE_TIME
from wire.models import Heartbeat, PresenceState, PresenceStatus

RECEIVED = BASE_TIME + timedelta(minutes=5)


def messages(prefix: str, rng: random.Random) -> list[Heartbeat | PresenceStatus]:
    """Notices of four devices in a shuffled order: generations up and down, offline within a
    generation, several heartbeats of one device, a forged generation far ahead."""
    found: list[Heartbeat | PresenceStatus] = []
    for n in range(60):
        device = f"{prefix}-{rng.randrange(4)}"
        if rng.random() < 0.4:
            found.append(
                Heartbeat(
                    device_id=device,
                    sent_at=BASE_TIME + timedelta(seconds=n),
                    boot_id="boot-0001",
                    uptime_s=n,
                    free_disk_mb=100.0,
                    journal_backlog=n,
                    roster_version=n % 3,
                    reader_status={},
                    clock_synced=bool(n % 2),
                    software_version="1.0",
                )
            )
        else:
            generation = rng.choice([1, 2, 3, 2, 10**9])
            state = rng.choice([PresenceState.ONLINE, PresenceState.OFFLINE])
            found.append(PresenceStatus(device_id=device, state=state, generation=generation, at=BASE_TIME))
    return found


async def rows(store: Store, prefix: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    d, h = devices.c, heartbeat_history.c
    async with store.read("compare") as conn:
        kept = (await conn.execute(select(devices).where(d.device_id.like(f"{prefix}-%")))).all()
        history = (await conn.execute(select(heartbeat_history).where(h.device_id.like(f"{prefix}-%")))).all()
    strip = len(prefix)

    def unnamed(value: object) -> object:  # the heartbeat's own copy of its device id
        return {k: v for k, v in value.items() if k != "device_id"} if isinstance(value, dict) else value

    return (
        sorted((r.device_id[strip:], *(unnamed(v) for v in tuple(r)[1:])) for r in kept),
        sorted(
            (r.device_id[strip:], *(v for k, v in r._mapping.items() if k not in ("id", "device_id")))
            for r in history
        ),
    )


async def test_a_batch_leaves_what_the_notices_one_at_a_time_leave(store: Store) -> None:
    for seed in range(5):
        one, many = f"one{seed}", f"many{seed}"
        sequence = messages(one, random.Random(seed))
        for message in sequence:
            if isinstance(message, Heartbeat):
                await store.record_heartbeat(message, received_at=RECEIVED)
            else:
                await store.record_presence(message, received_at=RECEIVED)
        renamed = [m.model_copy(update={"device_id": many + m.device_id[len(one) :]}) for m in sequence]
        await store.record_statuses(renamed, received_at=RECEIVED)
        assert await rows(store, many) == await rows(store, one)
