"""Hub instances on one PostgreSQL: leases renewed on the hub's clock, projects split between the
live instances, taken over when a lease runs out or is released, and published by the new owner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hub.app import taking_over
from hub.instances import Lease, Membership, Ownership
from hub.rosters import MemorySource, RosterLedger, RosterPublisher
from hub.store import Store
from hub.store.schema import hub_instances
from tests.hub.clocked import NOON
from tests.roster.support import KEY, people
from tests.support.clock import FakeClock
from wire.roster import decode_roster

TTL_S = 15.0
PROJECTS = [f"P-OWN-{n:02d}" for n in range(24)]


class Source(MemorySource):
    async def projects_with_lanes(self) -> list[str]:
        return list(PROJECTS)


class Recorder:
    """The lanes a publisher sent a roster to."""

    def __init__(self) -> None:
        self.lanes: set[str] = set()

    async def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        decode_roster(payload)
        self.lanes.add(topic.split("/")[3])


def lane(project_id: str) -> str:
    return f"lane-{project_id.lower()}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOON)


@pytest.fixture
async def store(postgres_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    async with await Store.open(postgres_url, clock=clock) as opened:
        yield opened


@pytest.fixture
def source() -> Source:
    source = Source()
    for project_id in PROJECTS:
        for credential_hash, fields in people(3):
            source.put(project_id, credential_hash, **fields)
        source.assign(project_id, lane(project_id))
    return source


@pytest.fixture
async def ledger(postgres_url: str) -> AsyncIterator[RosterLedger]:
    opened = await RosterLedger.open(postgres_url)
    yield opened
    await opened.close()


def member(store: Store, clock: FakeClock, instance_id: str) -> Membership:
    """Renewed by the test (``renew``), not by its own task every few seconds."""
    return Membership(Lease(store, instance_id, clock=clock, ttl_s=TTL_S), instance_id)


pytestmark = pytest.mark.postgres


async def test_two_instances_split_the_projects_disjointly_and_cover_all(
    store: Store, clock: FakeClock
) -> None:
    one, two = member(store, clock, "sitegate.hub"), member(store, clock, "sitegate.hub.2")
    await one.renew()
    assert one.ownership.is_alone  # the second has not started yet
    await two.renew()
    await one.renew()
    assert one.ownership == Ownership("sitegate.hub", frozenset({"sitegate.hub", "sitegate.hub.2"}))
    ones = {p for p in PROJECTS if one.owns(p)}
    twos = {p for p in PROJECTS if two.owns(p)}
    assert ones and twos and not ones & twos and ones | twos == set(PROJECTS)


async def test_an_expired_lease_moves_its_projects_to_the_survivor_who_publishes_them(
    store: Store, clock: FakeClock, source: Source, ledger: RosterLedger
) -> None:
    killed, survivor = member(store, clock, "hub-killed"), member(store, clock, "hub-survivor")
    await killed.renew()
    await survivor.renew()
    sent = Recorder()
    async with RosterPublisher(source, sent, KEY, ledger, clock=clock, owns=survivor.owns) as publisher:
        survivor.subscribe(taking_over(source, publisher))
        await publisher.request_publish_all(PROJECTS)  # the start-up step: its own share only
        await publisher.idle()
        mine = {p for p in PROJECTS if survivor.owns(p)}
        assert 0 < len(mine) < len(PROJECTS)
        assert sent.lanes == {lane(p) for p in mine}

        clock.advance(TTL_S / 3)
        assert not await survivor.renew()  # the other's lease still runs
        clock.advance(TTL_S)  # the other was killed: no renewal for longer than its lease
        assert await survivor.renew()
        assert survivor.ownership.is_alone
        await publisher.idle()
        assert sent.lanes == {lane(p) for p in PROJECTS}  # the taken-over projects' rosters went out


async def test_a_clean_stop_hands_over_at_once(store: Store, clock: FakeClock) -> None:
    leaving, staying = member(store, clock, "hub-leaving"), member(store, clock, "hub-staying")
    await leaving.renew()
    await staying.renew()
    told: list[tuple[Ownership, Ownership]] = []

    async def listener(before: Ownership, after: Ownership) -> None:
        told.append((before, after))

    staying.subscribe(listener)
    await leaving.leave()
    assert await staying.renew()  # no time passed: the row is gone, not expired
    assert staying.ownership.is_alone and all(staying.owns(p) for p in PROJECTS)
    [(before, after)] = told
    assert set(after.gained(before, PROJECTS)) == {p for p in PROJECTS if not before.owns(p)}
    async with store.read("test") as conn:
        assert await conn.scalar(select(hub_instances.c.instance_id)) == "hub-staying"
    await leaving.leave()  # again: nothing


async def test_a_registry_change_is_published_by_whichever_instance_took_it(
    store: Store, clock: FakeClock, source: Source, ledger: RosterLedger
) -> None:
    """Only the start-up step is the owner's: a change made through another instance's API is
    pushed by that instance (the owner never hears of it)."""
    one, two = member(store, clock, "sitegate.hub"), member(store, clock, "sitegate.hub.2")
    await one.renew()
    await two.renew()
    theirs = next(p for p in PROJECTS if not two.owns(p))
    sent = Recorder()
    async with RosterPublisher(source, sent, KEY, ledger, clock=clock, owns=two.owns) as publisher:
        await publisher.request_publish(theirs)
        await publisher.idle()
    assert sent.lanes == {lane(theirs)}


async def test_the_lease_is_renewed_on_the_hubs_clock_and_deleted_at_leaving(
    store: Store, clock: FakeClock
) -> None:
    membership = Membership.on(store, "sitegate.hub", clock=clock, ttl_s=TTL_S)
    async with membership:
        async with store.read("test") as conn:
            row = (await conn.execute(select(hub_instances))).one()
        assert row.instance_id == "sitegate.hub" and row.renewed_at == clock.wall()
        assert row.expires_at == clock.wall() + timedelta(seconds=TTL_S)
    async with store.read("test") as conn:
        assert await conn.scalar(select(func.count()).select_from(hub_instances)) == 0
