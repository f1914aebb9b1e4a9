"""EventRecords chooses the scope from the account it was built with; IngestState is for the hub's
own roles only; InternalEventReads is the whole record, and the store no longer derives itself."""

from __future__ import annotations

import pytest

from hub.auth.principal import Principal, Role
from hub.events.event_records import EventRecords
from hub.events.ingest_state import IngestState
from hub.events.internal import InternalEventReads
from hub.events.journal import store_events
from hub.store import Store
from tests.hub.factories import make_event, make_lane_event

CITY = Principal(account_id=1, username="city-1", role=Role.CITY)
OPERATOR = Principal(account_id=2, username="operator-1", role=Role.OPERATOR)
GC_OF_A = Principal(
    account_id=3, username="gc-a", role=Role.GC_PROJECT, enterprise_id="ent-gc", project_id="proj-a"
)


async def two_projects(store: Store) -> None:
    await store_events(
        store,
        [
            make_event(1, device_id="lane-a", project_id="proj-a"),
            make_lane_event(2, device_id="lane-a", project_id="proj-a"),
            make_event(1, device_id="lane-b", project_id="proj-b"),
            make_lane_event(2, device_id="lane-b", project_id="proj-b"),
        ],
    )


async def test_each_account_reads_only_its_part_of_the_record(store: Store) -> None:
    await two_projects(store)
    for who, projects in ((CITY, ["proj-a", "proj-b"]), (GC_OF_A, ["proj-a"]), (OPERATOR, [])):
        records = EventRecords(store, who)
        assert sorted(e.project_id for e in (await records.access_events()).items) == projects, who.role
        assert sorted(e.project_id for e in (await records.lane_events()).items) == projects, who.role
        counts = await records.count_access_events(group_by=("project_id",))
        assert [c.group["project_id"] for c in counts] == projects, who.role


async def test_the_unscoped_path_reads_everything(store: Store) -> None:
    await two_projects(store)
    internal = InternalEventReads(store)
    assert len((await internal.access_events()).items) == 2
    assert len((await internal.lane_events()).items) == 2
    assert [s.device_id for s in await internal.sequences()] == ["lane-a", "lane-b"]


async def test_the_ingest_state_is_for_the_hubs_own_roles(store: Store) -> None:
    await two_projects(store)
    for who in (CITY, OPERATOR):
        state = IngestState(store, who)
        assert [(s.device_id, s.contiguous_through) for s in await state.sequences()] == [
            ("lane-a", 2),
            ("lane-b", 2),
        ]
        assert await state.dead_letters() == []
    with pytest.raises(PermissionError):
        IngestState(store, GC_OF_A)
