"""Who may do what, as the notice divides the work; every refusal is Forbidden (403) or, where the
account cannot even see the record, Missing (404)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest

from hub import refusals
from hub.auth.principal import Principal
from hub.registry.models import (
    AccountIn,
    AssignmentExit,
    AssignmentIn,
    DistrictIn,
    EnterpriseIn,
    GateIn,
    InspectionIn,
    PartyIn,
    PersonIn,
    ProjectIn,
    RegistrationIn,
    WatchlistIn,
)
from tests.hub.registry.conftest import HOME, OTHER, PASSWORD, World, account, new_number, uscc

ROLES = (
    "city",
    "district",
    "operator",
    "gc_account",
    "sub_account",
    "gc_project",
    "sub_project",
    "supervision_project",
)

Write = Callable[[World, Principal], Awaitable[Any]]


def _project(world: World, n: int, district: str = HOME) -> ProjectIn:
    return ProjectIn(
        permit_number=f"33010620260606{n:04d}",
        name="x",
        district=district,
        address="x",
        gc_enterprise_id=world.gc.id,
        permit_issued_on=date(2026, 6, 6),
    )


def _worker(world: World, enterprise_id: str, category: str = "worker") -> PersonIn:
    return PersonIn.model_validate(
        {
            "card_kind": "resident",
            "id_number": new_number(world.rng),
            "name": "x",
            "enterprise_id": enterprise_id,
            "category": category,
            "position": "safety_officer" if category == "manager" else None,
        }
    )


async def _assign_someone_new(world: World, principal: Principal) -> Any:
    person = await world.person()
    data = AssignmentIn(
        person_id=person.id, enterprise_id=world.sub.id, role="worker", entry_date=date(2026, 4, 1)
    )
    return await world.registry.acting_for(principal).assign("site-a", data)


WRITES: dict[str, tuple[Write, set[str]]] = {
    "create_district": (
        lambda w, p: w.registry.acting_for(p).create_district(DistrictIn(code="330108", name="滨江区")),
        {"city"},
    ),
    "create_enterprise": (
        lambda w, p: w.registry.acting_for(p).create_enterprise(
            EnterpriseIn(
                number=uscc(60), name="x", kind="supervision", district=HOME, local=True, password=PASSWORD
            ),
        ),
        {"city", "district"},
    ),
    "register_worker": (
        lambda w, p: w.registry.acting_for(p).register_person(_worker(w, w.sub.id)),
        {"city", "district"},
    ),
    "watchlist": (
        lambda w, p: w.registry.acting_for(p).set_watchlist(w.worker.id, WatchlistIn(flag=True, reason="x")),
        {"city", "district"},
    ),
    "create_project": (
        lambda w, p: w.registry.acting_for(p).create_project(_project(w, 1)),
        {"city", "district"},
    ),
    "add_party": (
        lambda w, p: w.registry.acting_for(p).add_party(
            "site-a",
            PartyIn(
                enterprise_id=w.other_sub.id,
                role="subcontractor",
                account=AccountIn(username="p-party", password=PASSWORD),
            ),
        ),
        {"gc_project"},
    ),
    "assign": (lambda w, p: _assign_someone_new(w, p), {"gc_project", "sub_project", "sub_account"}),
    "end_assignment": (
        lambda w, p: w.registry.acting_for(p).end_assignment(1, AssignmentExit(exit_date=date(2026, 12, 31))),
        {"gc_project", "sub_project", "sub_account"},
    ),
    "place_gate": (
        lambda w, p: w.registry.acting_for(p).place_gate(
            "site-a", GateIn(device_id="lane-p1", lane="l", direction="in", name="x")
        ),
        {"city", "district", "gc_project", "operator"},
    ),
    "file_inspection": (
        lambda w, p: w.registry.acting_for(p).file_inspection(
            "site-a", InspectionIn(inspected_on=date(2026, 3, 3), findings="x")
        ),
        {"supervision_project"},
    ),
}


@pytest.mark.parametrize("action", sorted(WRITES))
async def test_each_write_is_open_to_its_roles_only(world: World, action: str) -> None:
    write, allowed = WRITES[action]
    for role in ROLES:
        principal = getattr(world, role)
        if role in allowed:
            await write(world, principal)  # succeeds (each allowed role's write is a fresh one or idempotent)
            if action in ("create_district", "create_enterprise", "create_project", "add_party"):
                break  # a second one would be a duplicate: one allowed role proves the door is open
        else:
            with pytest.raises((refusals.Forbidden, refusals.Missing)):
                await write(world, principal)


async def test_a_bureau_acts_in_its_own_district(world: World) -> None:
    with pytest.raises(refusals.Forbidden, match="district 330105"):
        await world.registry.acting_for(world.other_district).create_project(_project(world, 2))
    with pytest.raises(refusals.Forbidden):
        await world.registry.acting_for(world.other_district).create_enterprise(
            EnterpriseIn(
                number=uscc(61), name="x", kind="supervision", district=HOME, local=True, password=PASSWORD
            ),
        )
    with pytest.raises(refusals.Forbidden):  # the sub's workers are registered by its own bureau
        await world.registry.acting_for(world.other_district).register_person(_worker(world, world.sub.id))
    with pytest.raises(refusals.Forbidden):
        await world.registry.acting_for(world.other_district).place_gate(
            "site-a", GateIn(device_id="lane-p2", lane="l", direction="in", name="x")
        )
    with pytest.raises(refusals.Missing):  # a person it cannot see is not there for it
        await world.registry.acting_for(world.other_district).set_watchlist(
            world.worker.id, WatchlistIn(flag=True, reason="x")
        )
    assert (
        await world.registry.acting_for(world.other_district).create_project(_project(world, 3, OTHER))
    ).district == OTHER


async def test_an_enterprise_registers_its_own_managers_only(world: World) -> None:
    manager = await world.registry.acting_for(world.gc_account).register_person(
        _worker(world, world.gc.id, "manager")
    )
    assert manager.position == "safety_officer" and manager.id_number_masked
    with pytest.raises(refusals.Forbidden, match="managers"):
        await world.registry.acting_for(world.gc_account).register_person(_worker(world, world.gc.id))
    with pytest.raises(refusals.Forbidden):
        await world.registry.acting_for(world.gc_account).register_person(
            _worker(world, world.sub.id, "manager")
        )


async def test_a_subcontractor_assigns_only_its_own_people_through_itself(world: World) -> None:
    gc_staff = await world.person(enterprise=world.gc)
    with pytest.raises(refusals.Forbidden):  # through another enterprise
        await world.registry.acting_for(world.sub_project).assign(
            "site-a",
            AssignmentIn(
                person_id=gc_staff.id, enterprise_id=world.gc.id, role="worker", entry_date=date(2026, 4, 1)
            ),
        )
    with pytest.raises(refusals.Forbidden, match="staff"):  # someone else's employee through itself
        await world.registry.acting_for(world.sub_project).assign(
            "site-a",
            AssignmentIn(
                person_id=gc_staff.id, enterprise_id=world.sub.id, role="worker", entry_date=date(2026, 4, 1)
            ),
        )
    with pytest.raises(refusals.Forbidden):  # another project
        await world.registry.acting_for(world.sub_project).assign(
            "site-b",
            AssignmentIn(
                person_id=world.worker.id,
                enterprise_id=world.sub.id,
                role="worker",
                entry_date=date(2030, 4, 1),
            ),
        )
    # The GC's department may put anyone on site through any party enterprise, but only a party.
    made = await world.registry.acting_for(world.gc_project).assign(
        "site-a",
        AssignmentIn(
            person_id=gc_staff.id, enterprise_id=world.gc.id, role="manager", entry_date=date(2026, 4, 1)
        ),
    )
    with pytest.raises(refusals.NotAParty):
        await world.registry.acting_for(world.gc_project).assign(
            "site-a",
            AssignmentIn(
                person_id=gc_staff.id,
                enterprise_id=world.other_sub.id,
                role="worker",
                entry_date=date(2027, 4, 1),
            ),
        )
    # And the subcontractor cannot end (or even see) the GC's assignment.
    with pytest.raises(refusals.Missing):
        await world.registry.acting_for(world.sub_project).end_assignment(
            made.id, AssignmentExit(exit_date=date(2026, 5, 1))
        )
    assert [
        a.person_id for a in (await world.registry.acting_for(world.sub_project).assignments("site-a")).items
    ] == [world.worker.id]


async def test_an_enterprise_assigns_its_staff_only_where_it_is_a_party(world: World) -> None:
    registration = RegistrationIn(account=AccountIn(username="site-b-gc", password=PASSWORD))
    await world.registry.acting_for(world.gc_account).register_project("site-b", registration)
    staff = await world.person()
    on_b = AssignmentIn(
        person_id=staff.id, enterprise_id=world.sub.id, role="worker", entry_date=date(2026, 4, 1)
    )
    with pytest.raises(refusals.NotAParty):
        await world.registry.acting_for(world.sub_account).assign("site-b", on_b)
    made = await world.registry.acting_for(world.sub_account).assign("site-a", on_b)
    assert made.enterprise_id == world.sub.id
    ended = await world.registry.acting_for(world.sub_account).end_assignment(
        made.id, AssignmentExit(exit_date=date(2026, 4, 2))
    )
    assert ended.exit_date == date(2026, 4, 2)


async def test_project_departments_act_on_their_own_project(world: World) -> None:
    await world.registry.acting_for(world.gc_account).register_project(
        "site-b", RegistrationIn(account=AccountIn(username="site-b-gc", password=PASSWORD))
    )
    gc_b = await account(world.store, "site-b-gc")
    party = PartyIn(
        enterprise_id=world.other_sub.id,
        role="subcontractor",
        account=AccountIn(username="x-sub", password=PASSWORD),
    )
    with pytest.raises(refusals.Forbidden, match="project site-b may not register parties on project site-a"):
        await world.registry.acting_for(gc_b).add_party("site-a", party)
    with pytest.raises(refusals.Forbidden):
        await world.registry.acting_for(gc_b).place_gate(
            "site-a", GateIn(device_id="lane-p3", lane="l", direction="in", name="x")
        )
    with pytest.raises(refusals.Forbidden):
        await world.registry.acting_for(world.supervision_project).file_inspection(
            "site-b", InspectionIn(inspected_on=date(2026, 3, 3), findings="x")
        )
    with pytest.raises(refusals.Missing):
        await world.registry.acting_for(gc_b).parties("site-a")


async def test_the_operator_sees_devices_not_people(world: World) -> None:
    await world.registry.acting_for(world.operator).place_gate(
        "site-a", GateIn(device_id="lane-p4", lane="l", direction="in", name="x")
    )
    assert [g.device_id for g in await world.registry.acting_for(world.operator).gates("site-a")] == [
        "lane-p4"
    ]
    operator = world.registry.acting_for(world.operator)
    for read in (operator.persons, operator.districts, operator.projects):
        with pytest.raises(refusals.Forbidden):
            await read()
