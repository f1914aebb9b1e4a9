"""The district bureaus' contacts (the notice's annex, 附件: 分管领导, 部门领导, 日常联系人), one row
per district and role, printed on the monthly report (按月汇总报市建委).

A district bureau keeps its own district's rows; the city station reads every district's and may
correct any. No one else reads them: they are the authorities' own list. Each change is audited
in the write's transaction, with what was written (the phone included: it is an office number,
given to be called).

:class:`DistrictContacts` acts for one account, given when it is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Final

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth import audit, permissions
from hub.auth.principal import Principal
from hub.auth.scope import district_contact_clause
from hub.refusals import UnknownReference
from hub.registry.models import In
from hub.registry.permissions import check_district, check_role
from hub.store import Store
from hub.store.schema import district_contacts, districts

KEEPERS: Final = frozenset(permissions.AUTHORITIES)
"""Who reads and keeps the contacts: the city station (every district) and each bureau (its own)."""

ContactName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
ContactTitle = Annotated[str, Field(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")]
ContactPhone = Annotated[str, Field(min_length=3, max_length=32, pattern=r"^\+?[0-9][0-9 ()\-]*[0-9]$")]


class ContactRole(StrEnum):
    """The annex's three lines, in its order."""

    LEADER_IN_CHARGE = "leader_in_charge"
    """分管领导"""
    DEPARTMENT_HEAD = "department_head"
    """部门领导"""
    DAILY_CONTACT = "daily_contact"
    """日常联系人"""


class ContactIn(In):
    """One line of the annex: who, their title, an office or mobile number."""

    name: ContactName
    title: ContactTitle = ""
    phone: ContactPhone


@dataclass(frozen=True, slots=True)
class DistrictContact:
    district: str
    role: ContactRole
    name: str
    title: str
    phone: str
    updated_at: datetime


def _contact(row: object) -> DistrictContact:
    m = row._mapping  # type: ignore[attr-defined]
    return DistrictContact(
        district=m["district"],
        role=ContactRole(m["role"]),
        name=m["name"],
        title=m["title"] or "",
        phone=m["phone"],
        updated_at=m["updated_at"],
    )


def by_role(contacts: list[DistrictContact]) -> dict[ContactRole, DistrictContact | None]:
    """One district's rows as the annex prints them: every role, in order, None where unfilled."""
    found = {contact.role: contact for contact in contacts}
    return {role: found.get(role) for role in ContactRole}


class DistrictContacts:
    """The contacts as ``principal`` reads and keeps them (refused to any other role)."""

    def __init__(self, store: Store, principal: Principal) -> None:
        check_role(principal, KEEPERS)
        self._store = store
        self._principal = principal

    async def contacts(self, district: str | None = None) -> list[DistrictContact]:
        """The rows in scope (of ``district`` if given), by district then the annex's order."""
        c = district_contacts.c
        where = [district_contact_clause(self._principal)]
        if district is not None:
            where.append(c.district == district)
        async with self._store.read("contacts.list") as conn:
            rows = (await conn.execute(select(district_contacts).where(*where))).all()
        order = list(ContactRole)
        found = [_contact(row) for row in rows]
        return sorted(found, key=lambda x: (x.district, order.index(x.role)))

    async def save(
        self, district: str, role: ContactRole, data: ContactIn, *, now: datetime
    ) -> DistrictContact:
        """Set (or replace) one line of ``district``'s annex."""
        check_district(self._principal, district, "keep the contacts of")
        async with self._store.write("contacts.save") as conn:
            await _known_district(conn, district)
            c = district_contacts.c
            key = (c.district == district, c.role == role.value)
            values = {
                "name": data.name,
                "title": data.title or None,
                "phone": data.phone,
                "updated_at": now,
                "updated_by": self._principal.account_id,
            }
            updated = await conn.execute(district_contacts.update().where(*key).values(**values))
            if updated.rowcount == 0:
                await conn.execute(district_contacts.insert().values(district=district, role=role, **values))
            await audit.record(
                conn,
                self._principal,
                "contacts.save",
                at=now,
                target=f"{district}/{role.value}",
                detail={"name": data.name, "title": data.title, "phone": data.phone},
            )
        return DistrictContact(district, role, data.name, data.title, data.phone, now)


async def _known_district(conn: AsyncConnection, district: str) -> None:
    found = await conn.scalar(select(districts.c.code).where(districts.c.code == district))
    if found is None:
        raise UnknownReference("district", "district", district)
