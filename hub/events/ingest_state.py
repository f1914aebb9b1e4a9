"""The ingest's own state: how far each device's journal is stored (sequence watermarks) and the
messages it refused (dead letters, without their bodies).

The hub's state, not anyone's record, so it has no row scope: the hub operator and the city
station read it whole and no other role reads it at all (:data:`HUB_STATE_ROLES`).
"""

from __future__ import annotations

from sqlalchemy import select

from hub.auth.permissions import HUB_ROLES
from hub.auth.principal import Principal
from hub.store import DeadLetter, SequenceState, Store
from hub.store.schema import dead_letters, device_sequences

HUB_STATE_ROLES = HUB_ROLES
"""The route table's role set of the ingest's endpoints (hub.auth.permissions)."""


class IngestState:
    """What the ingest keeps, for an account of :data:`HUB_STATE_ROLES`."""

    def __init__(self, store: Store, principal: Principal) -> None:
        """The route table lets only those roles in; an account of any other role here is a bug,
        refused rather than shown the hub's state."""
        if principal.role not in HUB_STATE_ROLES:
            raise PermissionError(f"a {principal.role.value} account does not read the ingest's state")
        self._store = store

    async def sequences(self) -> list[SequenceState]:
        return await sequences(self._store)

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        return await recent_dead_letters(self._store, limit)


async def sequences(store: Store) -> list[SequenceState]:
    """Every device's watermarks, by device id."""
    t = device_sequences.c
    query = select(t.device_id, t.contiguous_through, t.highest_seen, t.gap_count).order_by(t.device_id)
    async with store.read("sequences") as conn:
        rows = (await conn.execute(query)).all()
    return [SequenceState(**row._mapping) for row in rows]


async def recent_dead_letters(store: Store, limit: int) -> list[DeadLetter]:
    """Newest first, without payload bodies."""
    t = dead_letters.c
    query = select(t.id, t.received_at, t.topic, t.reason, t.payload_size).order_by(t.id.desc()).limit(limit)
    async with store.read("dead_letters") as conn:
        rows = (await conn.execute(query)).all()
    return [DeadLetter(**row._mapping) for row in rows]
