"""The notice's registration flows at the registry's Python API, on both stores: each refusal is
its own error, and a refused write leaves nothing behind (no row, no account, no audit line)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from hub import refusals
from hub.auth.principal import Principal, Role
from hub.registry import IdVault
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
)
from hub.store.schema import accounts, assignments, audit_log, enterprises, persons, project_parties, projects
from tests.hub.registry.conftest import OTHER, PASSWORD, World, account, new_number, uscc
from tests.support.accounts import create_account
from wire.credential import credential_hash

pytestmark = pytest.mark.usefixtures("store")


async def count(world: World, table: Any, *where: Any) -> int:
    async with world.store.read("test") as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def assignment(
    world: World, person_id: str, entry: str, exit: str | None = None, **changes: Any
) -> AssignmentIn:
    values = {
        "person_id": person_id,
        "enterprise_id": world.sub.id,
        "role": "worker",
        "entry_date": entry,
        "exit_date": exit,
    }
    return AssignmentIn.model_validate({**values, **changes})


def gate(device_id: str, lane: str = "east-1") -> GateIn:
    return GateIn(device_id=device_id, lane=lane, direction="in", name="东门")


async def test_the_notices_flow_leaves_each_party_with_its_account(world: World) -> None:
    assert world.project.registered_at is not None
    assert world.unregistered.registered_at is None
    assert world.gc_account.role is Role.ENTERPRISE and world.gc_account.username == world.gc.number
    assert (world.gc_project.role, world.gc_project.enterprise_id) == (Role.GC_PROJECT, world.gc.id)
    assert (world.sub_project.role, world.sub_project.enterprise_id) == (Role.SUB_PROJECT, world.sub.id)
    assert world.supervision_project.role is Role.SUPERVISION_PROJECT
    parties = await world.registry.acting_for(world.gc_project).parties(world.project.id)
    assert [(p.enterprise_id, p.role, p.account) for p in parties] == [
        (world.gc.id, "general_contractor", "site-a-gc"),
        (world.sub.id, "subcontractor", "site-a-labour"),
        (world.supervisor.id, "supervision", "site-a-supervision"),
    ]
    registered = await world.registry.acting_for(world.city).projects(registered=True)
    assert [p.id for p in registered] == ["site-a"]
    assert [p.id for p in await world.registry.acting_for(world.city).projects(registered=False)] == [
        "site-b"
    ]


async def test_a_later_subcontractor_joins_the_same_way(world: World) -> None:
    party = PartyIn(
        enterprise_id=world.other_sub.id,
        role="subcontractor",
        account=AccountIn(username="site-a-curtain", password=PASSWORD),
    )
    joined = await world.registry.acting_for(world.gc_project).add_party(world.project.id, party)
    assert (joined.role, joined.account) == ("subcontractor", "site-a-curtain")
    later = await account(world.store, "site-a-curtain")
    assert (later.role, later.project_id, later.enterprise_id) == (
        Role.SUB_PROJECT,
        "site-a",
        world.other_sub.id,
    )
    with pytest.raises(refusals.PartyExists):
        await world.registry.acting_for(world.gc_project).add_party(
            world.project.id,
            party.model_copy(update={"account": AccountIn(username="x-other", password=PASSWORD)}),
        )


async def test_a_party_must_be_of_the_right_kind(world: World) -> None:
    party = PartyIn(
        enterprise_id=world.supervisor.id,
        role="subcontractor",
        account=AccountIn(username="wrong-kind", password=PASSWORD),
    )
    with pytest.raises(refusals.WrongEnterpriseKind) as caught:
        await world.registry.acting_for(world.gc_project).add_party(world.project.id, party)
    assert caught.value.code == "wrong_enterprise_kind"
    assert await count(world, accounts, accounts.c.username == "wrong-kind") == 0


async def test_a_taken_username_leaves_neither_party_nor_account(world: World) -> None:
    party = PartyIn(
        enterprise_id=world.other_sub.id,
        role="subcontractor",
        account=AccountIn(username="site-a-gc", password=PASSWORD),
    )
    audit_before = await count(world, audit_log)
    with pytest.raises(refusals.UsernameTaken) as caught:
        await world.registry.acting_for(world.gc_project).add_party(world.project.id, party)
    assert caught.value.code == "username_taken"
    assert await count(world, project_parties, project_parties.c.enterprise_id == world.other_sub.id) == 0
    assert (
        await count(world, accounts, accounts.c.enterprise_id == world.other_sub.id) == 1
    )  # its enterprise account only
    assert await count(world, audit_log) == audit_before


async def test_a_duplicate_enterprise_number_is_refused_whole(world: World) -> None:
    data = EnterpriseIn(
        number=world.gc.number,
        name="冒名公司",
        kind="general_contractor",
        district="330106",
        local=True,
        password=PASSWORD,
    )
    with pytest.raises(refusals.EnterpriseNumberTaken) as caught:
        await world.registry.acting_for(world.city).create_enterprise(data)
    assert caught.value.code == "enterprise_number_taken" and world.gc.id in caught.value.message
    assert await count(world, enterprises, enterprises.c.number == world.gc.number) == 1


async def test_an_enterprise_whose_account_name_is_taken_is_not_stored(world: World) -> None:
    number = uscc(99)
    await create_account(world.store, role=Role.OPERATOR, username=number)
    data = EnterpriseIn(
        number=number, name="新公司", kind="supervision", district="330106", local=False, password=PASSWORD
    )
    with pytest.raises(refusals.UsernameTaken):
        await world.registry.acting_for(world.city).create_enterprise(data)
    assert await count(world, enterprises, enterprises.c.number == number) == 0


async def test_unknown_references_name_what_is_unknown(world: World) -> None:
    with pytest.raises(refusals.UnknownReference) as caught:
        await world.registry.acting_for(world.city).create_enterprise(
            EnterpriseIn(
                number=uscc(50),
                name="x",
                kind="supervision",
                district="310101",
                local=False,
                password=PASSWORD,
            ),
        )
    assert (caught.value.code, caught.value.field) == ("unknown_district", "district")
    with pytest.raises(refusals.UnknownReference) as caught:
        await world.person(enterprise=None, enterprise_id="ent-missing")
    assert caught.value.code == "unknown_enterprise" and "ent-missing" in caught.value.message
    with pytest.raises(refusals.UnknownReference) as caught:
        await world.registry.acting_for(world.gc_project).assign(
            "site-a", assignment(world, "per-missing", "2026-03-01")
        )
    assert caught.value.code == "unknown_person"
    with pytest.raises(refusals.Missing) as missing:
        await world.registry.acting_for(
            Principal(world.gc_project.account_id, "x", Role.GC_PROJECT, None, world.gc.id, "site-zz")
        ).assign(
            "site-zz",
            assignment(world, world.worker.id, "2026-03-01"),
        )
    assert "project site-zz" in missing.value.message
    with pytest.raises(refusals.DistrictExists):
        await world.registry.acting_for(world.city).create_district(DistrictIn(code="330106", name="again"))


async def test_a_person_is_registered_once_city_wide(world: World) -> None:
    number = world.numbers[world.worker.id]
    before = await count(world, persons)
    with pytest.raises(refusals.PersonAlreadyRegistered) as caught:
        # Another bureau, another enterprise, the number typed with blanks: still the same person.
        await world.registry.acting_for(world.city).register_person(
            PersonIn(
                card_kind="resident",
                id_number=f" {number} ",
                name="别名",
                enterprise_id=world.gc.id,
                category="worker",
            ),
        )
    assert caught.value.code == "person_already_registered"
    assert caught.value.existing_id == world.worker.id
    assert number not in caught.value.message
    assert await count(world, persons) == before
    assert await world.registry.acting_for(world.gc_project).find_person(number) == world.worker.id
    assert await world.registry.acting_for(world.gc_project).find_person(new_number(world.rng)) is None


async def test_registration_records_the_bureau_and_a_managers_position(world: World) -> None:
    worker = await world.registry.acting_for(world.district).register_person(
        PersonIn(
            card_kind="resident",
            id_number=new_number(world.rng),
            name="李强",
            enterprise_id=world.sub.id,
            category="worker",
        ),
    )
    assert worker.registered_district == "330106" and worker.category == "worker"
    manager = await world.registry.acting_for(world.gc_account).register_person(
        PersonIn(
            card_kind="resident",
            id_number=new_number(world.rng),
            name="周明",
            enterprise_id=world.gc.id,
            category="manager",
            position="project_manager",
        ),
    )
    assert (manager.position, manager.registered_district, manager.enterprise_id) == (
        "project_manager",
        "330106",
        world.gc.id,
    )


async def test_the_credential_hash_is_the_lanes_hash_under_the_site_key(world: World, vault: IdVault) -> None:
    async with world.store.read("test") as conn:
        row = (
            await conn.execute(select(assignments).where(assignments.c.person_id == world.worker.id))
        ).one()
        sealed = await conn.scalar(select(projects.c.site_key_cipher).where(projects.c.id == "site-a"))
    site_key = vault.open_site_key("site-a", sealed)
    assert row.credential_hash == credential_hash(site_key, world.numbers[world.worker.id])


async def test_overlapping_assignments_are_refused_naming_the_existing_one(world: World) -> None:
    existing = (
        await world.registry.acting_for(world.city).assignments("site-a", person_id=world.worker.id)
    ).items[0]
    with pytest.raises(refusals.AssignmentOverlaps) as caught:
        await world.registry.acting_for(world.gc_project).assign(
            "site-a", assignment(world, world.worker.id, "2027-01-01")
        )
    assert caught.value.code == "assignment_overlaps"
    assert caught.value.existing_id == existing.id
    assert (
        f"assignment {existing.id}" in caught.value.message
        and "2026-03-01 to open-ended" in caught.value.message
    )
    # 退场 on the 10th; coming back on the 10th still overlaps, on the 11th does not.
    await world.registry.acting_for(world.gc_project).end_assignment(
        existing.id, AssignmentExit(exit_date=date(2026, 4, 10))
    )
    with pytest.raises(refusals.AssignmentOverlaps):
        await world.registry.acting_for(world.gc_project).assign(
            "site-a", assignment(world, world.worker.id, "2026-04-10")
        )
    again = await world.registry.acting_for(world.gc_project).assign(
        "site-a", assignment(world, world.worker.id, "2026-04-11")
    )
    # Moving the first exit past the second's entry would overlap again.
    with pytest.raises(refusals.AssignmentOverlaps) as caught:
        await world.registry.acting_for(world.gc_project).end_assignment(
            existing.id, AssignmentExit(exit_date=date(2026, 5, 1))
        )
    assert caught.value.existing_id == again.id
    # A period before the first one fits in front of it.
    await world.registry.acting_for(world.gc_project).assign(
        "site-a", assignment(world, world.worker.id, "2026-01-01", "2026-02-28")
    )
    assert await count(world, assignments, assignments.c.person_id == world.worker.id) == 3


async def test_an_exit_before_the_entry_is_refused(world: World) -> None:
    existing = (await world.registry.acting_for(world.city).assignments("site-a")).items[0]
    with pytest.raises(refusals.ExitBeforeEntry) as caught:
        await world.registry.acting_for(world.gc_project).end_assignment(
            existing.id, AssignmentExit(exit_date=date(2026, 2, 28))
        )
    assert caught.value.code == "exit_before_entry"
    assert (await world.registry.acting_for(world.city).assignments("site-a")).items[0].exit_date is None


async def test_an_unregistered_project_takes_no_parties_assignments_or_gates(world: World) -> None:
    city_gc = Principal(world.gc_project.account_id, "x", Role.GC_PROJECT, None, world.gc.id, "site-b")
    party = PartyIn(
        enterprise_id=world.sub.id,
        role="subcontractor",
        account=AccountIn(username="site-b-sub", password=PASSWORD),
    )
    for write in (
        world.registry.acting_for(city_gc).add_party("site-b", party),
        world.registry.acting_for(city_gc).assign(
            "site-b", assignment(world, world.worker.id, "2026-03-01", enterprise_id=world.gc.id)
        ),
        world.registry.acting_for(world.city).place_gate("site-b", gate("lane-b1")),
    ):
        with pytest.raises(refusals.ProjectNotRegistered) as caught:
            await write
        assert caught.value.code == "project_not_registered"


async def test_registration_is_once_and_only_by_the_general_contractor(world: World) -> None:
    with pytest.raises(refusals.ProjectAlreadyRegistered):
        await world.registry.acting_for(world.gc_account).register_project(
            "site-a",
            RegistrationIn(account=AccountIn(username="site-a-gc2", password=PASSWORD)),
        )
    with pytest.raises(refusals.Forbidden):
        await world.registry.acting_for(world.sub_account).register_project(
            "site-b",
            RegistrationIn(account=AccountIn(username="site-b-gc", password=PASSWORD)),
        )
    # A taken username refuses the whole 报备: the project stays unregistered.
    with pytest.raises(refusals.UsernameTaken):
        await world.registry.acting_for(world.gc_account).register_project(
            "site-b",
            RegistrationIn(account=AccountIn(username="site-a-gc", password=PASSWORD)),
        )
    assert (await world.registry.acting_for(world.city).project("site-b")).registered_at is None
    done = await world.registry.acting_for(world.gc_account).register_project(
        "site-b", RegistrationIn(account=AccountIn(username="site-b-gc", password=PASSWORD))
    )
    assert done.registered_at is not None


async def test_a_project_needs_a_general_contractor_and_a_free_permit(world: World) -> None:
    base = {
        "permit_number": "330106202603030303",
        "name": "x",
        "district": "330106",
        "address": "x",
        "gc_enterprise_id": world.sub.id,
        "permit_issued_on": "2026-03-03",
    }
    with pytest.raises(refusals.WrongEnterpriseKind):
        await world.registry.acting_for(world.city).create_project(ProjectIn.model_validate(base))
    with pytest.raises(refusals.PermitNumberTaken):
        await world.registry.acting_for(world.city).create_project(
            ProjectIn.model_validate(
                {**base, "gc_enterprise_id": world.gc.id, "permit_number": "330106202601150101"}
            ),
        )
    with pytest.raises(refusals.ProjectIdTaken):
        await world.registry.acting_for(world.city).create_project(
            ProjectIn.model_validate({**base, "gc_enterprise_id": world.gc.id, "id": "site-a"})
        )
    minted = await world.registry.acting_for(world.city).create_project(
        ProjectIn.model_validate({**base, "gc_enterprise_id": world.gc.id})
    )
    assert minted.id.startswith("prj-")


async def test_gates_are_placed_moved_and_removed_once_per_device(world: World) -> None:
    placed = await world.registry.acting_for(world.operator).place_gate("site-a", gate("lane-a1"))
    assert placed.created and placed.value.lane == "east-1"
    moved = await world.registry.acting_for(world.gc_project).place_gate(
        "site-a", gate("lane-a1", lane="west-2")
    )
    assert not moved.created and moved.value.lane == "west-2"
    await world.registry.acting_for(world.gc_account).register_project(
        "site-b", RegistrationIn(account=AccountIn(username="site-b-gc", password=PASSWORD))
    )
    with pytest.raises(refusals.DeviceAlreadyPlaced) as caught:
        await world.registry.acting_for(world.city).place_gate("site-b", gate("lane-a1"))
    assert caught.value.code == "device_already_placed" and "site-a" in caught.value.message
    assert [g.device_id for g in await world.registry.acting_for(world.operator).gates("site-a")] == [
        "lane-a1"
    ]
    await world.registry.acting_for(world.district).remove_gate("site-a", "lane-a1")
    with pytest.raises(refusals.Missing):
        await world.registry.acting_for(world.district).remove_gate("site-a", "lane-a1")
    await world.registry.acting_for(world.city).place_gate("site-b", gate("lane-a1"))
    assert [g.project_id for g in await world.registry.acting_for(world.city).gates("site-b")] == ["site-b"]


async def test_inspections_are_filed_by_supervision_and_read_by_the_project_and_the_authorities(
    world: World,
) -> None:
    filed = await world.registry.acting_for(world.supervision_project).file_inspection(
        "site-a",
        InspectionIn(inspected_on=date(2026, 3, 5), findings="东门未刷卡进场 2 人"),
    )
    assert filed.account == "site-a-supervision"
    for reader in (world.city, world.district, world.gc_project, world.supervision_project):
        assert [i.id for i in await world.registry.acting_for(reader).inspections("site-a")] == [filed.id]
    with pytest.raises(refusals.Missing):
        await world.registry.acting_for(world.other_district).inspections("site-a")
    for reader in (world.sub_project, world.operator, world.gc_account):
        with pytest.raises(refusals.Forbidden):
            await world.registry.acting_for(reader).inspections("site-a")


async def test_persons_page_by_keyset_without_repeats(world: World) -> None:
    for _ in range(6):
        await world.person()
    seen: list[str] = []
    cursor = None
    while True:
        page = await world.registry.acting_for(world.city).persons(cursor=cursor, limit=2)
        assert len(page.items) <= 2
        seen += [p.id for p in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen)


async def test_a_district_sees_its_people_and_another_district_does_not(world: World) -> None:
    assert [p.id for p in (await world.registry.acting_for(world.district).persons()).items] == [
        world.worker.id
    ]
    assert (await world.registry.acting_for(world.other_district).persons()).items == []
    with pytest.raises(refusals.Missing):
        await world.registry.acting_for(world.other_district).person(world.worker.id)
    assert [e.id for e in (await world.registry.acting_for(world.sub_account).enterprises()).items] == [
        world.sub.id
    ]
    assert OTHER not in [p.district for p in await world.registry.acting_for(world.district).projects()]
