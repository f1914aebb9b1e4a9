"""A small registry world on a real store (both backends): the city, two district bureaus, one
enterprise of each kind, a registered project with its three project departments, an
unregistered one, and a worker assigned through the labour subcontractor.

Accounts the registry made (enterprises', project departments') are read back as Principals,
exactly as a login would produce them.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from hardware.emulators.identities import synthetic_identity
from hub.api.keys import REGISTRY, STORE
from hub.app import create_app
from hub.auth.principal import Principal, Role
from hub.config import HubConfig
from hub.registry import Enterprise, IdVault, Person, Project, RegistryDesk, load_data_key
from hub.registry.models import (
    AccountIn,
    AssignmentIn,
    DistrictIn,
    EnterpriseIn,
    PartyIn,
    PersonIn,
    ProjectIn,
    RegistrationIn,
)
from hub.registry.uscc import with_check_character
from hub.store import Store
from hub.store.schema import accounts
from sitegate.netutil import free_port
from tests.support.accounts import create_account
from wire.models import CardKind

Client = TestClient[web.Request, web.Application]
PASSWORD = "initial-password-1"
HOME, OTHER = "330106", "330105"


def uscc(serial: int, district: str = HOME) -> str:
    """A valid unified social credit code for a synthetic enterprise."""
    return with_check_character(f"91{district}MA{serial:07d}")


def new_number(rng: random.Random, kind: CardKind = CardKind.RESIDENT) -> str:
    return synthetic_identity(rng, kind=kind).id_number


async def account(store: Store, username: str) -> Principal:
    """The Principal a login of ``username`` would produce."""
    async with store.read("test") as conn:
        row = (await conn.execute(select(accounts).where(accounts.c.username == username))).one()
    return Principal(row.id, row.username, Role(row.role), row.district, row.enterprise_id, row.project_id)


@dataclass
class World:
    store: Store
    registry: RegistryDesk
    rng: random.Random
    city: Principal
    district: Principal
    other_district: Principal
    operator: Principal
    gc: Enterprise
    sub: Enterprise
    other_sub: Enterprise
    supervisor: Enterprise
    gc_account: Principal
    sub_account: Principal
    project: Project
    unregistered: Project
    gc_project: Principal
    sub_project: Principal
    supervision_project: Principal
    worker: Person
    numbers: dict[str, str] = field(default_factory=dict)
    """person id -> ID number, for assertions that the number never leaks."""
    roster_calls: list[str] = field(default_factory=list)

    async def person(self, enterprise: Enterprise | None = None, **changes: object) -> Person:
        number = new_number(self.rng)
        values: dict[str, object] = {
            "card_kind": "resident",
            "id_number": number,
            "name": "张伟",
            "enterprise_id": (enterprise or self.sub).id,
            "category": "worker",
        }
        values.update(changes)
        person = await self.registry.acting_for(self.city).register_person(PersonIn.model_validate(values))
        self.numbers[person.id] = str(values["id_number"])
        return person


async def build_world(store: Store, registry: RegistryDesk, seed: int = 7) -> World:
    rng = random.Random(seed)
    city = await create_account(store, role=Role.CITY, username="city-1")
    for code, name in ((HOME, "西湖区"), (OTHER, "拱墅区")):
        await registry.acting_for(city).create_district(DistrictIn(code=code, name=name))
    district = await create_account(store, role=Role.DISTRICT, username="xihu-bureau", district=HOME)
    other_district = await create_account(
        store, role=Role.DISTRICT, username="gongshu-bureau", district=OTHER
    )
    operator = await create_account(store, role=Role.OPERATOR, username="operator-1")

    async def enterprise(serial: int, kind: str, name: str) -> Enterprise:
        data = EnterpriseIn(
            number=uscc(serial), name=name, kind=kind, district=HOME, local=True, password=PASSWORD
        )
        return await registry.acting_for(city).create_enterprise(data)

    gc = await enterprise(1, "general_contractor", "总包建设集团")
    sub = await enterprise(2, "labour_subcontractor", "劳务分包公司")
    other_sub = await enterprise(3, "professional_subcontractor", "幕墙专业分包")
    supervisor = await enterprise(4, "supervision", "监理咨询公司")
    project = await registry.acting_for(city).create_project(
        ProjectIn(
            id="site-a",
            permit_number="330106202601150101",
            name="文三路项目",
            district=HOME,
            address="文三路1号",
            gc_enterprise_id=gc.id,
            permit_issued_on=date(2026, 1, 15),
        ),
    )
    unregistered = await registry.acting_for(district).create_project(
        ProjectIn(
            id="site-b",
            permit_number="330106202602010202",
            name="古墩路项目",
            district=HOME,
            address="古墩路2号",
            gc_enterprise_id=gc.id,
            permit_issued_on=date(2026, 2, 1),
        ),
    )
    gc_account = await account(store, gc.number)
    project = await registry.acting_for(gc_account).register_project(
        project.id, RegistrationIn(account=AccountIn(username="site-a-gc", password=PASSWORD))
    )
    gc_project = await account(store, "site-a-gc")
    for enterprise_, role, username in (
        (sub, "subcontractor", "site-a-labour"),
        (supervisor, "supervision", "site-a-supervision"),
    ):
        party = PartyIn(
            enterprise_id=enterprise_.id, role=role, account=AccountIn(username=username, password=PASSWORD)
        )
        await registry.acting_for(gc_project).add_party(project.id, party)
    world = World(
        store=store,
        registry=registry,
        rng=rng,
        city=city,
        district=district,
        other_district=other_district,
        operator=operator,
        gc=gc,
        sub=sub,
        other_sub=other_sub,
        supervisor=supervisor,
        gc_account=gc_account,
        sub_account=await account(store, sub.number),
        project=project,
        unregistered=unregistered,
        gc_project=gc_project,
        sub_project=await account(store, "site-a-labour"),
        supervision_project=await account(store, "site-a-supervision"),
        worker=None,  # type: ignore[arg-type]  # set just below
    )
    world.worker = await world.person()
    await registry.acting_for(gc_project).assign(
        project.id,
        AssignmentIn(
            person_id=world.worker.id, enterprise_id=sub.id, role="worker", entry_date=date(2026, 3, 1)
        ),
    )

    async def listener(project_id: str) -> None:
        world.roster_calls.append(project_id)

    registry.subscribe(listener)
    return world


@pytest.fixture
def vault() -> IdVault:
    return IdVault(bytes(range(32)))


@pytest.fixture
async def world(store: Store, vault: IdVault) -> World:
    return await build_world(store, RegistryDesk(store, vault, fast_hash=True))


@pytest.fixture
async def client(database_url: str, tmp_path: Path) -> AsyncIterator[Client]:
    config = HubConfig(database_url=database_url, mqtt_port=free_port(), data_key_file=tmp_path / "data.key")
    async with TestClient(TestServer(create_app(config))) as test_client:
        yield test_client


@pytest.fixture
async def http_world(client: Client, tmp_path: Path) -> World:
    """The world in the app's database, built with the app's key (cheap password hashes); its
    roster listener is on the app's registry, the one the API writes through."""
    store = client.app[STORE]
    world = await build_world(
        store, RegistryDesk(store, IdVault(load_data_key(tmp_path / "data.key")), fast_hash=True)
    )

    async def listener(project_id: str) -> None:
        world.roster_calls.append(project_id)

    client.app[REGISTRY].subscribe(listener)
    return world
