"""Attendance in the national worker platform's ``WorkerAttendance.Add`` shape, as a file
(全国建筑工人管理服务信息平台): per project, with the platform's own camelCase keys, ``{"projectCode",
"dataList": [{"idCardType", "idCardNumber", "date", "direction", "channel"}]}``: the ID card type,
the full ID number, the time ``yyyy-MM-dd HH:mm:ss`` (site time), the direction (``01`` in, ``02``
out) and the lane's name, of every passage of a registered person. The codes are those of
:mod:`hub.platform.dictionaries`, the one table the uploader (hub.platform) sends too.

This is a file to read and check, not the upload: the hub's uploader (hub.platform.uploader) sends
the platform what it takes (encrypted numbers, one team and 20 rows per request, registered teams
and workers first) and records what went, so nothing goes twice. Here the numbers are in clear and
teams are mixed. ``projectCode`` is the code the platform gave the project when its settings say
one (hub.platform.settings), else the hub's project id (the file says which, ``projectCodeSource``).

Who may export, since it carries whole ID numbers: the accounts whose role reads them anyway
(:attr:`Principal.sees_full_id_numbers`: the city station, a district bureau for its district's
projects) and the project's own general contractor's project department, which is the uploader
the platform expects (the GC's labour officer uploads for the whole site). Nobody else: not a
subcontractor, not the supervision firm, not an enterprise account, not the operator. Each export
leaves an audit line (project, days, rows), never the numbers.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Final

from sqlalchemy import and_, func, or_, select

from hub.auth import audit, permissions
from hub.auth.principal import Principal
from hub.auth.scope import project_clause
from hub.platform import dictionaries
from hub.platform.protocol import DATE_TIME_FORMAT
from hub.refusals import Missing
from hub.registry.permissions import check_role
from hub.registry.vault import IdVault
from hub.store import Store
from hub.store.cursor import decode_cursor, encode_cursor
from hub.store.schema import access_events, gates, persons, platform_settings, projects
from wire.clock import SITE_ZONE

UPLOADERS: Final = permissions.UPLOADERS
"""Those who read whole ID numbers anyway, and the uploader (the project's GC department)."""
MAX_DAYS: Final = 31


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
        """One page of ``{"projectCode", "projectCodeSource", "dataList": [...]}`` in time order,
        and the next cursor (None: nothing more). A ``clock_suspect`` event (hub.events.time_bounds)
        is attendance nowhere, so not here."""
        principal = self._principal
        check_role(principal, UPLOADERS)
        start = datetime.combine(since, time(0), tzinfo=SITE_ZONE)
        end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=SITE_ZONE)
        a, per, p, g = access_events.c, persons.c, projects.c, gates.c
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
            select(
                a.id,
                a.wall_time,
                a.direction,
                a.person_id,
                per.card_kind,
                per.id_cipher,
                func.coalesce(g.name, a.lane).label("channel"),
            )
            .join(persons, per.id == a.person_id)
            .outerjoin(gates, g.device_id == a.device_id)
            .where(*where)
            .order_by(a.wall_time, a.id)
            .limit(limit + 1)
        )
        visible = (
            select(p.id, platform_settings.c.project_code)
            .outerjoin(platform_settings, platform_settings.c.project_id == p.id)
            .where(p.id == project_id, project_clause(principal, p.id))
        )
        async with self._store.write("workflows.worker_attendance") as conn:
            project = (await conn.execute(visible)).first()
            if project is None:
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
        data_list = [
            {
                "idCardType": dictionaries.card_type_of(row.card_kind),
                "idCardNumber": self._vault.open_id(row.person_id, row.id_cipher),
                "date": row.wall_time.astimezone(SITE_ZONE).strftime(DATE_TIME_FORMAT),
                "direction": dictionaries.DIRECTIONS[row.direction],
                "channel": row.channel,
            }
            for row in page
            if row.direction in dictionaries.DIRECTIONS
        ]
        more = len(rows) > limit and page
        next_cursor = encode_cursor(page[-1].wall_time, page[-1].id) if more else None
        upload = {
            "projectCode": project.project_code or project_id,
            "projectCodeSource": "platform" if project.project_code else "hub",
            "dataList": data_list,
        }
        return upload, next_cursor


DOWNLOAD_ROWS: Final = 50_000
"""The most rows one downloaded file holds (the console's); the API pages past it."""


def as_download(upload: dict[str, object], next_cursor: str | None, project_id: str) -> dict[str, object]:
    """A page as a file that says whether it is whole: ``truncated``, and when it is, a ``notice``
    (Chinese first) naming the API that pages through the rest."""
    if next_cursor is None:
        return {**upload, "truncated": False}
    notice = (
        f"只导出了前 {DOWNLOAD_ROWS} 条，当日还有更多考勤：请分页调用 "
        f"GET /api/v1/projects/{project_id}/worker-attendance"
        f" (only the first {DOWNLOAD_ROWS} rows; page through the API for the rest)"
    )
    return {**upload, "truncated": True, "notice": notice}
