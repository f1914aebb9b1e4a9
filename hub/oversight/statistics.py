"""Registration statistics per district: the figures a bureau reports upward.

Four grouped counts (projects, persons, enterprises, districts) merged here: each is one index
or table scan, where one query joining them would multiply rows. Projects belong to the district
they are built in; persons to the district that registered them; enterprises to the district
they are registered in.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.oversight.records import DistrictRegistration
from hub.store.schema import districts, enterprises, persons, projects


async def registration(conn: AsyncConnection, district: str | None = None) -> list[DistrictRegistration]:
    """Every district's figures (or one district's), districts without anything included, by code."""
    d, p, per, e = districts.c, projects.c, persons.c, enterprises.c

    def only(column: ColumnElement[str | None]) -> list[ColumnElement[bool]]:
        return [] if district is None else [column == district]

    names = (await conn.execute(select(d.code, d.name).where(*only(d.code)).order_by(d.code))).all()
    project_counts = {
        row.district: (int(row.total), int(row.registered))
        for row in await conn.execute(
            select(
                p.district,
                func.count().label("total"),
                func.count(p.registered_at).label("registered"),
            )
            .where(*only(p.district))
            .group_by(p.district)
        )
    }
    person_counts = {
        row.registered_district: (int(row.workers), int(row.managers))
        for row in await conn.execute(
            select(
                per.registered_district,
                func.sum(case((per.category == "worker", 1), else_=0)).label("workers"),
                func.sum(case((per.category == "manager", 1), else_=0)).label("managers"),
            )
            .where(*only(per.registered_district))
            .group_by(per.registered_district)
        )
    }
    enterprise_counts = {
        row.district: int(row.total)
        for row in await conn.execute(
            select(e.district, func.count().label("total")).where(*only(e.district)).group_by(e.district)
        )
    }
    return [
        DistrictRegistration(
            district=code,
            name=name,
            projects_with_permit=project_counts.get(code, (0, 0))[0],
            projects_registered=project_counts.get(code, (0, 0))[1],
            workers_registered=person_counts.get(code, (0, 0))[0],
            managers_registered=person_counts.get(code, (0, 0))[1],
            enterprises=enterprise_counts.get(code, 0),
        )
        for code, name in names
    ]
