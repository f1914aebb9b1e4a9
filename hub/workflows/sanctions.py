"""Eligibility sanctions: the notice's consequence of refusing real-name management, no
标准化样板工地 award or related honours for a period, for a project, an enterprise or a manager.

Recorded by the city station or a district bureau (a bureau within its reach, as for 通报), with
the reason, the period (site-calendar days, both included) and, when it came from one, the 通报.
Wherever the console shows a project, an enterprise or a manager it asks :meth:`Sanctions.in_force`
about what it shows; what it asks about is already in the reader's scope, so the answer is not
scoped again (a sanction is part of a public document's consequence, not a personal record).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from pydantic import model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth import permissions
from hub.auth.scope import bulletin_clause
from hub.refusals import UnknownReference
from hub.registry.models import In
from hub.registry.permissions import check_role
from hub.store.schema import bulletins, sanctions
from hub.workflows.bulletins import Bulletins, PartyId, PartyIn, PartyKind, SanctionRow, insert_sanction
from hub.workflows.models import LongText

RECORDERS: Final = permissions.BULLETIN_ISSUERS
READERS: Final = permissions.READERS


class SanctionIn(In):
    subject_kind: PartyKind
    subject_id: PartyId
    reason: LongText
    starts_on: date
    ends_on: date
    bulletin_id: int | None = None
    """The 通报 the sanction was announced in, if any (one the recorder can read)."""

    @model_validator(mode="after")
    def _period(self) -> SanctionIn:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on: the period ends before it starts")
        return self


@dataclass(frozen=True, slots=True)
class Sanction:
    id: int
    subject_kind: str
    subject_id: str
    reason: str
    starts_on: date
    ends_on: date
    bulletin_id: int | None
    bulletin_number: str | None
    district: str | None


def _sanction(row: Any) -> Sanction:
    return Sanction(
        id=row.id,
        subject_kind=row.subject_kind,
        subject_id=row.subject_id,
        reason=row.reason,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        bulletin_id=row.bulletin_id,
        bulletin_number=row.bulletin_number,
        district=row.district,
    )


class Sanctions(Bulletins):
    """Sanctions as ``principal`` records and reads them (the subject checked as a 通报's party)."""

    async def record(self, data: SanctionIn, *, now: datetime) -> Sanction:
        principal = self._principal
        check_role(principal, RECORDERS)
        async with self._store.write("workflows.sanction") as conn:
            await self._party(conn, PartyIn(kind=data.subject_kind, id=data.subject_id))
            if data.bulletin_id is not None:
                await self._readable_bulletin(conn, data.bulletin_id)
            terms = SanctionRow(
                data.subject_kind.value, data.subject_id, data.reason, data.starts_on, data.ends_on
            )
            sanction_id = await insert_sanction(conn, principal, terms, bulletin_id=data.bulletin_id, now=now)
            row = (await conn.execute(_query().where(sanctions.c.id == sanction_id))).one()
            return _sanction(row)

    async def in_force(
        self, subject_kind: PartyKind, subject_ids: Iterable[str], *, on: date
    ) -> dict[str, list[Sanction]]:
        """The sanctions in force ``on`` that day for each of ``subject_ids`` that has any."""
        check_role(self._principal, READERS)
        ids = sorted(set(subject_ids))
        if not ids:
            return {}
        s = sanctions.c
        query = _query().where(
            s.subject_kind == subject_kind.value, s.subject_id.in_(ids), s.starts_on <= on, s.ends_on >= on
        )
        async with self._store.read("workflows.sanctions") as conn:
            rows = (await conn.execute(query.order_by(s.ends_on.desc(), s.id))).all()
        found: dict[str, list[Sanction]] = {}
        for row in rows:
            found.setdefault(row.subject_id, []).append(_sanction(row))
        return found

    async def of_bulletin(self, bulletin_id: int) -> list[Sanction]:
        """The sanctions a 通报 the account can read announced (printed on it)."""
        check_role(self._principal, READERS)
        s, b = sanctions.c, bulletins.c
        readable = select(b.id).where(b.id == bulletin_id, bulletin_clause(self._principal, b.id, b.district))
        async with self._store.read("workflows.sanctions") as conn:
            rows = (await conn.execute(_query().where(s.bulletin_id.in_(readable)).order_by(s.id))).all()
        return [_sanction(row) for row in rows]

    async def _readable_bulletin(self, conn: AsyncConnection, bulletin_id: int) -> None:
        b = bulletins.c
        visible = select(b.id).where(b.id == bulletin_id, bulletin_clause(self._principal, b.id, b.district))
        if await conn.scalar(visible) is None:
            raise UnknownReference("bulletin_id", "bulletin", str(bulletin_id))


def _query() -> Any:
    s, b = sanctions.c, bulletins.c
    return select(sanctions, b.number.label("bulletin_number")).select_from(
        sanctions.outerjoin(bulletins, b.id == s.bulletin_id)
    )
