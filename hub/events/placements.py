"""The registry's side of attribution (:mod:`hub.events.attribution`), read for one batch at once.

One query for the placements of every device in a batch, and one for the commands the batch's
``remote_open`` events name by id (none in the usual batch), with the ``remote_open`` already
stored for each: never a query per event, which the ingest's throughput could not afford.
Unscoped: the ingest is the hub itself.

The registry keeps a device's current placement only (``gates`` has no history), so "the
placement at the event's time" is the placement when the batch arrives; a gate deleted since
refuses its lane's late events.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events.attribution import OpenCommand, Placement, claimed, is_remote_open
from hub.store.bulk import PerDialect, among
from hub.store.schema import device_commands, gates, lane_events
from wire.models import AccessEvent, LaneEvent, LaneEventType


async def placements_of(conn: AsyncConnection, device_ids: Collection[str]) -> dict[str, Placement]:
    """The placed devices among ``device_ids``, by id; an unplaced device is absent."""
    if not device_ids:
        return {}
    rows = await conn.execute(_PLACEMENTS(conn), {"ids": sorted(device_ids)})
    return {row.device_id: Placement(*row) for row in rows.all()}


def _placements_query(dialect_name: str) -> Select[Any]:
    g = gates.c
    return select(g.device_id, g.project_id, g.lane, g.direction, g.kind).where(
        among(g.device_id, "ids", dialect_name)
    )


_PLACEMENTS = PerDialect(_placements_query)
"""Built once (the ingest asks at every batch of events)."""


async def open_commands_for(
    conn: AsyncConnection, records: Sequence[AccessEvent | LaneEvent]
) -> Mapping[str, OpenCommand]:
    """The hub's commands that the ``remote_open`` events in ``records`` name, by id, each with
    the seq of the device's ``remote_open`` that answers it (:func:`~hub.events.attribution.claimed`);
    no query when the batch holds none. An id the hub never issued is absent.

    The stored answer is found through ``lane_events``' (type, wall_time) index: ``remote_open``
    is a rare type, so the rows walked are the hub's remote opens, not the device's passages."""
    named = {r.command_id for r in records if is_remote_open(r) and r.command_id is not None}
    if not named:
        return {}
    c, e = device_commands.c, lane_events.c
    answer = and_(
        e.type == LaneEventType.REMOTE_OPEN.value, e.command_id == c.command_id, e.device_id == c.device_id
    )
    query = (
        select(c.command_id, c.device_id, c.action, c.operator, e.seq)
        .select_from(device_commands.outerjoin(lane_events, answer))
        .where(c.command_id.in_(sorted(named)))
        .order_by(c.command_id, e.seq)
    )
    found: dict[str, OpenCommand] = {}
    for command_id, device_id, action, operator, seq in (await conn.execute(query)).all():
        answered_by = None if seq is None else int(seq)
        found.setdefault(command_id, OpenCommand(command_id, device_id, action, operator, answered_by))
    return claimed(found.values(), records)
