"""The registry's side of attribution (:mod:`hub.events.attribution`), read for one batch at once.

One query for the placements of every device in a batch, and one for the ``remote_open`` commands
of the devices whose batch holds a ``remote_open`` (none in the usual batch): never a query per
event, which the ingest's throughput could not afford. Unscoped: the ingest is the hub itself.

The registry keeps a device's current placement only (``gates`` has no history), so "the
placement at the event's time" is the placement when the batch arrives; a gate deleted since
refuses its lane's late events.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events.attribution import COMMAND_CLOCK_SLACK, OpenCommand, Placement
from hub.store.schema import device_commands, gates
from wire.commands import Action
from wire.models import AccessEvent, LaneEvent, LaneEventType


async def placements_of(conn: AsyncConnection, device_ids: Collection[str]) -> dict[str, Placement]:
    """The placed devices among ``device_ids``, by id; an unplaced device is absent."""
    if not device_ids:
        return {}
    g = gates.c
    query = select(g.device_id, g.project_id, g.lane, g.direction).where(g.device_id.in_(sorted(device_ids)))
    return {row.device_id: Placement(*row) for row in (await conn.execute(query)).all()}


async def open_commands_for(
    conn: AsyncConnection, records: Sequence[AccessEvent | LaneEvent]
) -> Mapping[str, list[OpenCommand]]:
    """The ``remote_open`` commands the hub issued to each device that reports a ``remote_open``
    in ``records``, around those events' times; no query when none does."""
    opens = [r for r in records if isinstance(r, LaneEvent) and r.type is LaneEventType.REMOTE_OPEN]
    if not opens:
        return {}
    earliest = min(r.wall_time for r in opens) - COMMAND_CLOCK_SLACK
    latest = max(r.wall_time for r in opens) + COMMAND_CLOCK_SLACK
    c = device_commands.c
    query = select(c.device_id, c.operator, c.issued_at, c.expires_at).where(
        c.device_id.in_(sorted({r.device_id for r in opens})),
        c.action == Action.REMOTE_OPEN.value,
        c.issued_at <= latest,
        c.expires_at >= earliest,
    )
    found: dict[str, list[OpenCommand]] = {}
    for device_id, operator, issued_at, expires_at in (await conn.execute(query)).all():
        found.setdefault(device_id, []).append(OpenCommand(operator, issued_at, expires_at))
    return found
