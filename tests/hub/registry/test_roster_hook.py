"""The roster hook: after a write commits, each listener hears which projects' rosters changed;
a refused write calls nobody, and a failing listener neither undoes nor fails the write."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import select

from hub import refusals
from hub.registry.models import AccountIn, AssignmentExit, AssignmentIn, GateIn, RegistrationIn, WatchlistIn
from hub.store.schema import assignments
from tests.hub.registry.conftest import PASSWORD, World, account


def on_site(world: World, person_id: str, entry: str) -> AssignmentIn:
    return AssignmentIn.model_validate(
        {"person_id": person_id, "enterprise_id": world.sub.id, "role": "worker", "entry_date": entry}
    )


async def test_a_listener_runs_after_the_commit_and_reads_what_was_committed(world: World) -> None:
    person = await world.person()
    seen: list[int] = []

    async def compile_roster(project_id: str) -> None:
        # Another connection: it sees the row only if the write has committed.
        async with world.store.read("listener") as conn:
            rows = await conn.scalars(select(assignments.c.id).where(assignments.c.project_id == project_id))
            seen.extend(rows)

    world.registry.subscribe(compile_roster)
    made = await world.registry.acting_for(world.gc_project).assign(
        "site-a", on_site(world, person.id, "2026-04-01")
    )
    assert made.id in seen
    assert world.roster_calls == ["site-a"]


async def test_assignment_changes_name_their_project(world: World) -> None:
    person = await world.person()
    made = await world.registry.acting_for(world.sub_project).assign(
        "site-a", on_site(world, person.id, "2026-04-01")
    )
    await world.registry.acting_for(world.sub_project).end_assignment(
        made.id, AssignmentExit(exit_date=date(2026, 4, 30))
    )
    assert world.roster_calls == ["site-a", "site-a"]


async def test_a_refused_write_calls_nobody(world: World) -> None:
    with pytest.raises(refusals.AssignmentOverlaps):
        await world.registry.acting_for(world.gc_project).assign(
            "site-a", on_site(world, world.worker.id, "2026-05-01")
        )
    with pytest.raises(refusals.ProjectNotRegistered):
        await world.registry.acting_for(world.city).place_gate(
            "site-b", GateIn(device_id="lane-b1", lane="l", direction="in", name="x")
        )
    with pytest.raises(refusals.Forbidden):
        await world.registry.acting_for(world.gc_project).set_watchlist(
            world.worker.id, WatchlistIn(flag=True, reason="x")
        )
    assert world.roster_calls == []


async def test_a_watchlist_flag_names_every_project_of_the_person(world: World) -> None:
    await world.registry.acting_for(world.gc_account).register_project(
        "site-b", RegistrationIn(account=AccountIn(username="site-b-gc", password=PASSWORD))
    )
    gc_b = await account(world.store, "site-b-gc")
    await world.registry.acting_for(gc_b).assign(
        "site-b",
        AssignmentIn(
            person_id=world.worker.id, enterprise_id=world.gc.id, role="worker", entry_date=date(2026, 3, 1)
        ),
    )
    world.roster_calls.clear()
    flagged = await world.registry.acting_for(world.district).set_watchlist(
        world.worker.id, WatchlistIn(flag=True, reason="冒用证件")
    )
    assert flagged.watchlisted and flagged.watchlist_reason == "冒用证件"
    unflagged = await world.registry.acting_for(world.city).set_watchlist(
        world.worker.id, WatchlistIn(flag=False, reason="已核实")
    )
    assert not unflagged.watchlisted and unflagged.watchlist_reason is None
    assert world.roster_calls == ["site-a", "site-b", "site-a", "site-b"]
    # A person on no project changes no roster.
    idle = await world.person()
    world.roster_calls.clear()
    await world.registry.acting_for(world.city).set_watchlist(idle.id, WatchlistIn(flag=True, reason="x"))
    assert world.roster_calls == []


async def test_gates_placed_moved_and_removed_change_their_projects_device_list(world: World) -> None:
    gate = GateIn(device_id="lane-a1", lane="east-1", direction="in", name="东门")
    await world.registry.acting_for(world.gc_project).place_gate("site-a", gate)
    await world.registry.acting_for(world.gc_project).place_gate(
        "site-a", gate.model_copy(update={"lane": "east-2"})
    )
    await world.registry.acting_for(world.gc_project).remove_gate("site-a", "lane-a1")
    assert world.roster_calls == ["site-a"] * 3


async def test_other_writes_change_no_roster(world: World) -> None:
    await world.person()
    await world.registry.acting_for(world.gc_account).register_project(
        "site-b", RegistrationIn(account=AccountIn(username="site-b-gc", password=PASSWORD))
    )
    assert world.roster_calls == []


async def test_a_failing_listener_is_logged_and_the_write_stands(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    number = world.numbers[world.worker.id]

    async def broken(project_id: str) -> None:
        raise ValueError(f"cannot compile: {number}")

    after: list[str] = []

    async def later(project_id: str) -> None:
        after.append(project_id)

    world.registry.subscribe(broken)
    world.registry.subscribe(later)
    caplog.set_level(logging.DEBUG)
    person = await world.person()
    made = await world.registry.acting_for(world.gc_project).assign(
        "site-a", on_site(world, person.id, "2026-04-01")
    )
    page = await world.registry.acting_for(world.city).assignments("site-a", person_id=person.id)
    assert [a.id for a in page.items] == [made.id]
    assert world.roster_calls == after == ["site-a"]  # listeners after the broken one still ran
    assert "roster listener failed for project site-a: ValueError" in caplog.text
    assert number not in caplog.text


async def test_unsubscribing_stops_the_calls(world: World) -> None:
    calls: list[str] = []

    async def listener(project_id: str) -> None:
        calls.append(project_id)

    unsubscribe = world.registry.subscribe(listener)
    await world.registry.acting_for(world.city).place_gate(
        "site-a", GateIn(device_id="lane-a2", lane="l", direction="out", name="x")
    )
    unsubscribe()
    await world.registry.acting_for(world.city).remove_gate("site-a", "lane-a2")
    assert calls == ["site-a"]
