"""Attribution attacks (issue 13, item 1): a lane with its own valid certificate publishes records
that claim another project, direction or operator, or publishes after its gate was deleted. The
ingest (on a real store, acks caught by a recording publisher) attributes from the registry: the
lie is dead-lettered, an ``attribution_refused`` alert is stored at its seq under the lane's real
project, and nothing is stored under the project it claimed. A remote open is the hub's only if it
names, by id, a remote_open command the hub sent that lane and no other seq has answered; a grant
for someone no roster holds is kept (the arm opened) but flagged ``not_in_roster``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from hub.devices import command_log
from hub.events.internal import InternalEventReads
from hub.events.roster_check import NOT_IN_ROSTER
from hub.ingest import Ingest
from hub.store import JournalRecord, Store
from hub.store.schema import access_events, gates
from tests.hub.factories import BASE_TIME, make_event, make_lane_event
from tests.hub.test_batches import RecordingPublisher
from tests.support.placed import place_at_gates
from wire.codec import encode
from wire.commands import Action, Command
from wire.models import Direction, LaneEvent, LaneEventType
from wire.topics import Channel, topic_for

LANE_X = "lane-x01"
"""Placed at an ``in`` gate of project X; its certificate is valid, its payloads lie."""


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    async with await Store.open(database_url) as opened:
        await place_at_gates(opened, [(LANE_X, "proj-x", "A1", "in"), ("lane-y01", "proj-y", "A1", "in")])
        yield opened


async def _publish(store: Store, *records: JournalRecord) -> tuple[Ingest, RecordingPublisher]:
    ingest = Ingest(store, host="127.0.0.1", port=1, client_id="attack-hub", share_group="attack")
    acks = RecordingPublisher()
    await ingest.handle_batch(acks, [(topic_for(r.device_id, Channel.EVENT), encode(r)) for r in records])
    return ingest, acks


async def _refused_in_place(store: Store, field: str) -> None:
    """The lie dead-lettered naming ``field``; the alert stored at its seq under project X; the
    lane acknowledged (it forgets the record); nothing stored under project Y."""
    reads = InternalEventReads(store)
    [letter] = await reads.dead_letters()
    assert letter.reason.startswith(f"{field} in the payload contradicts the registry")
    assert not [e for e in (await reads.access_events(limit=100)).items if e.project_id != "proj-x"]
    lane_events = (await reads.lane_events(limit=100)).items
    assert [(e.project_id, e.type, e.alert) for e in lane_events] == [("proj-x", "attribution_refused", True)]


async def test_a_lane_of_project_x_publishing_an_entry_for_project_y_is_refused(store: Store) -> None:
    _, acks = await _publish(store, make_event(1, device_id=LANE_X, project_id="proj-y"))
    await _refused_in_place(store, "project_id")
    assert [(a.device_id, a.through_seq) for _, a in acks.acks] == [(LANE_X, 1)]
    assert (await InternalEventReads(store).access_events(limit=100)).items == []


async def test_an_out_from_an_in_gate_is_refused(store: Store) -> None:
    await _publish(store, make_event(1, device_id=LANE_X, project_id="proj-x", direction=Direction.OUT))
    await _refused_in_place(store, "direction")


async def test_a_fire_alarm_claiming_another_project_is_refused(store: Store) -> None:
    alarm = make_lane_event(1, LaneEventType.FIRE_ALARM, device_id=LANE_X, project_id="proj-y")
    await _publish(store, alarm)
    await _refused_in_place(store, "project_id")


COMMAND_ID = "0" * 32


def _remote_open(
    seq: int, operator: str = "operator-1", command_id: str = COMMAND_ID, *, hours_off: int = 0
) -> LaneEvent:
    event = make_lane_event(
        seq,
        LaneEventType.LANE_ENABLED,
        device_id=LANE_X,
        project_id="proj-x",
        wall_time=BASE_TIME + timedelta(hours=hours_off, seconds=seq),
    )
    return LaneEvent.model_validate(
        {**event.model_dump(), "type": "remote_open", "operator": operator, "command_id": command_id}
    )


async def _issue(store: Store, command_id: str = COMMAND_ID, device_id: str = LANE_X) -> None:
    """The hub's record of a remote open it sent ``device_id`` for operator-1, at BASE_TIME."""
    async with store.write("test command") as conn:
        await command_log.record(
            conn,
            Command(
                command_id=command_id,
                device_id=device_id,
                action=Action.REMOTE_OPEN,
                operator="operator-1",
                issued_at=BASE_TIME,
                expires_at=BASE_TIME + timedelta(minutes=1),
            ),
        )


async def _remote_opens(store: Store) -> list[tuple[int, str | None]]:
    events = (await InternalEventReads(store).lane_events(limit=10)).items
    return sorted((e.seq, e.operator) for e in events if e.type == "remote_open")


async def test_a_remote_open_naming_an_operator_who_sent_no_command_is_refused(store: Store) -> None:
    await _issue(store)
    await _publish(store, _remote_open(1, "operator-2"))
    await _refused_in_place(store, "operator")
    await _publish(store, _remote_open(2, "operator-1"))  # the command's own operator: stored
    assert await _remote_opens(store) == [(2, "operator-1")]


async def test_a_remote_open_from_a_lane_whose_clock_is_hours_off_is_attributed(store: Store) -> None:
    await _issue(store)
    _, acks = await _publish(store, _remote_open(1, hours_off=-3))
    assert await _remote_opens(store) == [(1, "operator-1")]
    assert await InternalEventReads(store).dead_letters() == []
    assert [(a.device_id, a.through_seq) for _, a in acks.acks] == [(LANE_X, 1)]


async def test_a_remote_open_naming_a_forged_command_id_is_refused(store: Store) -> None:
    await _issue(store)
    await _publish(store, _remote_open(1, command_id="f" * 32))
    await _refused_in_place(store, "command_id")


async def test_a_remote_open_naming_another_lanes_command_is_refused(store: Store) -> None:
    await _issue(store, device_id="lane-y01")
    await _publish(store, _remote_open(1))
    await _refused_in_place(store, "command_id")


async def test_a_replayed_command_id_is_refused_and_a_resend_is_a_duplicate(store: Store) -> None:
    await _issue(store)
    await _publish(store, _remote_open(1))
    ingest, _ = await _publish(store, _remote_open(1), _remote_open(2))  # a resend, then a replay
    assert ingest.counters.duplicates == 1
    [letter] = await InternalEventReads(store).dead_letters()
    assert letter.reason.startswith("command_id in the payload contradicts the registry")
    assert await _remote_opens(store) == [(1, "operator-1")]


async def test_a_command_id_answered_twice_in_one_batch_opens_once(store: Store) -> None:
    await _issue(store)
    await _publish(store, _remote_open(2), _remote_open(1))
    assert await _remote_opens(store) == [(1, "operator-1")]
    assert len(await InternalEventReads(store).dead_letters()) == 1


async def test_a_lane_whose_gate_was_deleted_stores_nothing_and_is_not_acknowledged(store: Store) -> None:
    async with store.write("test delete gate") as conn:
        await conn.execute(delete(gates).where(gates.c.device_id == LANE_X))
    ingest, acks = await _publish(
        store,
        make_event(1, device_id=LANE_X, project_id="proj-x"),
        make_lane_event(2, LaneEventType.FIRE_ALARM, device_id=LANE_X, project_id="proj-x"),
    )
    reads = InternalEventReads(store)
    assert (await reads.access_events(limit=10)).items == []
    assert (await reads.lane_events(limit=10)).items == []
    assert acks.acks == []
    assert ingest.counters.unplaced == 2
    assert await reads.dead_letters() == []  # the lane keeps them; resends would fill the dead letters


async def test_a_grant_for_a_person_no_roster_holds_is_stored_flagged(store: Store) -> None:
    """The arm opened, so the record is kept and acknowledged, but flagged for the owners: the
    lane granted someone with no assignment on its project (a tampered roster, or a forged grant)."""
    _, acks = await _publish(
        store, make_event(1, device_id=LANE_X, project_id="proj-x", person_id="per-forged")
    )
    assert [(a.device_id, a.through_seq) for _, a in acks.acks] == [(LANE_X, 1)]
    async with store.read("test flags") as conn:
        flags = (await conn.execute(select(access_events.c.person_id, access_events.c.flag))).all()
    assert [tuple(row) for row in flags] == [("per-forged", NOT_IN_ROSTER)]
