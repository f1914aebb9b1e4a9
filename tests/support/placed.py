"""Lanes placed at gates, for tests that publish events: the hub attributes each event from its
device's placement (:mod:`hub.events.attribution`) and refuses an unplaced device's events."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update

from hub.store import Store
from hub.store.schema import gates
from tests.hub.factories import BASE_TIME
from tests.support.registry_rows import contractor_with_projects, place_gates

LANES = (("lane-t01", "proj-1"),)
"""The factories' defaults (:func:`tests.hub.factories.make_event`): device, project; lane ``A1``."""


async def place_lanes(
    store: Store, lanes: Iterable[tuple[str, str]] = LANES, *, lane: str = "A1", direction: str = "both"
) -> None:
    """Each (device, project) placed at a gate ``lane`` for ``direction`` (a gate for both
    directions takes the factories' ``in`` and ``out``)."""
    await place_at_gates(store, [(device, project, lane, direction) for device, project in lanes])


async def place_at_gates(store: Store, gates: Iterable[tuple[str, str, str, str]]) -> None:
    """Each (device, project, lane, direction) placed, its projects created under one contractor."""
    gates = list(gates)
    async with store.write("test placements") as conn:
        await contractor_with_projects(
            conn,
            sorted({project for _, project, _, _ in gates}),
            district="110199",
            district_name="Test district",
            gc_number="91110199000000000X",
            now=BASE_TIME,
        )
        await place_gates(conn, [(d, p, lane, direction, f"gate {d}") for d, p, lane, direction in gates])


async def make_office_readers(store: Store, device_ids: Iterable[str]) -> None:
    """The placed gates of ``device_ids`` made the site office's card readers (no direction): the
    hub takes card reads from these only (:mod:`hub.registration_reads`)."""
    async with store.write("test office readers") as conn:
        await conn.execute(
            update(gates)
            .where(gates.c.device_id.in_(list(device_ids)))
            .values(kind="office_reader", direction=None)
        )
