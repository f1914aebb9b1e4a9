"""A site as the benches that go through the hub build it: the way the notice's accounts do it.

The city registers the district, the general contractor and the project; the contractor registers
its project department (报备), which places the gates; the city registers each worker. Then the
lanes need the project's site key, which the hub keeps sealed in its database.

Import it after the bench has put the repository root on ``sys.path``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bench._lifetime import Lifetime
from controller.core.cards import IdentityCard
from hub.registry.keyfile import default_data_key_path, load_data_key
from hub.registry.uscc import with_check_character
from hub.registry.vault import IdVault
from hub.store.schema import projects

PASSWORD = "bench-password-0001"
GC_FIRST17 = "91330106MA2B00001"  # a synthetic unified social credit code, less its check character
DISTRICT = "330106"
API_TIMEOUT_S = 60.0


class Api:
    """The hub's API as one account, each answer within the bench's deadline."""

    def __init__(self, session: aiohttp.ClientSession, base: str, life: Lifetime) -> None:
        self.session = session
        self.base = base
        self.life = life
        self.headers: dict[str, str] = {}

    async def login(self, username: str, password: str = PASSWORD) -> Api:
        body = await self.call("POST", "/api/v1/auth/login", {"username": username, "password": password})
        other = Api(self.session, self.base, self.life)
        other.headers = {"Authorization": f"Bearer {body['token']}"}
        return other

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        limit, text = self.life.limit(API_TIMEOUT_S)
        if limit <= 0:
            self.life.fail(f"the hub's answer to {method} {path} {text}")
        try:
            async with self.session.request(
                method,
                self.base + path,
                json=body,
                headers=self.headers,
                timeout=aiohttp.ClientTimeout(total=limit),
            ) as response:
                answer = await response.json()
        except TimeoutError:
            self.life.fail(f"the hub's answer to {method} {path} {text}")
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {answer}")
        return answer


@dataclass(frozen=True)
class Site:
    city: Api
    project: Api
    """The general contractor's project department."""
    gc_enterprise_id: str


async def register_site(
    api: Api, *, project_id: str, permit_number: str, name: str, address: str, department: str
) -> Site:
    """The district, the general contractor, the project and its department's account ``department``."""
    city = await api.login("city-admin")
    await city.call("POST", "/api/v1/districts", {"code": DISTRICT, "name": "Xihu"})
    number = with_check_character(GC_FIRST17)
    gc = await city.call(
        "POST",
        "/api/v1/enterprises",
        {
            "number": number,
            "name": "Bench General Contracting Co.",
            "kind": "general_contractor",
            "district": DISTRICT,
            "local": True,
            "password": PASSWORD,
        },
    )
    await city.call(
        "POST",
        "/api/v1/projects",
        {
            "id": project_id,
            "permit_number": permit_number,
            "name": name,
            "district": DISTRICT,
            "address": address,
            "gc_enterprise_id": gc["id"],
            "permit_issued_on": "2026-11-01",
        },
    )
    enterprise = await api.login(number)
    await enterprise.call(
        "POST",
        f"/api/v1/projects/{project_id}/registration",
        {"account": {"username": department, "password": PASSWORD}},
    )
    return Site(city, await api.login(department), str(gc["id"]))


async def register_worker(site: Site, card: IdentityCard) -> str:
    """The city registers the card's holder as the general contractor's worker: the person's id."""
    person = await site.city.call(
        "POST",
        "/api/v1/persons",
        {
            "card_kind": card.kind.value,
            "id_number": card.id_number,
            "name": card.name,
            "nation": card.nation or None,
            "birth_date": card.birth_date.isoformat() if card.birth_date else None,
            "enterprise_id": site.gc_enterprise_id,
            "category": "worker",
        },
    )
    return str(person["id"])


async def site_key(database: Path, project_id: str) -> bytes:
    """The project's site key, unsealed from the hub's SQLite database with the hub's data key."""
    vault = IdVault(load_data_key(default_data_key_path(f"sqlite+aiosqlite:///{database}"), create=False))
    engine = create_async_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.connect() as conn:
            sealed = (
                await conn.execute(select(projects.c.site_key_cipher).where(projects.c.id == project_id))
            ).scalar_one()
    finally:
        await engine.dispose()
    return vault.open_site_key(project_id, sealed)
