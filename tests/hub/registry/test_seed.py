"""The synthetic registry: the same seed makes the same world, with every case the demo and the
statistics need (each enterprise kind, local and outside, registered and unregistered projects,
ended assignments, watchlisted people, lanes at the given projects)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.auth.passwords import verify_password
from hub.auth.principal import Role
from hub.registry import IdVault, RegistryDesk
from hub.registry.seed import SEED_PASSWORD, SeedSummary, seed_registry
from hub.rosters.registry_source import RegistrySource
from hub.store import Store
from hub.store.schema import accounts
from tests.support.accounts import create_account
from wire.idnumber import is_valid_id_number

GATES = {"demo-site": ["lane-d1", "lane-d2"]}


async def seeded(store: Store, **options: Any) -> tuple[RegistryDesk, SeedSummary]:
    registry = RegistryDesk(store, IdVault(bytes(32)), fast_hash=True)
    city = await create_account(store, role=Role.CITY, username="city-seed")
    return registry, await seed_registry(registry, city, people=40, gates=GATES, **options)


def content(summary: SeedSummary) -> Any:
    """What must not depend on the run: everything but the minted ids."""
    return (
        summary.districts,
        summary.registered_projects,
        summary.unregistered_projects,
        [(p.id_number, p.name, p.birth_date, p.projects, p.watchlisted) for p in summary.people],
        summary.assignments,
        summary.gates,
        sorted(summary.accounts.items()),
    )


async def test_a_seed_has_every_case(store: Store) -> None:
    registry, summary = await seeded(store)
    city = await registry.account_principal("city-seed")
    kinds = {(e.kind, e.local) for e in (await registry.acting_for(city).enterprises()).items}
    assert {kind for kind, _ in kinds} == {
        "general_contractor",
        "professional_subcontractor",
        "labour_subcontractor",
        "supervision",
    }
    assert {local for _, local in kinds} == {True, False}
    assert "demo-site" in summary.registered_projects and summary.unregistered_projects
    unregistered = await registry.acting_for(city).projects(registered=False)
    assert {p.id for p in unregistered} == set(summary.unregistered_projects)
    assert len(summary.people) == 40 and all(is_valid_id_number(p.id_number) for p in summary.people)
    assert len({p.id_number for p in summary.people}) == 40
    assert sum(p.watchlisted for p in summary.people) == 2
    assert 0 < summary.assignments <= 40 and summary.gates == 2
    assert [g.device_id for g in await registry.acting_for(city).gates("demo-site")] == ["lane-d1", "lane-d2"]
    categories = {p.category for p in (await registry.acting_for(city).persons(limit=100)).items}
    assert categories == {"worker", "manager"}
    # The lanes' side: the gated project's roster is a read of what the seed assigned.
    source = RegistrySource(store)
    assert await source.devices("demo-site") == {"lane-d1", "lane-d2"}
    on_demo = [p for p in summary.people if "demo-site" in p.projects]
    assert len(await source.entries("demo-site")) <= len(on_demo)
    # Every account the seed made logs in with the seed's password.
    async with store.read("test") as conn:
        rows = (await conn.execute(select(accounts.c.username, accounts.c.password_hash))).all()
    made = {row.username: row.password_hash for row in rows}
    assert set(summary.accounts) <= set(made)
    assert all(verify_password(made[name], SEED_PASSWORD) for name in list(summary.accounts)[:3])


async def test_the_same_seed_makes_the_same_world(store: Store, tmp_path: Path) -> None:
    _, first = await seeded(store)
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'again.db'}") as other:
        _, again = await seeded(other)
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}") as other:
        _, different = await seeded(other, seed=7)
    assert content(first) == content(again)
    assert content(first)[3] != content(different)[3]
