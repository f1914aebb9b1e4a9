"""The uploader's rows: what is to be registered and uploaded, and where each stands.

Three kinds of row, one per platform call that writes (:class:`Kind`): a team (``Team.Add``), a
person on the project (``ProjectWorker.Add``), an access event (``WorkerAttendance.Add``). Rows
are made here (:meth:`Ledger.enqueue`) from the registry and the record, moved through the states
of :mod:`hub.platform.states`, and claimed before a request goes out, so two hub instances never
send the same row at once. Everything is unscoped: the hub's own task, per project.

Which events: granted passages of a person on the project in a team (so with a ``teamSysNo``),
not ``clock_suspect`` (attendance nowhere), from the settings' first day on and within
``lookback`` of now (an event is keyed by its own identity, ``(device_id, seq)``, unique: it is
taken once, however often it is looked for).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Select, Table, and_, exists, func, literal, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from hub.platform import states
from hub.store import Store
from hub.store.dialect import insert_for
from hub.store.schema import (
    access_events,
    assignments,
    enterprises,
    gates,
    persons,
    platform_status,
    platform_teams,
    platform_uploads,
    platform_workers,
    teams,
)

ENQUEUE_CHUNK: Final = 5000
CUT_SHORT: Final = "上次发送未获应答（发送中断） (the last send was cut short)"
PEOPLE_ROLES: Final = ("worker", "manager")
"""The roster roles the platform registers (not supervisors, not visitors)."""


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    table: Table
    key: tuple[str, ...]

    def key_of(self, row: Any) -> tuple[Any, ...]:
        return tuple(getattr(row, column) for column in self.key)

    def matches(self, keys: Sequence[tuple[Any, ...]]) -> ColumnElement[bool]:
        columns = [self.table.c[column] for column in self.key]
        if len(columns) == 1:
            return columns[0].in_([key[0] for key in keys])
        return tuple_(*columns).in_(list(keys))


@dataclass(frozen=True, slots=True)
class Mark:
    """One change of rows' state (:meth:`Ledger.mark`), to be written with others."""

    kind: Kind
    keys: Sequence[tuple[Any, ...]]
    values: dict[str, Any]
    count_attempt: bool = False


TEAMS: Final = Kind("teams", platform_teams, ("team_id",))
WORKERS: Final = Kind("workers", platform_workers, ("project_id", "person_id"))
EVENTS: Final = Kind("events", platform_uploads, ("id",))
KINDS: Final = (TEAMS, WORKERS, EVENTS)


def _due(kind: Kind, project_id: str, now: datetime) -> ColumnElement[bool]:
    c = kind.table.c
    return and_(
        c.project_id == project_id,
        c.state.in_(states.TO_SEND),
        or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
    )


class Ledger:
    def __init__(self, store: Store) -> None:
        self._store = store

    # -- making rows ------------------------------------------------------------------------------

    async def enqueue(self, project_id: str, *, since: datetime, now: datetime) -> int:
        """Rows for the project's new teams, people and events; returns how many were made."""
        made = 0
        async with self._store.write("platform.enqueue.people") as conn:
            made += await self._enqueue_teams(conn, project_id, now)
            made += await self._enqueue_workers(conn, project_id, now)
        while True:
            async with self._store.write("platform.enqueue.events") as conn:
                new = await self._enqueue_events(conn, project_id, since, now)
            made += new
            if new < ENQUEUE_CHUNK:
                return made

    async def _enqueue_teams(self, conn: AsyncConnection, project_id: str, now: datetime) -> int:
        t, a, pt = teams.c, assignments.c, platform_teams.c
        query = select(t.id).where(
            t.project_id == project_id,
            exists().where(a.team_id == t.id, a.project_id == project_id),
            ~exists().where(pt.team_id == t.id),
        )
        ids = (await conn.scalars(query)).all()
        rows = [
            {"team_id": i, "project_id": project_id, "state": states.QUEUED, "updated_at": now} for i in ids
        ]
        return await _insert_new(conn, platform_teams, rows, ["team_id"])

    async def _enqueue_workers(self, conn: AsyncConnection, project_id: str, now: datetime) -> int:
        a, p, pw = assignments.c, persons.c, platform_workers.c
        query = (
            select(a.person_id, a.team_id)
            .join(persons, p.id == a.person_id)
            .where(
                a.project_id == project_id,
                a.team_id.is_not(None),
                a.role.in_(PEOPLE_ROLES),
                p.category.in_(PEOPLE_ROLES),
                ~exists().where(pw.project_id == project_id, pw.person_id == a.person_id),
            )
            .order_by(a.person_id, a.entry_date, a.id)
        )
        latest = {row.person_id: row.team_id for row in await conn.execute(query)}  # the last entry wins
        rows = [
            {
                "project_id": project_id,
                "person_id": person,
                "team_id": team,
                "state": states.QUEUED,
                "updated_at": now,
            }
            for person, team in latest.items()
        ]
        return await _insert_new(conn, platform_workers, rows, ["project_id", "person_id"])

    async def _enqueue_events(
        self, conn: AsyncConnection, project_id: str, since: datetime, now: datetime
    ) -> int:
        e, pw, u = access_events.c, platform_workers.c, platform_uploads.c
        query = (
            select(e.device_id, e.seq, e.person_id, pw.team_id, func.coalesce(e.corrected_time, e.wall_time))
            .join(platform_workers, and_(pw.project_id == e.project_id, pw.person_id == e.person_id))
            .where(
                e.project_id == project_id,
                e.decision == "granted",
                e.person_id.is_not(None),
                e.clock_suspect.is_(False),
                e.direction.in_(("in", "out")),
                e.wall_time >= since,
                ~exists().where(u.device_id == e.device_id, u.seq == e.seq),
            )
            .limit(ENQUEUE_CHUNK)
        )
        rows = [
            {
                "device_id": device_id, "seq": seq, "project_id": project_id, "person_id": person_id,
                "team_id": team_id, "event_time": at, "state": states.QUEUED, "updated_at": now,
            }
            for device_id, seq, person_id, team_id, at in (await conn.execute(query)).all()
        ]  # fmt: skip
        return await _insert_new(conn, platform_uploads, rows, ["device_id", "seq"])

    # -- what is due ------------------------------------------------------------------------------

    async def due_teams(self, project_id: str, now: datetime) -> list[Any]:
        pt, t, ent, p = platform_teams.c, teams.c, enterprises.c, persons.c
        query = (
            select(
                pt.team_id, pt.attempts, t.name, ent.number.label("corp_code"), ent.name.label("corp_name"),
                p.id.label("leader_id"), p.name.label("leader_name"), p.card_kind.label("leader_card_kind"),
                p.id_cipher.label("leader_cipher"),
            )
            .join(teams, t.id == pt.team_id)
            .join(enterprises, ent.id == t.enterprise_id)
            .outerjoin(persons, p.id == t.leader_person_id)
            .where(_due(TEAMS, project_id, now))
            .order_by(pt.team_id)
        )  # fmt: skip
        return await self._all("platform.due.teams", query)

    async def due_workers(self, project_id: str, now: datetime, limit: int) -> list[Any]:
        pw, pt, t, ent, p = platform_workers.c, platform_teams.c, teams.c, enterprises.c, persons.c
        query = (
            select(
                pw.project_id, pw.person_id, pw.team_id, pw.attempts, pt.team_sys_no,
                t.name.label("team_name"), t.leader_person_id,
                ent.number.label("corp_code"), ent.name.label("corp_name"),
                p.name, p.card_kind, p.id_cipher, p.category, p.nation,
            )
            .join(platform_teams, and_(pt.team_id == pw.team_id, pt.state == states.ACCEPTED))
            .join(teams, t.id == pw.team_id)
            .join(enterprises, ent.id == t.enterprise_id)
            .join(persons, p.id == pw.person_id)
            .where(_due(WORKERS, project_id, now))
            .order_by(pw.team_id, pw.person_id)
            .limit(limit)
        )  # fmt: skip
        return await self._all("platform.due.workers", query)

    async def due_events(self, project_id: str, now: datetime, limit: int) -> list[Any]:
        u, pt, pw, e, p, g = (
            platform_uploads.c, platform_teams.c, platform_workers.c, access_events.c, persons.c, gates.c
        )  # fmt: skip
        query = (
            select(
                u.id, u.device_id, u.seq, u.person_id, u.attempts, u.event_time, pt.team_sys_no, e.direction,
                func.coalesce(g.name, e.lane).label("channel"), p.card_kind, p.id_cipher,
            )
            .join(platform_teams, and_(pt.team_id == u.team_id, pt.state == states.ACCEPTED))
            .join(
                platform_workers,
                and_(pw.project_id == u.project_id, pw.person_id == u.person_id, pw.state == states.ACCEPTED),
            )
            .join(access_events, and_(e.device_id == u.device_id, e.seq == u.seq))
            .join(persons, p.id == u.person_id)
            .outerjoin(gates, g.device_id == u.device_id)
            .where(_due(EVENTS, project_id, now))
            .order_by(u.team_id, u.event_time, u.id)  # a team's in time order, its requests full
            .limit(limit)
        )  # fmt: skip
        return await self._all("platform.due.events", query)

    async def due_serials(self, kind: Kind, project_id: str, now: datetime) -> list[str]:
        c = kind.table.c
        query = (
            select(c.request_serial_code)
            .where(c.project_id == project_id, c.state == states.SENT, c.next_attempt_at <= now)
            .group_by(c.request_serial_code)
            .order_by(func.min(c.next_attempt_at))
        )
        async with self._store.read(f"platform.due.{kind.name}.serials") as conn:
            return [serial for serial in (await conn.scalars(query)).all() if serial]

    async def in_request(self, kind: Kind, serial_code: str) -> list[Any]:
        """The rows a request carried, in the order it carried them (by key)."""
        c = kind.table.c
        query = (
            select(kind.table)
            .where(c.request_serial_code == serial_code, c.state == states.SENT)
            .order_by(*(c[k] for k in kind.key))
        )
        return await self._all(f"platform.{kind.name}.in_request", query)

    async def _all(self, operation: str, query: Select[Any]) -> list[Any]:
        async with self._store.read(operation) as conn:
            return list((await conn.execute(query)).all())

    # -- moving rows ------------------------------------------------------------------------------

    async def claim(self, kind: Kind, project_id: str, keys: Sequence[tuple[Any, ...]], now: datetime,
                    policy: states.RetryPolicy) -> set[tuple[Any, ...]]:  # fmt: skip
        """Takes the rows still due among ``keys``: those another instance took meanwhile are left."""
        if not keys:
            return set()
        columns = [kind.table.c[k] for k in kind.key]
        statement = (
            update(kind.table)
            .where(kind.matches(keys), _due(kind, project_id, now))
            .values(**states.claimed(now, policy))
            .returning(*columns)
        )
        async with self._store.write(f"platform.{kind.name}.claim") as conn:
            return {tuple(row) for row in (await conn.execute(statement)).all()}

    async def mark(self, kind: Kind, keys: Sequence[tuple[Any, ...]], values: dict[str, Any],
                   *, count_attempt: bool = False) -> None:  # fmt: skip
        await self.mark_all([Mark(kind, keys, values, count_attempt)])

    async def mark_all(self, marks: Sequence[Mark]) -> None:
        """Every change in one transaction."""
        marks = [m for m in marks if m.keys]
        if not marks:
            return
        async with self._store.write(f"platform.{marks[0].kind.name}.mark") as conn:
            for m in marks:
                values = (
                    {**m.values, "attempts": m.kind.table.c.attempts + 1} if m.count_attempt else m.values
                )
                await conn.execute(update(m.kind.table).where(m.kind.matches(m.keys)).values(**values))

    async def release_stale(self, project_id: str, now: datetime) -> int:
        """Rows whose sender vanished mid-request (a hub that died): tried again, as failed."""
        released = 0
        async with self._store.write("platform.release_stale") as conn:
            for kind in KINDS:
                c = kind.table.c
                statement = (
                    update(kind.table)
                    .where(c.project_id == project_id, c.state == states.SENDING, c.next_attempt_at <= now)
                    .values(state=states.FAILED, message=CUT_SHORT, next_attempt_at=now, updated_at=now)
                )  # fmt: skip
                released += (await conn.execute(statement)).rowcount
        return released

    async def record_requests(self, project_id: str, now: datetime, *, requests: int = 0,
                              success: bool = False, message: str | None = None) -> None:  # fmt: skip
        """The project's last word: requests counted, the last success, the last refusal."""
        values: dict[str, Any] = {"last_attempt_at": now}
        if success:
            values["last_success_at"] = now
        if message is not None:
            values["last_message"] = message[:500]
        s = platform_status.c
        async with self._store.write("platform.status") as conn:
            insert = insert_for(conn.dialect.name)(platform_status).values(
                project_id=project_id, requests=requests, **values
            )
            await conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["project_id"], set_={**values, "requests": s.requests + literal(requests)}
                )
            )


async def _insert_new(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]], key: list[str]) -> int:
    if not rows:
        return 0
    insert = insert_for(conn.dialect.name)(table).on_conflict_do_nothing(index_elements=key)
    result = await conn.execute(insert, rows)
    return max(result.rowcount, 0) if result.rowcount is not None else len(rows)
