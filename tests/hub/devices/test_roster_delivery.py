"""Roster delivery for the site rules page, on both stores: the project's newest version and what
each lane at its gates last reported, for the accounts that read the project's site rules only."""

from __future__ import annotations

import pytest

from hub.devices.roster_delivery import RosterDelivery
from hub.refusals import Forbidden, Missing
from hub.rosters.ledger import RosterLedger
from hub.store import Store
from tests.hub.factories import BASE_TIME
from tests.hub.oversight import world as w
from wire.roster import RosterStatus


async def test_before_any_roster_the_lanes_are_listed_unreported(store: Store) -> None:
    await w.build(store, BASE_TIME)
    found = await RosterDelivery(store, w.GC_A).of_project("proj-a")
    assert (found.version, found.minted_at) == (None, None)
    assert [(lane.gate, lane.applied_version) for lane in found.lanes] == [("东门进", None), ("东门出", None)]
    assert found.applied == ()


async def test_the_newest_version_and_which_lanes_run_it(store: Store) -> None:
    await w.build(store, BASE_TIME)
    ledger = RosterLedger(store.engine)
    await ledger.mint("proj-a", "a" * 64, 6)
    version, _ = await ledger.mint("proj-a", "b" * 64, 6)  # the rules changed: a new version
    await ledger.record_status(
        RosterStatus(device_id="lane-a-in", project_id="proj-a", applied_version=version)
    )
    await ledger.record_status(
        RosterStatus(
            device_id="lane-a-out", project_id="proj-a", applied_version=version - 1, problem="bad signature"
        )
    )
    for reader in (w.GC_A, w.SUP_A, w.DISTRICT_XIHU, w.CITY, w.OPERATOR):
        found = await RosterDelivery(store, reader).of_project("proj-a")
        assert found.version == version == 2 and found.minted_at is not None
        assert [lane.device_id for lane in found.applied] == ["lane-a-in"]
        assert [(lane.device_id, lane.applied_version, lane.problem) for lane in found.behind] == [
            ("lane-a-out", 1, "bad signature")
        ]


@pytest.mark.parametrize("outsider", [w.GC_B, w.DISTRICT_GONGSHU])
async def test_another_projects_account_is_told_it_does_not_exist(store: Store, outsider: object) -> None:
    await w.build(store, BASE_TIME)
    with pytest.raises(Missing):
        await RosterDelivery(store, outsider).of_project("proj-a")  # type: ignore[arg-type]
    with pytest.raises(Missing):
        await RosterDelivery(store, w.GC_A).of_project("proj-nowhere")


async def test_a_subcontractor_does_not_read_site_rules_nor_their_delivery(store: Store) -> None:
    await w.build(store, BASE_TIME)
    with pytest.raises(Forbidden):
        await RosterDelivery(store, w.SUB_A).of_project("proj-a")
