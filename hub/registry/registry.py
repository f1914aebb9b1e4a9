"""The registry of the notice: who may be on which site, written and read on behalf of an account.

Every write is one transaction (:meth:`Store.write`) that also writes its audit line, so a write
that fails leaves nothing behind, neither half a registration nor an account without its party.
Who may write is checked twice (:mod:`hub.registry.permissions`): by role before the transaction,
and against the rows the transaction reads. Every read ANDs the asking account's scope
(:mod:`hub.auth.scope`) into its SQL.

A write that changes what a site's lanes must know (an assignment, a watchlist flag, a gate) calls
each subscribed listener with the project's id, after the transaction commits and never before:
a listener compiles and pushes the roster, and must read what was committed. A listener that
fails is logged and does not undo or fail the write (the roster publisher retries on its own).
"""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth import audit
from hub.auth.accounts import AccountExists, insert_account
from hub.auth.principal import Principal, Role
from hub.auth.scope import (
    person_clause,
    person_record_clause,
)
from hub.registry import permissions as may
from hub.registry import rows
from hub.registry.errors import (
    AssignmentOverlaps,
    DeviceAlreadyPlaced,
    DistrictExists,
    EnterpriseNumberTaken,
    ExitBeforeEntry,
    Forbidden,
    InvalidAccount,
    Missing,
    NotAParty,
    PartyExists,
    PermitNumberTaken,
    PersonAlreadyRegistered,
    ProjectAlreadyRegistered,
    ProjectIdTaken,
    ProjectNotRegistered,
    UnknownReference,
    UsernameTaken,
    WrongEnterpriseKind,
)
from hub.registry.models import (
    SUBCONTRACTOR_KINDS,
    AccountIn,
    AssignmentExit,
    AssignmentIn,
    DistrictIn,
    EnterpriseIn,
    EnterpriseKind,
    GateIn,
    InspectionIn,
    PartyIn,
    PartyRole,
    PersonCategory,
    PersonIn,
    ProjectIn,
    RegistrationIn,
    WatchlistIn,
)
from hub.registry.reads import RegistryReader
from hub.registry.records import (
    Assignment,
    Created,
    District,
    Enterprise,
    Gate,
    Inspection,
    Party,
    Person,
    Project,
)
from hub.registry.vault import IdVault, mask
from hub.store import Store
from hub.store.schema import (
    assignments,
    districts,
    enterprises,
    gates,
    inspections,
    persons,
    project_parties,
    projects,
)
from wire.clock import Clock, SystemClock
from wire.credential import credential_hash

log = logging.getLogger(__name__)

RosterListener = Callable[[str], Awaitable[None]]
"""Called with a project's id after a committed write changed what its lanes must know."""

_PARTY_ACCOUNT_ROLES = {
    PartyRole.SUBCONTRACTOR: Role.SUB_PROJECT,
    PartyRole.SUPERVISION: Role.SUPERVISION_PROJECT,
}
_PARTY_KINDS = {
    PartyRole.SUBCONTRACTOR: SUBCONTRACTOR_KINDS,
    PartyRole.SUPERVISION: frozenset({EnterpriseKind.SUPERVISION}),
}
GENERAL_CONTRACTOR = "general_contractor"


def mint(prefix: str) -> str:
    """A fresh id that says nothing about whom it names (ids travel in rosters and events)."""
    return f"{prefix}-{secrets.token_hex(8)}"


class Registry(RegistryReader):
    def __init__(
        self,
        store: Store,
        vault: IdVault,
        *,
        clock: Clock | None = None,
        fast_hash: bool = False,
    ) -> None:
        """``clock``: what every write is stamped with (the system's when not given);
        ``fast_hash``: cheap argon2 parameters for the accounts it creates (tests, demo seeds)."""
        super().__init__(store, vault)
        self._clock = clock or SystemClock()
        self._fast_hash = fast_hash
        self._listeners: list[RosterListener] = []

    def subscribe(self, listener: RosterListener) -> Callable[[], None]:
        """Call ``listener`` after each committed roster change; returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # -- districts and enterprises ---------------------------------------------------------------

    async def create_district(self, principal: Principal, data: DistrictIn) -> District:
        may.check_role(principal, may.CREATE_DISTRICT)
        async with self._store.write("registry.create_district") as conn:
            if await conn.scalar(select(districts.c.code).where(districts.c.code == data.code)):
                raise DistrictExists(data.code)
            insert = districts.insert().values(code=data.code, name=data.name)
            await rows.insert_unique(conn, insert, lambda _: DistrictExists(data.code))
            await self._audit(conn, principal, "district.create", data.code, {"name": data.name})
        return District(code=data.code, name=data.name)

    async def create_enterprise(self, principal: Principal, data: EnterpriseIn) -> Enterprise:
        """The enterprise and its account (username: the enterprise number), together or neither."""
        may.check_role(principal, may.CREATE_ENTERPRISE)
        may.check_district(principal, data.district, "register enterprises")
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
            insert = enterprises.insert().values(**_fields(enterprise))
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
            await self._audit(conn, principal, "enterprise.create", enterprise.id, detail)
        return enterprise

    # -- persons ---------------------------------------------------------------------------------

    async def register_person(self, principal: Principal, data: PersonIn) -> Person:
        """作业人员备案 (workers: a bureau or the city) or 管理人员信息登记 (managers: also their
        own enterprise). Once city-wide: a number already registered is refused."""
        may.check_role(principal, may.REGISTER_PERSON)
        if principal.role is Role.ENTERPRISE and data.category is not PersonCategory.MANAGER:
            raise Forbidden(
                "an enterprise account registers its managers; workers are registered by a bureau"
            )
        may.check_own_enterprise(principal, data.enterprise_id, "register people")
        person_id = mint("per")
        index = self._vault.blind_index(data.id_number)
        now = self._clock.wall()
        async with self._store.write("registry.register_person") as conn:
            employer = await rows.need_enterprise(conn, "enterprise_id", data.enterprise_id)
            may.check_district(principal, employer.district, "register people of enterprises")
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
                "registered_district": principal.district or employer.district,
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
            await self._audit(conn, principal, "person.register", person_id, detail)
            row = (await conn.execute(select(persons).where(persons.c.id == person_id))).one()
        return self._person(row, principal)

    async def find_person(self, principal: Principal, id_number: str) -> str | None:
        """The id of the person registered with ``id_number`` (through the blind index), or None.

        Whoever holds a card may learn whether it is registered and under which id, to assign or
        not register it twice; the person's record stays behind the account's scope.
        """
        may.check_role(principal, may.LOOKUP_PERSON)
        index = self._vault.blind_index(id_number)
        async with self._store.read("registry.find_person") as conn:
            found: str | None = await conn.scalar(select(persons.c.id).where(persons.c.id_index == index))
        return found

    async def set_watchlist(self, principal: Principal, person_id: str, data: WatchlistIn) -> Person:
        """Flag or unflag; every project the person is assigned to gets a new roster."""
        may.check_role(principal, may.WATCHLIST)
        async with self._store.write("registry.set_watchlist") as conn:
            visible = select(persons).where(persons.c.id == person_id, person_clause(principal, persons.c.id))
            if (await conn.execute(visible.with_for_update())).first() is None:
                raise Missing("person", person_id)
            reason = data.reason if data.flag else None
            await conn.execute(
                persons.update()
                .where(persons.c.id == person_id)
                .values(watchlisted=data.flag, watchlist_reason=reason)
            )
            await self._audit(conn, principal, "person.watchlist", person_id, {"flag": data.flag})
            row = (await conn.execute(select(persons).where(persons.c.id == person_id))).one()
            affected = await conn.scalars(
                select(assignments.c.project_id).where(assignments.c.person_id == person_id).distinct()
            )
            projects_of_person = list(affected)
        await self._roster_changed(projects_of_person)
        return self._person(row, principal)

    # -- projects and their parties ----------------------------------------------------------------

    async def create_project(self, principal: Principal, data: ProjectIn) -> Project:
        """A permit record; its general contractor is a party from the start (it must see the
        project to register it), and the project's site key is made here, sealed."""
        may.check_role(principal, may.CREATE_PROJECT)
        may.check_district(principal, data.district, "create projects")
        now = self._clock.wall()
        project = Project(
            id=data.id or mint("prj"),
            permit_number=data.permit_number,
            name=data.name,
            district=data.district,
            address=data.address,
            gc_enterprise_id=data.gc_enterprise_id,
            permit_issued_on=data.permit_issued_on,
            registered_at=None,
            created_at=now,
        )
        async with self._store.write("registry.create_project") as conn:
            await rows.need_district(conn, "district", data.district)
            gc = await rows.need_enterprise(conn, "gc_enterprise_id", data.gc_enterprise_id)
            if gc.kind != GENERAL_CONTRACTOR:
                raise WrongEnterpriseKind("gc_enterprise_id", gc.id, gc.kind, GENERAL_CONTRACTOR)
            if await conn.scalar(select(projects.c.id).where(projects.c.id == project.id)):
                raise ProjectIdTaken(project.id)
            same_permit = select(projects.c.id).where(projects.c.permit_number == data.permit_number)
            if (taken := await conn.scalar(same_permit)) is not None:
                raise PermitNumberTaken(data.permit_number, taken)
            sealed = self._vault.seal_site_key(project.id, self._vault.new_site_key())
            insert = projects.insert().values(**_fields(project), site_key_cipher=sealed)
            await rows.insert_unique(
                conn,
                insert,
                lambda why: (
                    PermitNumberTaken(data.permit_number)
                    if "permit_number" in why
                    else ProjectIdTaken(project.id)
                ),
            )
            await conn.execute(
                project_parties.insert().values(
                    project_id=project.id, enterprise_id=gc.id, role=GENERAL_CONTRACTOR, joined_at=now
                )
            )
            detail = {
                "permit_number": data.permit_number,
                "district": data.district,
                "gc_enterprise_id": gc.id,
            }
            await self._audit(conn, principal, "project.create", project.id, detail)
        return project

    async def register_project(self, principal: Principal, project_id: str, data: RegistrationIn) -> Project:
        """报备: the general contractor, logged in with its enterprise number, starts real-name
        registration and receives its project department's account."""
        may.check_role(principal, may.REGISTER_PROJECT)
        now = self._clock.wall()
        async with self._store.write("registry.register_project") as conn:
            row = await rows.project_row(conn, project_id, lock=True)
            if row.gc_enterprise_id != principal.enterprise_id:
                raise Forbidden(f"only project {project_id}'s general contractor may register it (报备)")
            if row.registered_at is not None:
                raise ProjectAlreadyRegistered(project_id)
            await conn.execute(projects.update().where(projects.c.id == project_id).values(registered_at=now))
            gc_name = await conn.scalar(
                select(enterprises.c.name).where(enterprises.c.id == row.gc_enterprise_id)
            )
            await self._account(
                conn,
                data.account,
                role=Role.GC_PROJECT,
                display_name=f"{gc_name} · {row.name}",
                enterprise_id=row.gc_enterprise_id,
                project_id=project_id,
            )
            await self._audit(
                conn, principal, "project.register", project_id, {"account": data.account.username}
            )
            registered = (
                await conn.execute(select(*rows.PROJECT_COLUMNS).where(projects.c.id == project_id))
            ).one()
        return rows.project(registered)

    async def add_party(self, principal: Principal, project_id: str, data: PartyIn) -> Party:
        """The GC's project department registers a subcontractor's or the supervisor's project
        department and hands out its account; later subcontractors join the same way."""
        may.check_role(principal, may.ADD_PARTY)
        may.check_own_project(principal, project_id, "register parties")
        now = self._clock.wall()
        async with self._store.write("registry.add_party") as conn:
            project = await self._registered_project(conn, project_id)
            enterprise = await rows.need_enterprise(conn, "enterprise_id", data.enterprise_id)
            if enterprise.kind not in _PARTY_KINDS[data.role]:
                expected = " or ".join(sorted(_PARTY_KINDS[data.role]))
                raise WrongEnterpriseKind("enterprise_id", enterprise.id, enterprise.kind, expected)
            if await self._party_role(conn, project_id, enterprise.id) is not None:
                raise PartyExists(project_id, enterprise.id)
            await conn.execute(
                project_parties.insert().values(
                    project_id=project_id, enterprise_id=enterprise.id, role=data.role.value, joined_at=now
                )
            )
            await self._account(
                conn,
                data.account,
                role=_PARTY_ACCOUNT_ROLES[data.role],
                display_name=f"{enterprise.name} · {project.name}",
                enterprise_id=enterprise.id,
                project_id=project_id,
            )
            detail = {
                "enterprise_id": enterprise.id,
                "role": data.role.value,
                "account": data.account.username,
            }
            await self._audit(conn, principal, "project.party.add", project_id, detail)
        return Party(project_id, enterprise.id, data.role.value, now, data.account.username)

    # -- assignments -----------------------------------------------------------------------------

    async def assign(self, principal: Principal, project_id: str, data: AssignmentIn) -> Assignment:
        """进场: a person on a project through a party enterprise, hashed under the site key; a
        visitor with the pass window the lanes admit them in."""
        may.check_role(principal, may.ASSIGN)
        may.check_own_project(principal, project_id, "assign people")
        may.check_own_enterprise(principal, data.enterprise_id, "assign people")
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
            if principal.role is not Role.GC_PROJECT and person.enterprise_id != principal.enterprise_id:
                raise Forbidden(f"person {person.id} is not on enterprise {principal.enterprise_id}'s staff")
            await _check_overlap(conn, project_id, person.id, data.entry_date, data.exit_date)
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
            }
            result = await conn.execute(assignments.insert().values(**values, credential_hash=hashed))
            assignment = Assignment(id=rows.inserted_id(result), **values)
            await self._audit(conn, principal, "assignment.create", str(assignment.id), _jsonable(values))
        await self._roster_changed([project_id])
        return assignment

    async def end_assignment(
        self, principal: Principal, assignment_id: int, data: AssignmentExit
    ) -> Assignment:
        """退场: set (or move) the exit date; the lanes stop admitting the person after it."""
        may.check_role(principal, may.ASSIGN)
        a = rows.ASSIGNMENT.c
        async with self._store.write("registry.end_assignment") as conn:
            visible = person_record_clause(principal, a.project_id, a.person_id)
            query = select(*rows.ASSIGNMENT_COLUMNS).where(a.id == assignment_id, visible).with_for_update()
            row = (await conn.execute(query)).first()
            if row is None:
                raise Missing("assignment", assignment_id)
            may.check_own_enterprise(principal, row.enterprise_id, "end assignments")
            if data.exit_date < row.entry_date:
                raise ExitBeforeEntry(row.entry_date, data.exit_date)
            await _check_overlap(
                conn, row.project_id, row.person_id, row.entry_date, data.exit_date, besides=assignment_id
            )
            await conn.execute(
                assignments.update().where(assignments.c.id == assignment_id).values(exit_date=data.exit_date)
            )
            detail = {"exit_date": data.exit_date.isoformat(), "was": _iso(row.exit_date)}
            await self._audit(conn, principal, "assignment.exit", str(assignment_id), detail)
        await self._roster_changed([row.project_id])
        return _with_exit(row, data.exit_date)

    # -- gates and inspections -----------------------------------------------------------------------

    async def place_gate(self, principal: Principal, project_id: str, data: GateIn) -> Created[Gate]:
        """Place a lane's controller at the project's site, or move it to another lane there."""
        may.check_role(principal, may.PLACE_GATE)
        may.check_own_project(principal, project_id, "place gates")
        gate = Gate(data.device_id, project_id, data.lane, data.direction.value, data.name)
        async with self._store.write("registry.place_gate") as conn:
            project = await self._registered_project(conn, project_id)
            may.check_district(principal, project.district, "place gates")
            query = select(gates.c.project_id).where(gates.c.device_id == data.device_id).with_for_update()
            placed_at = await conn.scalar(query)
            if placed_at is not None and placed_at != project_id:
                raise DeviceAlreadyPlaced(data.device_id, placed_at)
            values = {"lane": gate.lane, "direction": gate.direction, "name": gate.name}
            if placed_at is None:
                insert = gates.insert().values(device_id=gate.device_id, project_id=project_id, **values)
                await rows.insert_unique(conn, insert, lambda _: DeviceAlreadyPlaced(gate.device_id))
            else:
                await conn.execute(gates.update().where(gates.c.device_id == gate.device_id).values(**values))
            action = "gate.place" if placed_at is None else "gate.move"
            await self._audit(conn, principal, action, project_id, {"device_id": gate.device_id, **values})
        await self._roster_changed([project_id])
        return Created(gate, created=placed_at is None)

    async def remove_gate(self, principal: Principal, project_id: str, device_id: str) -> None:
        may.check_role(principal, may.PLACE_GATE)
        may.check_own_project(principal, project_id, "remove gates")
        async with self._store.write("registry.remove_gate") as conn:
            project = await rows.project_row(conn, project_id)
            may.check_district(principal, project.district, "remove gates")
            g = gates.c
            result = await conn.execute(
                gates.delete().where(g.device_id == device_id, g.project_id == project_id)
            )
            if result.rowcount == 0:
                raise Missing("gate", f"{device_id} of project {project_id}")
            await self._audit(conn, principal, "gate.remove", project_id, {"device_id": device_id})
        await self._roster_changed([project_id])

    async def file_inspection(self, principal: Principal, project_id: str, data: InspectionIn) -> Inspection:
        """The supervision firm's project department records a check of the site's real-name work."""
        may.check_role(principal, may.FILE_INSPECTION)
        may.check_own_project(principal, project_id, "file inspections")
        now = self._clock.wall()
        async with self._store.write("registry.file_inspection") as conn:
            await rows.project_row(conn, project_id)
            values = {
                "project_id": project_id,
                "account_id": principal.account_id,
                "inspected_on": data.inspected_on,
                "findings": data.findings,
                "created_at": now,
            }
            result = await conn.execute(inspections.insert().values(**values))
            inspection_id = rows.inserted_id(result)
            detail = {"inspection_id": inspection_id, "inspected_on": data.inspected_on.isoformat()}
            await self._audit(conn, principal, "inspection.file", project_id, detail)
        return Inspection(
            inspection_id, project_id, principal.username, data.inspected_on, data.findings, now
        )

    # -- helpers ---------------------------------------------------------------------------------

    async def _account(
        self,
        conn: AsyncConnection,
        account: AccountIn,
        *,
        role: Role,
        display_name: str,
        enterprise_id: str,
        project_id: str | None = None,
    ) -> None:
        try:
            await insert_account(
                conn,
                username=account.username,
                password=account.password.get_secret_value(),
                role=role,
                display_name=display_name[:128],
                now=self._clock.wall(),
                enterprise_id=enterprise_id,
                project_id=project_id,
                fast_hash=self._fast_hash,
            )
        except AccountExists as err:
            raise UsernameTaken(err.username) from None
        except IntegrityError as err:  # taken by a concurrent write since insert_account looked
            if "unique" not in str(err.orig).lower():
                raise
            raise UsernameTaken(account.username) from None
        except ValueError as err:  # a weak password or bad username the models let through
            raise InvalidAccount(f"account: {err}") from None

    async def _audit(
        self, conn: AsyncConnection, principal: Principal, action: str, target: str, detail: dict[str, Any]
    ) -> None:
        await audit.record(
            conn, principal, f"registry.{action}", at=self._clock.wall(), target=target, detail=detail
        )

    async def _registered_project(self, conn: AsyncConnection, project_id: str) -> Row[Any]:
        row = await rows.project_row(conn, project_id, lock=True)
        if row.registered_at is None:
            raise ProjectNotRegistered(project_id)
        return row

    @staticmethod
    async def _party_role(conn: AsyncConnection, project_id: str, enterprise_id: str) -> str | None:
        pp = project_parties.c
        role: str | None = await conn.scalar(
            select(pp.role).where(pp.project_id == project_id, pp.enterprise_id == enterprise_id)
        )
        return role

    async def _roster_changed(self, project_ids: Iterable[str]) -> None:
        for project_id in sorted(set(project_ids)):
            for listener in list(self._listeners):
                try:
                    await listener(project_id)
                except Exception as err:  # noqa: BLE001 - the write is committed whatever a listener does
                    # The type and where, not the message: a listener's message could quote anything.
                    frame = traceback.extract_tb(err.__traceback__)[-1] if err.__traceback__ else None
                    where = f" at {frame.filename}:{frame.lineno}" if frame else ""
                    log.error(
                        "roster listener failed for project %s: %s%s", project_id, type(err).__name__, where
                    )


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


def _with_exit(row: Row[Any], exit_date: date) -> Assignment:
    return Assignment(**{**row._mapping, "exit_date": exit_date})


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in values.items()}
