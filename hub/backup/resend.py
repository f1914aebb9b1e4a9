"""A restored hub asks every lane for what its backup lacks (invariant 11).

At start, when the state directory holds a restore marker (:mod:`hub.backup.marker`), the hub
publishes to every lane it knows (a watermark, an enrolment, a gate) a
:class:`wire.models.ResendRequest`: the lane's contiguous watermark in the restored database and
the restore's epoch. Retained, on the lane's ack topic: a lane offline now finds it when it
connects. The lane moves its journal back to that watermark (once per epoch) and sends again
what it kept after it; the (device, seq) uniqueness stores each event once whatever comes twice.

Asked at every start while the marker is there (it stays until the next restore), with the
watermark of that moment: cheap (a message per lane), and safe (a lane that already acted on the
epoch ignores it; a hole the lane has not filled yet keeps the watermark where it was).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select, union

from hub.backup.marker import read_marker
from hub.lane_sender import LaneSender, Sender
from hub.store import Store
from hub.store.schema import device_sequences, devices, gates
from wire.clock import Clock
from wire.codec import encode
from wire.models import ResendRequest
from wire.topics import Channel

log = logging.getLogger(__name__)

IN_FLIGHT = 64
"""Publishes under way at once: a city's thousands of lanes asked without flooding the link."""


async def watermarks(store: Store) -> dict[str, int]:
    """Every known lane's contiguous watermark in this database (0 for a lane with none yet)."""
    known = union(
        select(device_sequences.c.device_id), select(devices.c.device_id), select(gates.c.device_id)
    ).subquery()
    async with store.read("restored watermarks") as conn:
        through = {
            str(d): int(t)
            for d, t in await conn.execute(
                select(device_sequences.c.device_id, device_sequences.c.contiguous_through)
            )
        }
        ids = [str(d) for (d,) in await conn.execute(select(known.c.device_id))]
    return {device: through.get(device, 0) for device in ids}


async def ask_lanes_to_resend(store: Store, sender: Sender, state_dir: Path, *, clock: Clock) -> int:
    """Publish the restore's resend requests, if this hub was restored; returns how many lanes
    the broker took one for (0: never restored)."""
    marker = read_marker(state_dir)
    if marker is None:
        return 0
    lanes = LaneSender(sender, in_flight=IN_FLIGHT)
    at = clock.wall()

    async def ask(device_id: str, through: int) -> bool:
        request = ResendRequest(device_id=device_id, through_seq=through, epoch=marker.epoch, at=at)
        return await lanes.send(device_id, Channel.ACK, encode(request), what="resend request", retain=True)

    marks = await watermarks(store)
    asked = sum(await asyncio.gather(*(ask(device, through) for device, through in sorted(marks.items()))))
    log.warning(
        "hub restored %s from a backup of %s: asked %d of %d lanes to resend (epoch %d)",
        marker.restored_at.isoformat(timespec="seconds"),
        marker.taken_at.isoformat(timespec="seconds"),
        asked,
        len(marks),
        marker.epoch,
    )
    return asked


async def ask_once_connected(
    store: Store, sender: Sender, state_dir: Path, *, clock: Clock, connected: Callable[[], Awaitable[None]]
) -> None:
    """:func:`ask_lanes_to_resend` once the hub's broker link is up (a task of the hub's start)."""
    await connected()
    await ask_lanes_to_resend(store, sender, state_dir, clock=clock)
