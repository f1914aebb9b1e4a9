"""通报 (通报表扬 commendations, 通报批评 criticisms): numbered documents of an authority.

The city station or a district bureau issues one about projects, enterprises and project managers
(a bureau about those in its district, as for orders). Its number, e.g. ``杭建实名通〔2026〕3号``,
counts per issuing authority and year and is assigned here, inside the write's transaction, from
the documents already issued: never typed, never reused. Two issues at once are numbered one after
the other: SQLite's write transactions are serial already (BEGIN IMMEDIATE), and on PostgreSQL the
transaction first takes :data:`NUMBERING_LOCK_KEY` (the number column's uniqueness is the last
guard). The date is the hub's clock's day on the site calendar, so a document issued at 00:00
Beijing time on 1 January counts in the new year.

:class:`Bulletins` acts for one account, given when it is built; which 通报 it sees is
:func:`hub.auth.scope.bulletin_clause`, chosen inside. 通报 are never edited: a correction is a
new document, as on paper.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import Field
from sqlalchemy import Select, and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth import audit, permissions
from hub.auth.principal import Principal, Role
from hub.auth.scope import bulletin_clause
from hub.derive.days import local_day
from hub.refusals import DeadlineInPast, NotAProjectLeader, OutsideDistrict, UnknownReference
from hub.registry.models import In
from hub.registry.permissions import check_role
from hub.registry.rows import inserted_id
from hub.store.schema import (
    accounts,
    assignments,
    bulletin_parties,
    bulletins,
    districts,
    enterprises,
    persons,
    projects,
    sanctions,
)
from hub.workflows.models import LongText, Subject
from hub.workflows.targets import MANAGER, TargetChecks

ISSUERS: Final = permissions.BULLETIN_ISSUERS
READERS: Final = permissions.READERS
NUMBERING_LOCK_KEY: Final = 0x5347424E  # "SGBN": one advisory lock for every authority's numbering
CITY_PREFIX: Final = "杭建实名通"
"""The city station's document prefix (杭州市建设工程实名制管理: 杭建实名通〔year〕n号)."""
MAX_PARTIES: Final = 50
_WHAT = "issue a bulletin about"
_ADMIN_SUFFIXES: Final = ("区", "县", "市")


class BulletinKind(StrEnum):
    COMMENDATION = "commendation"
    """通报表扬"""
    CRITICISM = "criticism"
    """通报批评"""


class PartyKind(StrEnum):
    PROJECT = "project"
    ENTERPRISE = "enterprise"
    PERSON = "person"
    """A project manager (四类人员), named with the project they lead."""


PartyId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class PartyIn(In):
    kind: PartyKind
    id: PartyId


class SanctionTerms(In):
    """A sanction a 通报 announces for each party it names, from its date through ``ends_on``."""

    reason: LongText
    ends_on: date


class BulletinIn(In):
    """A 通报 as its issuer writes it: the number and date are the hub's."""

    kind: BulletinKind
    title: Subject
    body: LongText
    parties: Annotated[tuple[PartyIn, ...], Field(min_length=1, max_length=MAX_PARTIES)]
    sanction: SanctionTerms | None = None


@dataclass(frozen=True, slots=True)
class Party:
    kind: str
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Bulletin:
    id: int
    number: str
    kind: str
    district: str | None
    """The issuing bureau's district; None for the city station."""
    issuer_name: str
    """The issuing authority as printed: the city station, or the district bureau."""
    title: str
    body: str
    issued_on: date
    issued_by: str
    parties: tuple[Party, ...]


@dataclass(frozen=True, slots=True)
class SanctionRow:
    subject_kind: str
    subject_id: str
    reason: str
    starts_on: date
    ends_on: date


async def insert_sanction(
    conn: AsyncConnection, principal: Principal, row: SanctionRow, *, bulletin_id: int | None, now: datetime
) -> int:
    """One sanction, audited, in the caller's transaction (a 通报's, or one recorded alone)."""
    result = await conn.execute(
        sanctions.insert().values(
            subject_kind=row.subject_kind,
            subject_id=row.subject_id,
            reason=row.reason,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            bulletin_id=bulletin_id,
            district=principal.district if principal.role is Role.DISTRICT else None,
            recorded_by=principal.account_id,
            recorded_at=now,
        )
    )
    sanction_id = inserted_id(result)
    detail = {
        "subject": [row.subject_kind, row.subject_id],
        "period": [row.starts_on.isoformat(), row.ends_on.isoformat()],
        "bulletin_id": bulletin_id,
    }
    await audit.record(
        conn, principal, "workflow.sanction", at=now, target=f"sanction:{sanction_id}", detail=detail
    )
    return sanction_id


def authority_prefix(district_name: str | None) -> str:
    """The document prefix of an authority: the city's, or the district's short name before 建实名通."""
    if district_name is None:
        return CITY_PREFIX
    short = district_name
    if len(short) > 2 and short.endswith(_ADMIN_SUFFIXES):
        short = short[:-1]
    return f"{short}建实名通"


def document_number(prefix: str, year: int, sequence: int) -> str:
    """``杭建实名通〔2026〕3号``: the prefix, the year in 六角括号, the year's sequence."""
    return f"{prefix}〔{year}〕{sequence}号"


def issuer_name(district_name: str | None) -> str:
    """The authority as a document names it."""
    if district_name is None:
        return "杭州市建设工程实名制管理站"
    return f"{district_name}住房和城乡建设局"


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


class Bulletins(TargetChecks):
    """通报 as ``principal`` issues and reads them."""

    async def issue(self, data: BulletinIn, *, now: datetime) -> Bulletin:
        principal = self._principal
        check_role(principal, ISSUERS)
        issued_on = local_day(now)
        district = principal.district if principal.role is Role.DISTRICT else None
        async with self._store.write("workflows.bulletin") as conn:
            parties = [await self._party(conn, party) for party in _distinct(data.parties)]
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": NUMBERING_LOCK_KEY})
            district_name = await _district_name(conn, district)
            sequence = await _issued_in_year(conn, district, issued_on.year) + 1
            number = document_number(authority_prefix(district_name), issued_on.year, sequence)
            result = await conn.execute(
                bulletins.insert().values(
                    number=number,
                    kind=data.kind.value,
                    district=district,
                    title=data.title,
                    body=data.body,
                    issued_on=issued_on,
                    issuer_account_id=principal.account_id,
                    created_at=now,
                )
            )
            bulletin_id = inserted_id(result)
            await conn.execute(
                bulletin_parties.insert(),
                [{"bulletin_id": bulletin_id, "party_kind": p.kind, "party_id": p.id} for p in parties],
            )
            if data.sanction is not None:
                if data.sanction.ends_on < issued_on:
                    raise DeadlineInPast(data.sanction.ends_on, issued_on)
                for p in parties:
                    await insert_sanction(
                        conn,
                        principal,
                        SanctionRow(p.kind, p.id, data.sanction.reason, issued_on, data.sanction.ends_on),
                        bulletin_id=bulletin_id,
                        now=now,
                    )
            detail = {"number": number, "kind": data.kind.value, "parties": [[p.kind, p.id] for p in parties]}
            await audit.record(
                conn, principal, "workflow.bulletin", at=now, target=f"bulletin:{bulletin_id}", detail=detail
            )
            found = await self._fetch(conn, [bulletin_id])
            return found[0]

    async def get(self, bulletin_id: int) -> Bulletin | None:
        check_role(self._principal, READERS)
        async with self._store.read("workflows.bulletin") as conn:
            found = await self._fetch(conn, [bulletin_id])
        return found[0] if found else None

    async def listing(self, *, party: tuple[str, str] | None = None, limit: int = 200) -> list[Bulletin]:
        """Newest first; ``party`` = (kind, id) keeps those naming it."""
        check_role(self._principal, READERS)
        b, bp = bulletins.c, bulletin_parties.c
        query = self._query().order_by(b.id.desc()).limit(limit)
        if party is not None:
            named = select(bp.bulletin_id).where(bp.party_kind == party[0], bp.party_id == party[1])
            query = query.where(b.id.in_(named))
        async with self._store.read("workflows.bulletins") as conn:
            rows = (await conn.execute(query)).all()
            return await self._built(conn, rows)

    def _query(self) -> Select[Any]:
        b, d, acct = bulletins.c, districts.c, bulletins.c.issuer_account_id
        return (
            select(bulletins, d.name.label("district_name"), accounts.c.username.label("issued_by"))
            .select_from(
                bulletins.outerjoin(districts, d.code == b.district).join(accounts, accounts.c.id == acct)
            )
            .where(bulletin_clause(self._principal, b.id, b.district))
        )

    async def _fetch(self, conn: AsyncConnection, ids: list[int]) -> list[Bulletin]:
        rows = (await conn.execute(self._query().where(bulletins.c.id.in_(ids)))).all()
        return await self._built(conn, rows)

    async def _built(self, conn: AsyncConnection, rows: list[Any]) -> list[Bulletin]:
        names = await _party_names(conn, [row.id for row in rows])
        return [
            Bulletin(
                id=row.id,
                number=row.number,
                kind=row.kind,
                district=row.district,
                issuer_name=issuer_name(row.district_name),
                title=row.title,
                body=row.body,
                issued_on=row.issued_on,
                issued_by=row.issued_by,
                parties=tuple(names.get(row.id, ())),
            )
            for row in rows
        ]

    async def _party(self, conn: AsyncConnection, party: PartyIn) -> Party:
        """The party named, once it exists and lies within the issuer's reach."""
        if party.kind is PartyKind.PROJECT:
            target = await self._project_target(conn, party.id, _WHAT)
            return Party(party.kind.value, party.id, target.name)
        if party.kind is PartyKind.ENTERPRISE:
            target = await self._enterprise_target(conn, party.id, _WHAT)
            return Party(party.kind.value, party.id, target.name)
        return Party(party.kind.value, party.id, await self._manager(conn, party.id))

    async def _manager(self, conn: AsyncConnection, person_id: str) -> str:
        """A manager (四类人员); a bureau names only one assigned to a project in its district."""
        per, a, p = persons.c, assignments.c, projects.c
        person = (await conn.execute(select(per.name, per.category).where(per.id == person_id))).first()
        if person is None:
            raise UnknownReference("person_id", "person", person_id)
        led = select(a.project_id).where(a.person_id == person_id, a.role == MANAGER)
        if self._principal.role is Role.DISTRICT:
            led = led.join(projects, p.id == a.project_id).where(p.district == self._principal.district)
        if person.category != MANAGER or await conn.scalar(led.limit(1)) is None:
            if person.category == MANAGER and self._principal.role is Role.DISTRICT:
                raise OutsideDistrict(self._principal.district, _WHAT, f"person {person_id}")
            raise NotAProjectLeader(person_id, "any project")
        return str(person.name)


def _distinct(parties: Iterable[PartyIn]) -> list[PartyIn]:
    seen: dict[tuple[str, str], PartyIn] = {}
    for party in parties:
        seen.setdefault((party.kind.value, party.id), party)
    return list(seen.values())


async def _district_name(conn: AsyncConnection, district: str | None) -> str | None:
    if district is None:
        return None
    name: str | None = await conn.scalar(select(districts.c.name).where(districts.c.code == district))
    return name


async def _issued_in_year(conn: AsyncConnection, district: str | None, year: int) -> int:
    b = bulletins.c
    first, last = year_bounds(year)
    issuer = b.district.is_(None) if district is None else b.district == district
    count = await conn.scalar(
        select(func.count()).select_from(bulletins).where(and_(issuer, b.issued_on.between(first, last)))
    )
    return int(count or 0)


async def _party_names(conn: AsyncConnection, bulletin_ids: list[int]) -> dict[int, list[Party]]:
    """Each bulletin's parties with their names now, in the order kinds are listed (projects first)."""
    if not bulletin_ids:
        return {}
    bp = bulletin_parties.c
    rows = (await conn.execute(select(bulletin_parties).where(bp.bulletin_id.in_(bulletin_ids)))).all()
    wanted: dict[str, set[str]] = {}
    for row in rows:
        wanted.setdefault(row.party_kind, set()).add(row.party_id)
    names: dict[tuple[str, str], str] = {}
    for kind, table in (("project", projects), ("enterprise", enterprises), ("person", persons)):
        ids = wanted.get(kind)
        if ids:
            found = await conn.execute(select(table.c.id, table.c.name).where(table.c.id.in_(ids)))
            names.update({(kind, r.id): r.name for r in found})
    order = {kind.value: i for i, kind in enumerate(PartyKind)}
    out: dict[int, list[Party]] = {}
    for row in sorted(rows, key=lambda r: (order.get(r.party_kind, 9), r.party_id)):
        name = names.get((row.party_kind, row.party_id), row.party_id)
        out.setdefault(row.bulletin_id, []).append(Party(row.party_kind, row.party_id, name))
    return out
