"""hub.console.oversight_targets on both stores: the order and deduction forms' candidates are
what the workflows accept from the account (a district bureau: its district's enterprises and
those working on its projects; the city: all), and a project's leaders are its managers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hub.auth.principal import Principal
from hub.console import oversight_targets as targets
from hub.registry import Registry
from hub.registry.keyfile import load_data_key
from hub.registry.registry import RegistryDesk
from hub.registry.vault import IdVault
from hub.store import Store
from tests.hub.clocked import NOON
from tests.hub.oversight import world as w
from tests.hub.workflows.conftest import seal_ids

Registries = Callable[[Principal], Registry]


@pytest.fixture
async def registry_for(database_url: str, tmp_path: Path) -> AsyncIterator[Registries]:
    """The registry as an account of the oversight world reads it (ID numbers sealed, as stored)."""
    async with await Store.open(database_url) as store:
        await seal_ids(store, await w.build(store, NOON), tmp_path / "data.key")
        desk = RegistryDesk(store, IdVault(load_data_key(tmp_path / "data.key")), fast_hash=True)
        yield desk.acting_for


async def _enterprise_keys(registry_for: Registries, who: Principal) -> set[str]:
    registry = registry_for(who)
    return {c.key for c in await targets.enterprises(registry, who, await registry.projects())}


async def test_a_district_bureau_picks_among_its_districts_enterprises_and_those_on_its_projects(
    registry_for: Registries,
) -> None:
    # 西湖: ent-gc1 and ent-sup1 are registered there; ent-sub1 (拱墅) works on proj-a.
    assert await _enterprise_keys(registry_for, w.DISTRICT_XIHU) == {"ent-gc1", "ent-sup1", "ent-sub1"}
    # 拱墅: its own two, and no project of 西湖's brings the others in.
    assert await _enterprise_keys(registry_for, w.DISTRICT_GONGSHU) == {"ent-sub1", "ent-gc2"}


async def test_the_city_picks_among_every_enterprise_by_name_and_code(registry_for: Registries) -> None:
    registry = registry_for(w.CITY)
    found = await targets.enterprises(registry, w.CITY, await registry.projects())
    assert {c.name for c in found} == set(w.ENTERPRISE_NAMES.values())
    assert all(c.numbers == (c.detail,) and c.detail.startswith("91") for c in found)


async def test_projects_are_picked_by_name_or_permit_number_within_scope(registry_for: Registries) -> None:
    found = targets.projects_of(await registry_for(w.DISTRICT_XIHU).projects())
    assert [(c.key, c.numbers) for c in found] == [
        ("proj-a", ("3301002025010000",)),
        ("proj-c", ("3301002025010002",)),
    ]


async def test_a_projects_leaders_are_its_managers_told_apart_by_position_and_enterprise(
    registry_for: Registries,
) -> None:
    registry = registry_for(w.DISTRICT_XIHU)
    found = await targets.leaders(registry, "proj-a", lambda code: f"<{code}>")
    assert [(c.key, c.name, c.detail) for c in found] == [
        ("per-m1", "刘静", "<项目经理> · 西湖建工集团"),
        ("per-m2", "陈磊", "<总监理工程师> · 钱塘监理公司"),
    ]
    assert await targets.leaders(registry, "proj-c", str) == []
