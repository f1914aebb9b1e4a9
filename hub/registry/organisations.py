"""Registry writes for the organisations of the notice: districts, and enterprises with their
accounts (the enterprise number is the username), each in one transaction with its audit line."""

from __future__ import annotations

from sqlalchemy import select

from hub.auth.principal import Role
from hub.refusals import (
    DistrictExists,
    EnterpriseNumberTaken,
)
from hub.registry import permissions as may
from hub.registry import rows
from hub.registry.base import RegistryBase, fields_of, mint
from hub.registry.models import (
    AccountIn,
    DistrictIn,
    EnterpriseIn,
)
from hub.registry.records import (
    District,
    Enterprise,
)
from hub.store.schema import (
    districts,
    enterprises,
)


class OrganisationWrites(RegistryBase):
    async def create_district(self, data: DistrictIn) -> District:
        may.check_role(self._principal, may.CREATE_DISTRICT)
        async with self._store.write("registry.create_district") as conn:
            if await conn.scalar(select(districts.c.code).where(districts.c.code == data.code)):
                raise DistrictExists(data.code)
            insert = districts.insert().values(code=data.code, name=data.name)
            await rows.insert_unique(conn, insert, lambda _: DistrictExists(data.code))
            await self._audit(conn, "district.create", data.code, {"name": data.name})
        return District(code=data.code, name=data.name)

    async def create_enterprise(self, data: EnterpriseIn) -> Enterprise:
        """The enterprise and its account (username: the enterprise number), together or neither."""
        may.check_role(self._principal, may.CREATE_ENTERPRISE)
        may.check_district(self._principal, data.district, "register enterprises")
        now = self._clock.wall()
        enterprise = Enterprise(
            id=mint("ent"),
            number=data.number,
            name=data.name,
            kind=data.kind.value,
            district=data.district,
            local=data.local,
            created_at=now,
        )
        async with self._store.write("registry.create_enterprise") as conn:
            await rows.need_district(conn, "district", data.district)
            taken = await conn.scalar(select(enterprises.c.id).where(enterprises.c.number == data.number))
            if taken is not None:
                raise EnterpriseNumberTaken(data.number, taken)
            insert = enterprises.insert().values(**fields_of(enterprise))
            await rows.insert_unique(conn, insert, lambda _: EnterpriseNumberTaken(data.number))
            await self._account(
                conn,
                AccountIn(username=data.number, password=data.password),
                role=Role.ENTERPRISE,
                display_name=data.name,
                enterprise_id=enterprise.id,
            )
            detail = {
                "number": data.number,
                "kind": enterprise.kind,
                "district": data.district,
                "local": data.local,
            }
            await self._audit(conn, "enterprise.create", enterprise.id, detail)
        return enterprise
