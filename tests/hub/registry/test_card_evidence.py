"""进场/离场登记 with the card, in the registry, on both stores: the office reader's device is
recorded only when the read is the person's own card; without one the registration still goes
through and says so (no reader recorded)."""

from __future__ import annotations

from datetime import date

import pytest

from hub.refusals import CardReadMismatch
from hub.registry.card_evidence import CardEvidence
from hub.registry.models import AssignmentExit, AssignmentIn
from tests.hub.registry.conftest import World


def entry(person_id: str, enterprise_id: str) -> AssignmentIn:
    return AssignmentIn(
        person_id=person_id, enterprise_id=enterprise_id, role="worker", entry_date=date(2026, 3, 2)
    )


async def test_a_card_read_registration_records_its_reader(world: World) -> None:
    gc = world.registry.acting_for(world.gc_project)
    person = await world.person()
    card = CardEvidence("office-1", world.numbers[person.id])
    made = await gc.assign(world.project.id, entry(person.id, world.sub.id), card=card)
    assert made.entry_read_device == "office-1"
    [stored] = (await gc.assignments(world.project.id, person_id=person.id)).items
    assert (stored.entry_read_device, stored.exit_read_device) == ("office-1", None)
    ended = await gc.end_assignment(made.id, AssignmentExit(exit_date=date(2026, 3, 9)), card=card)
    assert ended.exit_read_device == "office-1"
    typed = await gc.end_assignment(made.id, AssignmentExit(exit_date=date(2026, 3, 10)))
    assert typed.exit_read_device is None  # moved by hand since: the last exit was not by card


async def test_another_persons_card_is_refused_and_stores_nothing(world: World) -> None:
    gc = world.registry.acting_for(world.gc_project)
    person = await world.person()
    someone_else = CardEvidence("office-1", world.numbers[world.worker.id])
    with pytest.raises(CardReadMismatch) as refused:
        await gc.assign(world.project.id, entry(person.id, world.sub.id), card=someone_else)
    assert refused.value.message.startswith("read: 所读证件与登记人员不符")
    assert (await gc.assignments(world.project.id, person_id=person.id)).items == []


async def test_a_typed_registration_records_no_reader(world: World) -> None:
    gc = world.registry.acting_for(world.gc_project)
    person = await world.person()
    made = await gc.assign(world.project.id, entry(person.id, world.sub.id))
    assert made.entry_read_device is None
