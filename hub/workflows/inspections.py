"""Inspections by the authorities (检查): a district bureau in its district, the city station
anywhere, and the supervision firm's project department on its own project (日常巡查 only), with
the notice's checklist, the findings and photos.

The checklist is the notice's six points (工作网络, 报备, 进离场读卡, 考勤, 管理人员到岗, 用工状况),
each ok or a problem with a note; an inspection with problems is where a rectification order comes
from (:mod:`hub.workflows.orders` records ``inspection_id``). Photos are checked and kept by
:mod:`hub.workflows.photos`; here only their records, and who may see them: whoever sees the
inspection, which is whoever sees its project (:func:`hub.auth.scope.project_clause`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import Field, model_validator
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth import audit, permissions
from hub.auth.principal import Principal, Role
from hub.auth.scope import order_clause, project_clause
from hub.derive.days import local_day
from hub.refusals import Forbidden, Invalid, Missing
from hub.registry.models import In
from hub.registry.permissions import check_role
from hub.registry.rows import inserted_id
from hub.store import Store
from hub.store.schema import accounts, inspection_photos, inspections, projects, rectification_orders
from hub.workflows import photos as photo_files
from hub.workflows.models import LongText
from hub.workflows.targets import TargetChecks
from wire.models import ProjectId

INSPECTORS: Final = frozenset({Role.CITY, Role.DISTRICT, Role.SUPERVISION_PROJECT})
READERS: Final = permissions.READ_INSPECTIONS
CHECKLIST: Final = ("network", "filing", "card_reads", "attendance", "managers_present", "employment")
"""The notice's points, in its order: 工作网络, 报备, 进离场读卡, 考勤, 管理人员到岗, 用工状况."""
Note = Annotated[str, Field(max_length=500)]


class InspectionKind(StrEnum):
    ROUTINE = "routine"
    """日常巡查"""
    SPECIAL = "special"
    """专项检查"""
    UNANNOUNCED = "unannounced"
    """飞行检查"""


class CheckItem(In):
    """One of the notice's points: ok, or a problem with a note saying what is wrong."""

    ok: bool
    note: Note = ""

    @model_validator(mode="after")
    def _problem_has_note(self) -> CheckItem:
        if not self.ok and not self.note.strip():
            raise ValueError("note: a problem needs a note saying what is wrong")
        return self


class Checklist(In):
    network: CheckItem
    filing: CheckItem
    card_reads: CheckItem
    attendance: CheckItem
    managers_present: CheckItem
    employment: CheckItem

    def problems(self) -> list[tuple[str, str]]:
        """(item, note) of each point found wanting, in the notice's order."""
        return [(name, item.note) for name in CHECKLIST if not (item := getattr(self, name)).ok]


class InspectionIn(In):
    project_id: ProjectId
    kind: InspectionKind
    inspected_on: date
    checklist: Checklist
    findings: LongText


class RoutineOnly(Forbidden):
    code = "routine_only"

    def __init__(self) -> None:
        super().__init__("kind: supervision records routine inspections (日常巡查) only")


class OwnProjectOnly(Forbidden):
    code = "own_project_only"

    def __init__(self, project_id: str) -> None:
        super().__init__(f"project_id: supervision inspects its own project only, not {project_id}")


class InspectionFromFuture(Invalid):
    code = "inspected_in_future"

    def __init__(self, day: date, today: date) -> None:
        super().__init__(f"inspected_on: {day.isoformat()} is after today ({today.isoformat()})")


@dataclass(frozen=True, slots=True)
class PhotoRecord:
    id: int
    inspection_id: int
    sha256: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class InspectionRecord:
    id: int
    project_id: str
    project_name: str
    kind: str
    inspected_on: date
    findings: str
    checklist: dict[str, Any] | None
    """{item: {"ok": bool, "note": str}}; None for an inspection recorded before the checklist."""
    account: str
    created_at: datetime
    photos: tuple[PhotoRecord, ...] = ()
    order_ids: tuple[int, ...] = ()

    def problems(self) -> list[tuple[str, str]]:
        """(item, note) of each point found wanting, in the notice's order."""
        found = self.checklist or {}
        return [
            (name, found[name].get("note", ""))
            for name in CHECKLIST
            if not found.get(name, {"ok": True})["ok"]
        ]


class Inspections(TargetChecks):
    """Inspections as ``principal`` records and reads them; photos kept in ``photo_store``."""

    def __init__(self, store: Store, principal: Principal, photo_store: photo_files.PhotoStore) -> None:
        super().__init__(store, principal)
        self._photos = photo_store

    async def record(
        self, data: InspectionIn, photos: Sequence[photo_files.Photo], *, now: datetime
    ) -> InspectionRecord:
        principal = self._principal
        check_role(principal, INSPECTORS)
        if principal.role is Role.SUPERVISION_PROJECT:
            if data.project_id != principal.project_id:
                raise OwnProjectOnly(data.project_id)
            if data.kind is not InspectionKind.ROUTINE:
                raise RoutineOnly()
        today = local_day(now)
        if data.inspected_on > today:
            raise InspectionFromFuture(data.inspected_on, today)
        photo_files.check_count(len(photos))
        kept = [(self._photos.keep(photo), photo) for photo in photos]
        async with self._store.write("workflows.record_inspection") as conn:
            if principal.role is not Role.SUPERVISION_PROJECT:
                await self._project_target(conn, data.project_id, "inspect")
            result = await conn.execute(
                inspections.insert().values(
                    project_id=data.project_id,
                    account_id=principal.account_id,
                    inspected_on=data.inspected_on,
                    findings=data.findings,
                    created_at=now,
                    kind=data.kind.value,
                    checklist=data.checklist.model_dump(),
                )
            )
            inspection_id = inserted_id(result)
            for digest, photo in kept:
                await conn.execute(
                    inspection_photos.insert().values(
                        inspection_id=inspection_id,
                        sha256=digest,
                        content_type=photo.content_type,
                        size=len(photo.data),
                        uploaded_by=principal.account_id,
                        uploaded_at=now,
                    )
                )
            detail = {
                "kind": data.kind.value,
                "photos": len(kept),
                "problems": len(data.checklist.problems()),
            }
            await audit.record(
                conn,
                principal,
                "workflow.inspection.record",
                at=now,
                target=f"project:{data.project_id}",
                detail={"inspection_id": inspection_id, **detail},
            )
            return await self._fetch(conn, inspection_id)

    async def listing(self, *, limit: int = 200) -> list[InspectionRecord]:
        """Newest first: the inspections of the projects this account sees."""
        check_role(self._principal, READERS)
        i = inspections.c
        query = self._query().order_by(i.inspected_on.desc(), i.id.desc()).limit(limit)
        async with self._store.read("workflows.inspections") as conn:
            return [_record(row) for row in await conn.execute(query)]

    async def get(self, inspection_id: int) -> InspectionRecord:
        check_role(self._principal, READERS)
        async with self._store.read("workflows.inspection") as conn:
            return await self._fetch(conn, inspection_id)

    async def photo(self, inspection_id: int, photo_id: int) -> tuple[PhotoRecord, bytes]:
        """A photo of an inspection this account sees, with its bytes; else :class:`Missing`."""
        inspection = await self.get(inspection_id)
        found = next((p for p in inspection.photos if p.id == photo_id), None)
        if found is None:
            raise Missing("photo", photo_id)
        return found, self._photos.read(found.sha256)

    def _query(self) -> Select[Any]:
        i, p, a = inspections.c, projects.c, accounts.c
        return (
            select(
                i.id,
                i.project_id,
                p.name.label("project_name"),
                i.kind,
                i.inspected_on,
                i.findings,
                i.checklist,
                a.username.label("account"),
                i.created_at,
            )
            .select_from(
                inspections.join(projects, p.id == i.project_id).join(accounts, a.id == i.account_id)
            )
            .where(project_clause(self._principal, i.project_id))
        )

    async def _fetch(self, conn: AsyncConnection, inspection_id: int) -> InspectionRecord:
        row = (await conn.execute(self._query().where(inspections.c.id == inspection_id))).first()
        if row is None:
            raise Missing("inspection", inspection_id)
        ph, o = inspection_photos.c, rectification_orders.c
        photo_rows = await conn.execute(
            select(ph.id, ph.inspection_id, ph.sha256, ph.content_type, ph.size)
            .where(ph.inspection_id == inspection_id)
            .order_by(ph.id)
        )
        order_ids = await conn.scalars(
            select(o.id).where(o.inspection_id == inspection_id, order_clause(self._principal)).order_by(o.id)
        )
        photos = tuple(PhotoRecord(**r._mapping) for r in photo_rows)
        return _record(row, photos, tuple(order_ids))


def _record(
    row: Any, photos: tuple[PhotoRecord, ...] = (), order_ids: tuple[int, ...] = ()
) -> InspectionRecord:
    return InspectionRecord(**row._mapping, photos=photos, order_ids=order_ids)
