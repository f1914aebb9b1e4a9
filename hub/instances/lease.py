"""Each hub instance's lease on the database, and the ownership it implies (:mod:`hub.instances.ownership`).

An instance writes its row in ``hub_instances`` at start and renews it every ``ttl_s / 3``
(:class:`Membership`); its lease runs ``ttl_s`` from its last renewal, so a live instance's lease
never runs out unless three renewals in a row fail. A stopping instance deletes its row: the others
take its projects at their next renewal, not a TTL later. A killed one's lease runs out.

Each renewal reads the live leases back in the same transaction, its own always among them (it
was just renewed), and when the live set differs from the last one the listeners are told (the
ownership before and after): the roster publisher's start-up step for the projects newly owned
(hub.app). The site relay reads :meth:`Membership.owns` at each of its ticks.

Times are the hub's clock (``Clock.wall``: comparable between hosts, unlike monotonic readings);
instances on hosts whose clocks disagree by a good part of the TTL would disagree on who is live.
A renewal that fails (the database away) keeps the last ownership: two instances may then both
act for a project for a while, which is what a single hub's work already tolerates (a roster sent
twice, a site sync twice), never none for long.

PostgreSQL only: it is the store of instances that scale out. An SQLite hub is alone by
construction and owns everything, with no lease at all (:meth:`Membership.alone`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import delete, select

from hub.errors import HubError
from hub.instances.ownership import Ownership
from hub.store import Store
from hub.store.dialect import insert_for
from hub.store.schema import hub_instances
from sitegate.tasks import cancel_until_done
from wire.clock import Clock

log = logging.getLogger(__name__)

LEASE_TTL_S = 15.0
"""How long a lease lasts after its renewal: three renewals (one every 5 s)."""
FORGOTTEN_AFTER = timedelta(hours=1)
"""A lease expired this long ago (a killed instance with a random id) is deleted by the next renewal."""

Listener = Callable[[Ownership, Ownership], Awaitable[None]]
"""Told the ownership before and after a change of the live instances."""


class Lease:
    """One instance's row: the I/O of :class:`Membership`."""

    def __init__(self, store: Store, instance_id: str, *, clock: Clock, ttl_s: float = LEASE_TTL_S) -> None:
        self._store = store
        self.instance_id = instance_id
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_s)
        self._started = clock.wall()

    async def renew(self) -> frozenset[str]:
        """Renew this instance's lease (written at the first call); the live instances' ids."""
        now = self._clock.wall()
        c = hub_instances.c
        insert = insert_for(self._store.dialect_name)(hub_instances)
        upsert = insert.values(
            instance_id=self.instance_id, started_at=self._started, renewed_at=now, expires_at=now + self._ttl
        ).on_conflict_do_update(
            index_elements=["instance_id"],
            set_={"renewed_at": insert.excluded.renewed_at, "expires_at": insert.excluded.expires_at},
        )
        async with self._store.write("instance lease") as conn:
            await conn.execute(upsert)
            await conn.execute(delete(hub_instances).where(c.expires_at < now - FORGOTTEN_AFTER))
            live = await conn.execute(select(c.instance_id).where(c.expires_at > now))
            return frozenset(str(instance) for instance in live.scalars()) | {self.instance_id}

    async def release(self) -> None:
        """Delete this instance's row: the others own its projects from their next renewal."""
        async with self._store.write("instance lease release") as conn:
            await conn.execute(delete(hub_instances).where(hub_instances.c.instance_id == self.instance_id))


class Membership:
    """This instance's ownership, kept current by renewing its :class:`Lease` (``async with``)."""

    def __init__(self, lease: Lease | None, instance_id: str, *, renew_s: float = LEASE_TTL_S / 3) -> None:
        """``lease`` None: alone, owning everything (:meth:`alone`)."""
        self._lease = lease
        self._renew_s = renew_s
        self.ownership = Ownership.alone(instance_id)
        self._listeners: list[Listener] = []
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def alone(cls, instance_id: str) -> Membership:
        return cls(None, instance_id)

    @classmethod
    def on(cls, store: Store, instance_id: str, *, clock: Clock, ttl_s: float = LEASE_TTL_S) -> Membership:
        """A lease on PostgreSQL; alone on SQLite (see the module's docstring)."""
        if store.dialect_name != "postgresql":
            return cls.alone(instance_id)
        return cls(Lease(store, instance_id, clock=clock, ttl_s=ttl_s), instance_id, renew_s=ttl_s / 3)

    def owns(self, project_id: str) -> bool:
        return self.ownership.owns(project_id)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def __aenter__(self) -> Membership:
        """The first renewal, so the ownership is known before the start-up work asks it; a failure
        leaves the instance alone until a renewal succeeds."""
        if self._lease is not None:
            await self.renew()
            self._task = asyncio.create_task(self._keep(), name="instance-lease")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.leave()

    async def leave(self) -> None:
        """Stop renewing and delete the lease (once; again does nothing): the others take this
        instance's projects at their next renewal, while it finishes stopping."""
        lease, self._lease = self._lease, None
        if self._task is not None:
            await cancel_until_done([self._task])
            self._task = None
        if lease is not None:
            try:
                await lease.release()
            except HubError as err:  # the lease runs out by itself
                log.warning("instance lease not released (%s): the others take over within its TTL", err)

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self._renew_s)
            await self.renew()

    async def renew(self) -> bool:
        """One renewal; whether the live instances changed (the listeners have then been told)."""
        lease = self._lease
        if lease is None:  # alone, or left
            return False
        try:
            live = await lease.renew()
        except HubError as err:
            log.warning("instance lease not renewed (%s): the ownership stays as it was", err)
            return False
        before = self.ownership
        if live == before.instances:
            return False
        self.ownership = Ownership(before.me, live)
        log.info("hub instances live: %d (this one owns its share of the projects)", len(live))
        for listener in self._listeners:
            try:
                await listener(before, self.ownership)
            except HubError as err:
                log.error("the change of the instances' ownership not acted on: %s", err)
            except Exception:
                log.exception("the change of the instances' ownership not acted on")
        return True
