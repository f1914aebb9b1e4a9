"""Registry writes about projects: the permit record with its site key, 报备 and the GC's
department account, the parties and their accounts, the lanes placed at its gates, and the
supervision firm's inspections."""

from __future__ import annotations

from sqlalchemy import select

from hub.auth import audit
from hub.auth.principal import Role
from hub.devices.revocation import mark_revoked
from hub.refusals import (
    DeviceAlreadyPlaced,
    Forbidden,
    Missing,
    PartyExists,
    PermitNumberTaken,
    ProjectAlreadyRegistered,
    ProjectIdTaken,
    WrongEnterpriseKind,
)
from hub.registry import permissions as may
from hub.registry import rows
from hub.registry.base import RegistryBase, fields_of, mint
from hub.registry.models import (
    SUBCONTRACTOR_KINDS,
    EnterpriseKind,
    GateIn,
    InspectionIn,
    PartyIn,
    PartyRole,
    ProjectIn,
    RegistrationIn,
)
from hub.registry.records import (
    Created,
    GateRecord,
    Inspection,
    Party,
    Project,
)
from hub.store.schema import (
    enterprises,
    gates,
    inspections,
    project_parties,
    projects,
)

GENERAL_CONTRACTOR = "general_contractor"
_PARTY_ACCOUNT_ROLES = {
    PartyRole.SUBCONTRACTOR: Role.SUB_PROJECT,
    PartyRole.SUPERVISION: Role.SUPERVISION_PROJECT,
}
_PARTY_KINDS = {
    PartyRole.SUBCONTRACTOR: SUBCONTRACTOR_KINDS,
    PartyRole.SUPERVISION: frozenset({EnterpriseKind.SUPERVISION}),
}


class ProjectWrites(RegistryBase):
    async def create_project(self, data: ProjectIn) -> Project:
        """A permit record; its general contractor is a party from the start (it must see the
        project to register it), and the project's site key is made here, sealed."""
        may.check_role(self._principal, may.CREATE_PROJECT)
        may.check_district(self._principal, data.district, "create projects")
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
            insert = projects.insert().values(**fields_of(project), site_key_cipher=sealed)
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
            await self._audit(conn, "project.create", project.id, detail)
        return project

    async def register_project(self, project_id: str, data: RegistrationIn) -> Project:
        """报备: the general contractor, logged in with its enterprise number, starts real-name
        registration and receives its project department's account."""
        may.check_role(self._principal, may.REGISTER_PROJECT)
        now = self._clock.wall()
        async with self._store.write("registry.register_project") as conn:
            row = await rows.project_row(conn, project_id, lock=True)
            if row.gc_enterprise_id != self._principal.enterprise_id:
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
            await self._audit(conn, "project.register", project_id, {"account": data.account.username})
            registered = (
                await conn.execute(select(*rows.PROJECT_COLUMNS).where(projects.c.id == project_id))
            ).one()
        return rows.project(registered)

    async def add_party(self, project_id: str, data: PartyIn) -> Party:
        """The GC's project department registers a subcontractor's or the supervisor's project
        department and hands out its account; later subcontractors join the same way."""
        may.check_role(self._principal, may.ADD_PARTY)
        may.check_own_project(self._principal, project_id, "register parties")
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
            await self._audit(conn, "project.party.add", project_id, detail)
        return Party(project_id, enterprise.id, data.role.value, now, data.account.username)

    async def place_gate(self, project_id: str, data: GateIn) -> Created[GateRecord]:
        """Place a lane's controller at the project's site, or move it to another lane there."""
        may.check_role(self._principal, may.PLACE_GATE)
        may.check_own_project(self._principal, project_id, "place gates")
        direction = None if data.direction is None else data.direction.value
        gate = GateRecord(data.device_id, project_id, data.lane, direction, data.name, data.kind.value)
        async with self._store.write("registry.place_gate") as conn:
            project = await self._registered_project(conn, project_id)
            may.check_district(self._principal, project.district, "place gates")
            query = select(gates.c.project_id).where(gates.c.device_id == data.device_id).with_for_update()
            placed_at = await conn.scalar(query)
            if placed_at is not None and placed_at != project_id:
                raise DeviceAlreadyPlaced(data.device_id, placed_at)
            values = {"lane": gate.lane, "direction": gate.direction, "name": gate.name, "kind": gate.kind}
            if placed_at is None:
                insert = gates.insert().values(device_id=gate.device_id, project_id=project_id, **values)
                await rows.insert_unique(conn, insert, lambda _: DeviceAlreadyPlaced(gate.device_id))
            else:
                await conn.execute(gates.update().where(gates.c.device_id == gate.device_id).values(**values))
            action = "gate.place" if placed_at is None else "gate.move"
            await self._audit(conn, action, project_id, {"device_id": gate.device_id, **values})
        await self._roster_changes.notify([project_id])
        return Created(gate, created=placed_at is None)

    async def remove_gate(self, project_id: str, device_id: str) -> None:
        """Take the lane off its gate, and revoke it (issue 13: a lane whose gate was deleted must
        not go on publishing): the hub's own mark and its audit line commit with the removal; the
        CA's side (its certificates, the broker's files) is the caller's next step."""
        may.check_role(self._principal, may.PLACE_GATE)
        may.check_own_project(self._principal, project_id, "remove gates")
        async with self._store.write("registry.remove_gate") as conn:
            project = await rows.project_row(conn, project_id)
            may.check_district(self._principal, project.district, "remove gates")
            g = gates.c
            result = await conn.execute(
                gates.delete().where(g.device_id == device_id, g.project_id == project_id)
            )
            if result.rowcount == 0:
                raise Missing("gate", f"{device_id} of project {project_id}")
            await self._audit(conn, "gate.remove", project_id, {"device_id": device_id})
            await mark_revoked(conn, device_id, self._clock.wall())
            await audit.record(
                conn,
                self._principal,
                "device.revoke",
                at=self._clock.wall(),
                target=device_id,
                detail={"reason": "gate removed", "project_id": project_id},
            )
        await self._roster_changes.notify([project_id])

    async def file_inspection(self, project_id: str, data: InspectionIn) -> Inspection:
        """The supervision firm's project department records a check of the site's real-name work."""
        may.check_role(self._principal, may.FILE_INSPECTION)
        may.check_own_project(self._principal, project_id, "file inspections")
        now = self._clock.wall()
        async with self._store.write("registry.file_inspection") as conn:
            await rows.project_row(conn, project_id)
            values = {
                "project_id": project_id,
                "account_id": self._principal.account_id,
                "inspected_on": data.inspected_on,
                "findings": data.findings,
                "created_at": now,
            }
            result = await conn.execute(inspections.insert().values(**values))
            inspection_id = rows.inserted_id(result)
            detail = {"inspection_id": inspection_id, "inspected_on": data.inspected_on.isoformat()}
            await self._audit(conn, "inspection.file", project_id, detail)
        return Inspection(
            inspection_id, project_id, self._principal.username, data.inspected_on, data.findings, now
        )
