"""Attendance in the national worker platform's ``WorkerAttendance`` upload shape (全国建筑工人管理
服务信息平台): per project, the ID card type, the full ID number, the time ``yyyy-MM-dd HH:mm:ss``
(site time) and the direction (``01`` in, ``02`` out) of every passage of a registered person.

Who may export, since it carries whole ID numbers: the accounts whose role reads them anyway
(:attr:`Principal.sees_full_id_numbers`: the city station, a district bureau for its district's
projects) and the project's own general contractor's project department, which is the uploader
the platform expects (the GC's labour officer uploads for the whole site). Nobody else: not a
subcontractor, not the supervision firm, not an enterprise account, not the operator. Each export
leaves an audit line (project, days, rows), never the numbers.

``project_code`` is the registry's project id: the platform's own project code is not in the
registry, so the uploader maps it. ID card types follow the platform's dictionary of person
document types (人员证件类型, 6.5 of its data standard): a resident ID card is ``01``; the rest are
mapped in :data:`ID_CARD_TYPES` and should be checked against the platform's current dictionary.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Final

from sqlalchemy import and_, or_, select

from hub.auth import audit, permissions
from hub.auth.principal import Principal
from hub.auth.scope import project_clause
from hub.refusals import Missing
from hub.registry.permissions import check_role
from hub.registry.vault import IdVault
from hub.store import Store
from hub.store.cursor import decode_cursor, encode_cursor
from hub.store.schema import access_events, persons, projects
from wire.clock import SITE_ZONE

UPLOADERS: Final = permissions.UPLOADERS
"""Those who read whole ID numbers anyway, and the uploader (the project's GC department)."""
MAX_DAYS: Final = 31
ID_CARD_TYPES: Final = {
    "resident": "01",  # 居民身份证
    "hmt_residence_permit": "99",  # 港澳台居民居住证: not in the dictionary's named types, so 其他
    "foreigner_2017": "20",  # 外国人永久居留身份证 (old layout)
    "foreigner_2023": "20",  # 外国人永久居留身份证 (2023 layout)
}
DIRECTIONS: Final = {"in": "01", "out": "02"}
TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"


class NationalUpload:
    """The national platform's upload as ``principal`` may export it; ``vault`` opens the ID
    numbers it carries."""

    def __init__(self, store: Store, principal: Principal, vault: IdVault) -> None:
        self._store = store
        self._principal = principal
        self._vault = vault

    async def export(
        self,
        project_id: str,
        since: date,
        until: date,
        *,
        now: datetime,
        cursor: str | None = None,
        limit: int = 500,
    ) -> tuple[dict[str, object], str | None]:
        """One page of ``{"project_code", "datalist": [...]}`` in time order, and the next cursor.
        A ``clock_suspect`` event (hub.events.time_bounds) is attendance nowhere, so not here."""
        principal = self._principal
        check_role(principal, UPLOADERS)
        start = datetime.combine(since, time(0), tzinfo=SITE_ZONE)
        end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=SITE_ZONE)
        a, per, p = access_events.c, persons.c, projects.c
        where = [
            a.project_id == project_id,
            a.decision == "granted",
            a.person_id.is_not(None),
            a.clock_suspect.is_(False),
            a.wall_time >= start,
            a.wall_time < end,
        ]
        if cursor is not None:
            after_time, after_id = decode_cursor(cursor)
            where.append(or_(a.wall_time > after_time, and_(a.wall_time == after_time, a.id > after_id)))
        query = (
            select(a.id, a.wall_time, a.direction, a.person_id, per.card_kind, per.id_cipher)
            .join(persons, per.id == a.person_id)
            .where(*where)
            .order_by(a.wall_time, a.id)
            .limit(limit + 1)
        )
        visible = select(p.id).where(p.id == project_id, project_clause(principal, p.id))
        async with self._store.write("workflows.worker_attendance") as conn:
            if await conn.scalar(visible) is None:
                raise Missing("project", project_id)
            rows = (await conn.execute(query)).all()
            page = rows[:limit]
            detail = {"from": since.isoformat(), "to": until.isoformat(), "rows": len(page)}
            await audit.record(
                conn,
                principal,
                "workflow.worker_attendance.export",
                at=now,
                target=f"project:{project_id}",
                detail=detail,
            )
        datalist = [
            {
                "id_card_type": ID_CARD_TYPES.get(row.card_kind, "99"),
                "id_card_number": self._vault.open_id(row.person_id, row.id_cipher),
                "date": row.wall_time.astimezone(SITE_ZONE).strftime(TIME_FORMAT),
                "direction": DIRECTIONS[row.direction],
            }
            for row in page
            if row.direction in DIRECTIONS
        ]
        more = len(rows) > limit and page
        next_cursor = encode_cursor(page[-1].wall_time, page[-1].id) if more else None
        return {"project_code": project_id, "datalist": datalist}, next_cursor
