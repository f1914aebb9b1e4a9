"""Registry writes about people: registration (once, city-wide), watchlist flags, and
assignments to projects (进场, 退场) with the overlap rule; a change a site's lanes must know is
told to the roster listeners after its transaction commits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.principal import Role
from hub.auth.scope import person_clause
from hub.refusals import (
    AssignmentOverlaps,
    ExitBeforeEntry,
    Forbidden,
    Missing,
    NotAParty,
    PersonAlreadyRegistered,
    UnknownReference,
)
from hub.registry import permissions as may
from hub.registry import rows
from hub.registry.base import RegistryBase, mint
from hub.registry.card_evidence import CardEvidence, read_device
from hub.registry.models import (
    AssignmentExit,
    AssignmentIn,
    PersonCategory,
    PersonIn,
    WatchlistIn,
)
from hub.registry.records import (
    Assignment,
    Person,
)
from hub.registry.teams import check_team
from hub.registry.vault import mask
from hub.store.schema import (
    assignments,
    persons,
)
from wire.credential import credential_hash


class PersonWrites(RegistryBase):
    async def register_person(self, data: PersonIn) -> Person:
        """作业人员备案 (workers: a bureau or the city) or 管理人员信息登记 (managers: also their
        own enterprise). Once city-wide: a number already registered is refused."""
        may.check_role(self._principal, may.REGISTER_PERSON)
        if self._principal.role is Role.ENTERPRISE and data.category is not PersonCategory.MANAGER:
            raise Forbidden(
                "an enterprise account registers its managers; workers are registered by a bureau"
            )
        may.check_own_enterprise(self._principal, data.enterprise_id, "register people")
        person_id = mint("per")
        index = self._vault.blind_index(data.id_number)
        now = self._clock.wall()
        async with self._store.write("registry.register_person") as conn:
            employer = await rows.need_enterprise(conn, "enterprise_id", data.enterprise_id)
            may.check_district(self._principal, employer.district, "register people of enterprises")
            existing = await conn.scalar(select(persons.c.id).where(persons.c.id_index == index))
            if existing is not None:
                raise PersonAlreadyRegistered(existing)
            values = {
                "id": person_id,
                "id_index": index,
                "id_cipher": self._vault.seal_id(person_id, data.id_number),
                "id_masked": mask(data.id_number),
                "name": data.name,
                "card_kind": data.card_kind,
                "nation": data.nation,
                "birth_date": data.effective_birth_date,
                "enterprise_id": data.enterprise_id,
                "category": data.category.value,
                "position": data.position.value if data.position else None,
                "registered_district": self._principal.district or employer.district,
                "watchlisted": False,
                "watchlist_reason": None,
                "created_at": now,
            }
            await rows.insert_unique(
                conn, persons.insert().values(**values), lambda _: PersonAlreadyRegistered()
            )
            detail = {
                "category": data.category.value,
                "position": values["position"],
                "card_kind": data.card_kind,
                "enterprise_id": data.enterprise_id,
                "registered_district": values["registered_district"],
            }
            await self._audit(conn, "person.register", person_id, detail)
            row = (await conn.execute(select(persons).where(persons.c.id == person_id))).one()
        return self._person(row)

    async def find_person(self, id_number: str) -> str | None:
        """The id of the person registered with ``id_number`` (through the blind index), or None.

        Whoever holds a card may learn whether it is registered and under which id, to assign or
        not register it twice; the person's record stays behind the account's scope. Each lookup
        leaves an audit line (issue 13: an unaudited lookup was an oracle for who is registered),
        with the number's blind index (a keyed hash), never the number.
        """
        may.check_role(self._principal, may.LOOKUP_PERSON)
        index = self._vault.blind_index(id_number)
        async with self._store.write("registry.find_person") as conn:
            found: str | None = await conn.scalar(select(persons.c.id).where(persons.c.id_index == index))
            await self._audit(
                conn, "person.lookup", found or "-", {"id_index": index, "found": found is not None}
            )
        return found

    async def set_watchlist(self, person_id: str, data: WatchlistIn) -> Person:
        """Flag or unflag; every project the person is assigned to gets a new roster."""
        may.check_role(self._principal, may.WATCHLIST)
        async with self._store.write("registry.set_watchlist") as conn:
            visible = select(persons).where(
                persons.c.id == person_id, person_clause(self._principal, persons.c.id)
            )
            if (await conn.execute(visible.with_for_update())).first() is None:
                raise Missing("person", person_id)
            reason = data.reason if data.flag else None
            await conn.execute(
                persons.update()
                .where(persons.c.id == person_id)
                .values(watchlisted=data.flag, watchlist_reason=reason)
            )
            await self._audit(conn, "person.watchlist", person_id, {"flag": data.flag})
            row = (await conn.execute(select(persons).where(persons.c.id == person_id))).one()
            affected = await conn.scalars(
                select(assignments.c.project_id).where(assignments.c.person_id == person_id).distinct()
            )
            projects_of_person = list(affected)
        await self._roster_changes.notify(projects_of_person)
        return self._person(row)

    async def assign(
        self, project_id: str, data: AssignmentIn, *, card: CardEvidence | None = None
    ) -> Assignment:
        """进场: a person on a project through a party enterprise, hashed under the site key; a
        visitor with the pass window the lanes admit them in. ``card``: the office reader's read
        the registration used (进场登记 with the card), recorded as ``entry_read_device`` when it
        is the person's card (:mod:`hub.registry.card_evidence`)."""
        may.check_role(self._principal, may.ASSIGN)
        may.check_own_project(self._principal, project_id, "assign people")
        may.check_own_enterprise(self._principal, data.enterprise_id, "assign people")
        now = self._clock.wall()
        async with self._store.write("registry.assign") as conn:
            project = await self._registered_project(conn, project_id)
            await rows.need_enterprise(conn, "enterprise_id", data.enterprise_id)
            if await self._party_role(conn, project_id, data.enterprise_id) is None:
                raise NotAParty(data.enterprise_id, project_id)
            # Locks the person (PostgreSQL), so two assignments of one person cannot both pass
            # the overlap check; SQLite's write transaction is already exclusive.
            person = (
                await conn.execute(select(persons).where(persons.c.id == data.person_id).with_for_update())
            ).first()
            if person is None:
                raise UnknownReference("person_id", "person", data.person_id)
            if (
                self._principal.role is not Role.GC_PROJECT
                and person.enterprise_id != self._principal.enterprise_id
            ):
                raise Forbidden(
                    f"person {person.id} is not on enterprise {self._principal.enterprise_id}'s staff"
                )
            await _check_overlap(conn, project_id, person.id, data.entry_date, data.exit_date)
            if data.team_id is not None:
                await check_team(conn, data.team_id, project_id, data.enterprise_id)
            entry_read_device = read_device(self._vault, card, person.id_index)
            site_key = self._vault.open_site_key(project_id, project.site_key_cipher)
            hashed = credential_hash(site_key, self._vault.open_id(person.id, person.id_cipher))
            values = {
                "project_id": project_id,
                "person_id": person.id,
                "enterprise_id": data.enterprise_id,
                "role": data.role,
                "entry_date": data.entry_date,
                "exit_date": data.exit_date,
                "created_at": now,
                "pass_from": data.pass_from,
                "pass_until": data.pass_until,
                "team_id": data.team_id,
                "entry_read_device": entry_read_device,
            }
            result = await conn.execute(assignments.insert().values(**values, credential_hash=hashed))
            assignment = Assignment(id=rows.inserted_id(result), **values)
            await self._audit(conn, "assignment.create", str(assignment.id), _jsonable(values))
        await self._roster_changes.notify([project_id])
        return assignment

    async def end_assignment(
        self, assignment_id: int, data: AssignmentExit, *, card: CardEvidence | None = None
    ) -> Assignment:
        """退场: set (or move) the exit date; the lanes stop admitting the person after it.
        ``card``: the office reader's read of 离场登记, recorded as ``exit_read_device`` (a
        registration without one clears it)."""
        may.check_role(self._principal, may.ASSIGN)
        async with self._store.write("registry.end_assignment") as conn:
            row = await self._assignment_to_change(conn, assignment_id)
            may.check_own_enterprise(self._principal, row.enterprise_id, "end assignments")
            if data.exit_date < row.entry_date:
                raise ExitBeforeEntry(row.entry_date, data.exit_date)
            await _check_overlap(
                conn, row.project_id, row.person_id, row.entry_date, data.exit_date, besides=assignment_id
            )
            index = await conn.scalar(select(persons.c.id_index).where(persons.c.id == row.person_id))
            exit_read_device = read_device(self._vault, card, str(index))
            await conn.execute(
                assignments.update()
                .where(assignments.c.id == assignment_id)
                .values(exit_date=data.exit_date, exit_read_device=exit_read_device)
            )
            detail = {
                "exit_date": data.exit_date.isoformat(),
                "was": _iso(row.exit_date),
                "exit_read_device": exit_read_device,
            }
            await self._audit(conn, "assignment.exit", str(assignment_id), detail)
        await self._roster_changes.notify([row.project_id])
        return _with_exit(row, data.exit_date, exit_read_device)


async def _check_overlap(
    conn: AsyncConnection,
    project_id: str,
    person_id: str,
    entry: date,
    exit: date | None,
    *,
    besides: int | None = None,
) -> None:
    """Dates are whole days, both ends included: leaving on the 10th and coming back on the 10th
    overlaps (the lane would have two entries for one day)."""
    a = assignments.c
    query = select(a.id, a.entry_date, a.exit_date).where(
        a.project_id == project_id,
        a.person_id == person_id,
        or_(a.exit_date.is_(None), a.exit_date >= entry),
        a.entry_date <= exit if exit is not None else true(),
    )
    if besides is not None:
        query = query.where(a.id != besides)
    clash = (await conn.execute(query.order_by(a.entry_date, a.id).limit(1))).first()
    if clash is not None:
        raise AssignmentOverlaps(clash.id, clash.entry_date, clash.exit_date)


def _with_exit(row: Row[Any], exit_date: date, exit_read_device: str | None) -> Assignment:
    return Assignment(**{**row._mapping, "exit_date": exit_date, "exit_read_device": exit_read_device})


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in values.items()}
