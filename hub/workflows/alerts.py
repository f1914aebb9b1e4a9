"""Anomaly alerts, computed from the data on every read (no scheduler, nothing a second hub
instance would miss):

- ``manager_absent``: a manager assigned to a project (active that day) who had not entered by
  :attr:`AlertSettings.manager_due_by` (site time) that day; asked for today, only once that time
  has passed;
- ``gate_offline``: a lane placed at a gate that the hub has not heard from (heartbeat or
  ``online``) for longer than :attr:`AlertSettings.gate_offline_after`, or never;
- ``watchlist_hit``: an access event refused because the card is on the watchlist, within the
  last :attr:`AlertSettings.watchlist_window`;
- ``order_overdue``: an open rectification order past its deadline (escalated to the city);
- ``lane_fault``: a lane heard from lately whose latest heartbeat says its journal cannot be
  written (a full or failing disk: it refuses everyone until a write succeeds);
- ``clock_step``: a lane whose wall clock jumped (a ``clock_step`` lane event received within
  :attr:`AlertSettings.watchlist_window`): its times are corrected by the hub, the clock needs a look;
- ``attribution_refused``: a lane that published a record contradicting its registered placement
  (another project, direction or lane, or an operator the hub sent no command for), received within
  the same window: the record was dead-lettered (:mod:`hub.events.attribution`);
- ``clock_suspect``: a lane whose records, received within the same window, carry times the hub
  does not believe (far in the future of their receipt, or before the device was enrolled:
  :mod:`hub.events.time_bounds`): kept, but counted in no presence or attendance. One alert per
  batch (records received together) per device;
- ``not_in_roster``: a grant, within the last :attr:`AlertSettings.watchlist_window`, for a person
  the roster could not hold (no assignment running that day, watchlisted): stored and flagged so
  (:mod:`hub.events.roster_check`), the arm opened; the lane's roster or the lane needs a look.
- ``journal_gap``: a lane whose events a restored hub asked for were gone from its journal (the
  backup was older than the lane's window), recorded within the same window (:mod:`hub.backup.gap`:
  an audit line, the range and count in its detail): those records are lost for good.

Each through the account's scope: people by :func:`person_record_clause`, gates by
:func:`device_clause`, orders by :func:`order_clause`. The hub operator sees gates only.
:class:`Alerts` is built for one account; each kind is one short read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.principal import Principal
from hub.auth.scope import device_clause, person_record_clause
from hub.derive.days import local_day
from hub.events.roster_check import NOT_IN_ROSTER
from hub.events.time_bounds import EPOCH
from hub.oversight.queries import active_on
from hub.store import Store
from hub.store.schema import (
    access_events,
    assignments,
    attendance,
    audit_log,
    devices,
    gates,
    lane_events,
    persons,
    projects,
    rectification_orders,
)
from hub.store.types import UtcDateTime
from hub.workflows import orders
from hub.workflows.records import Alert
from hub.workflows.targets import MANAGER
from wire.clock import SITE_ZONE

JOURNAL_GAP: Final = "journal_gap"
"""The kind, and the action of the audit line :mod:`hub.backup.gap` records a lost range with."""

KINDS: Final = (
    "manager_absent",
    "gate_offline",
    "watchlist_hit",
    "order_overdue",
    "lane_fault",
    "clock_step",
    "attribution_refused",
    "clock_suspect",
    "not_in_roster",
    JOURNAL_GAP,
)


@dataclass(frozen=True, slots=True)
class AlertSettings:
    manager_due_by: time = time(9, 0)
    gate_offline_after: timedelta = timedelta(minutes=15)
    watchlist_window: timedelta = timedelta(hours=24)


class Alerts:
    """The alerts ``principal`` may see, under ``settings`` (the hub's configured thresholds)."""

    def __init__(self, store: Store, principal: Principal, settings: AlertSettings) -> None:
        self._store = store
        self._principal = principal
        self._settings = settings

    async def alerts(self, *, now: datetime, project_id: str | None = None) -> list[Alert]:
        """Every alert the account may see, newest kinds first: people, then gates, then orders."""
        found: list[Alert] = []
        personal = self._principal.sees_personal_data
        if personal:
            found += await self.managers_absent(now=now, project_id=project_id)
            found += await self.watchlist_hits(now=now, project_id=project_id)
            found += await self.roster_misses(now=now, project_id=project_id)
        found += await self.gates_offline(now=now, project_id=project_id)
        found += await self.lanes_faulty(now=now, project_id=project_id)
        found += await self.journal_gaps(now=now, project_id=project_id)
        if personal:
            found += await self.orders_overdue(now=now, project_id=project_id)
        return found

    async def managers_absent(
        self,
        *,
        now: datetime,
        project_id: str | None = None,
        day: date | None = None,
    ) -> list[Alert]:
        day = day or local_day(now)
        due = datetime.combine(day, self._settings.manager_due_by, tzinfo=SITE_ZONE)
        if now < due:
            return []
        held = assignments.alias("held")
        h, per, att, p = held.c, persons.c, attendance.c, projects.c
        query = (
            select(
                h.project_id, h.person_id, per.name, per.position, p.name.label("project_name"), att.first_in
            )
            .select_from(
                held.join(persons, per.id == h.person_id)
                .join(projects, p.id == h.project_id)
                .outerjoin(
                    attendance,
                    and_(att.project_id == h.project_id, att.person_id == h.person_id, att.day == day),
                )
            )
            .where(
                h.role == MANAGER,
                active_on(h, day),
                or_(att.first_in.is_(None), att.first_in > due),
                person_record_clause(self._principal, h.project_id, h.person_id),
                *([h.project_id == project_id] if project_id else []),
            )
            .order_by(h.project_id, per.position, h.person_id)
            .distinct()
        )
        result = []
        async with self._store.read("alerts") as conn:
            rows = (await conn.execute(query)).all()
        for row in rows:
            came = row.first_in.astimezone(SITE_ZONE).strftime("%H:%M") if row.first_in else None
            due_by = self._settings.manager_due_by
            message = f"{row.name} ({row.position or 'manager'}) had not entered by {due_by:%H:%M}"
            result.append(
                Alert(
                    kind="manager_absent",
                    project_id=row.project_id,
                    at=due,
                    subject=row.person_id,
                    message=message + (f"; came at {came}" if came else ""),
                    details={
                        "name": row.name,
                        "position": row.position,
                        "first_in": came,
                        "project_name": row.project_name,
                    },
                )
            )
        return result

    async def gates_offline(
        self,
        *,
        now: datetime,
        project_id: str | None = None,
    ) -> list[Alert]:
        g, d = gates.c, devices.c
        cutoff = now - self._settings.gate_offline_after
        query = (
            select(g.device_id, g.project_id, g.name, g.lane, d.last_seen_at)
            .select_from(gates.outerjoin(devices, d.device_id == g.device_id))
            .where(
                or_(d.last_seen_at.is_(None), d.last_seen_at < cutoff),
                device_clause(self._principal, g.device_id),
                *([g.project_id == project_id] if project_id else []),
            )
            .order_by(g.project_id, g.device_id)
        )
        result = []
        async with self._store.read("alerts") as conn:
            rows = (await conn.execute(query)).all()
        for row in rows:
            if row.last_seen_at is None:
                message = f"gate {row.name} (lane {row.lane}) has never been heard from"
            else:
                minutes = int((now - row.last_seen_at).total_seconds() // 60)
                message = f"gate {row.name} (lane {row.lane}) silent for {minutes} min"
            result.append(_gate_alert("gate_offline", row, row.last_seen_at, message))
        return result

    async def journal_gaps(self, *, now: datetime, project_id: str | None = None) -> list[Alert]:
        """``journal_gap`` of the gates the account may see: a restored hub's record of a lane's
        events lost for good (the module's rules)."""
        g, a = gates.c, audit_log.c
        query = (
            select(g.device_id, g.project_id, g.name, g.lane, a.at, a.detail)
            .select_from(gates.join(audit_log, a.target == g.device_id))
            .where(
                a.action == JOURNAL_GAP,
                a.at >= now - self._settings.watchlist_window,
                device_clause(self._principal, g.device_id),
                *([g.project_id == project_id] if project_id else []),
            )
            .order_by(g.project_id, g.device_id, a.at)
        )
        async with self._store.read("alerts") as conn:
            rows = (await conn.execute(query)).all()
        result = []
        for row in rows:
            detail = row.detail or {}
            count, first, last = detail.get("count"), detail.get("from_seq"), detail.get("through_seq")
            result.append(
                _gate_alert(
                    JOURNAL_GAP,
                    row,
                    row.at,
                    f"闸机 {row.name}（通道 {row.lane}）{count} 条记录已永久丢失："
                    "恢复所用的备份早于通道的保留期 · "
                    f"gate {row.name} (lane {row.lane}) lost {count} records for good (seq {first} to "
                    f"{last}): the hub was restored from a backup older than the lane keeps its records",
                    count=count,
                    from_seq=first,
                    through_seq=last,
                    epoch=detail.get("epoch"),
                )
            )
        return result

    async def lanes_faulty(self, *, now: datetime, project_id: str | None = None) -> list[Alert]:
        """``lane_fault``, ``clock_step``, ``attribution_refused`` and ``clock_suspect`` of the gates
        the account may see (the module's rules)."""
        g, d, e = gates.c, devices.c, lane_events.c
        scope = [
            device_clause(self._principal, g.device_id),
            *([g.project_id == project_id] if project_id else []),
        ]
        heard = (
            select(g.device_id, g.project_id, g.name, g.lane, d.last_seen_at, d.last_heartbeat)
            .select_from(gates.join(devices, d.device_id == g.device_id))
            .where(d.last_seen_at >= now - self._settings.gate_offline_after, *scope)
            .order_by(g.project_id, g.device_id)
        )
        steps = (
            select(g.device_id, g.project_id, g.name, g.lane, e.type, e.received_at, e.step_s)
            .select_from(gates.join(lane_events, e.device_id == g.device_id))
            .where(
                e.type.in_(("clock_step", "attribution_refused")),
                e.received_at >= now - self._settings.watchlist_window,
                *scope,
            )
            .order_by(g.project_id, g.device_id, e.received_at)
        )
        async with self._store.read("alerts") as conn:
            faulty = [
                r for r in (await conn.execute(heard)).all() if (r.last_heartbeat or {}).get("journal_fault")
            ]
            stepped = (await conn.execute(steps)).all()
            suspect = await _suspect_batches(conn, scope, now - self._settings.watchlist_window)
        result = [
            _gate_alert(
                "lane_fault",
                row,
                row.last_seen_at,
                f"gate {row.name} (lane {row.lane}) cannot record passages (journal write failing): "
                "nobody passes there; call it in",
            )
            for row in faulty
        ]
        result += [
            _gate_alert(
                "clock_step",
                row,
                row.received_at,
                f"gate {row.name} (lane {row.lane}) clock jumped {row.step_s or 0:+.0f} s; "
                "its times are corrected from its own clock",
                step_s=row.step_s,
            )
            for row in stepped
            if row.type == "clock_step"
        ]
        result += [
            _gate_alert(
                "attribution_refused",
                row,
                row.received_at,
                f"gate {row.name} (lane {row.lane}) sent a record that contradicts its placement; "
                "it was refused: check the lane's configuration, or whether it is what it claims",
            )
            for row in stepped
            if row.type == "attribution_refused"
        ]
        result += [
            _gate_alert(
                "clock_suspect",
                batch,
                batch.received_at,
                f"闸机 {batch.name}（通道 {batch.lane}）{batch.records} 条记录时间不可信："
                "已保存，不计入在场与考勤；请检查其时钟 · "
                f"gate {batch.name} (lane {batch.lane}) sent {batch.records} records stamped "
                f"{batch.earliest:%Y-%m-%d %H:%M} to {batch.latest:%Y-%m-%d %H:%M} UTC, times the hub "
                "does not believe: kept, but not counted on site or in attendance; check its clock",
                records=batch.records,
                earliest=batch.earliest.isoformat(),
                latest=batch.latest.isoformat(),
            )
            for batch in suspect
        ]
        return result

    async def watchlist_hits(
        self,
        *,
        now: datetime,
        project_id: str | None = None,
    ) -> list[Alert]:
        a, per = access_events.c, persons.c
        query = (
            select(a.project_id, a.device_id, a.lane, a.wall_time, a.person_id, per.name)
            .select_from(access_events.outerjoin(persons, per.id == a.person_id))
            .where(
                a.reason == "watchlisted",
                a.wall_time >= now - self._settings.watchlist_window,
                a.wall_time <= now,
                person_record_clause(self._principal, a.project_id, a.person_id),
                *([a.project_id == project_id] if project_id else []),
            )
            .order_by(a.wall_time.desc(), a.id.desc())
            .limit(200)
        )
        result = []
        async with self._store.read("alerts") as conn:
            rows = (await conn.execute(query)).all()
        for row in rows:
            who = row.name or "an unregistered card on the watchlist"
            local = row.wall_time.astimezone(SITE_ZONE).strftime("%m-%d %H:%M")
            result.append(
                Alert(
                    kind="watchlist_hit",
                    project_id=row.project_id,
                    at=row.wall_time,
                    subject=row.person_id or row.device_id,
                    message=f"watchlist hit: {who} at lane {row.lane} ({row.device_id}), {local}",
                    details={
                        "device_id": row.device_id,
                        "lane": row.lane,
                        "person_id": row.person_id,
                        "name": row.name,
                    },
                )
            )
        return result

    async def roster_misses(self, *, now: datetime, project_id: str | None = None) -> list[Alert]:
        """``not_in_roster`` grants (the module's rules), through the person's scope: they name one."""
        a, per = access_events.c, persons.c
        query = (
            select(a.project_id, a.device_id, a.lane, a.wall_time, a.person_id, per.name)
            .select_from(access_events.outerjoin(persons, per.id == a.person_id))
            .where(
                a.flag == NOT_IN_ROSTER,
                a.wall_time >= now - self._settings.watchlist_window,
                a.wall_time <= now,
                person_record_clause(self._principal, a.project_id, a.person_id),
                *([a.project_id == project_id] if project_id else []),
            )
            .order_by(a.wall_time.desc(), a.id.desc())
            .limit(200)
        )
        async with self._store.read("alerts") as conn:
            rows = (await conn.execute(query)).all()
        return [
            Alert(
                kind="not_in_roster",
                project_id=row.project_id,
                at=row.wall_time,
                subject=row.person_id,
                message=f"lane {row.lane} ({row.device_id}) admitted {row.name or 'an unknown person id'} "
                f"at {row.wall_time.astimezone(SITE_ZONE):%m-%d %H:%M}, whom the roster could not hold: "
                "check the lane's roster, or whether the lane is what it claims",
                details={"device_id": row.device_id, "lane": row.lane, "person_id": row.person_id},
            )
            for row in rows
        ]

    async def orders_overdue(self, *, now: datetime, project_id: str | None = None) -> list[Alert]:
        filters = orders.OrderFilters(overdue=True, project_id=project_id)
        query = orders.Orders(self._store, self._principal).filtered(filters, local_day(now))
        query = query.order_by(rectification_orders.c.deadline).limit(200)
        async with self._store.read("alerts.orders_overdue") as conn:
            rows = (await conn.execute(query)).all()
        result = []
        for row in rows:
            recipient = f"project {row.project_id}" if row.project_id else f"enterprise {row.enterprise_id}"
            result.append(
                Alert(
                    kind="order_overdue",
                    project_id=row.project_id,
                    at=datetime.combine(row.deadline + timedelta(days=1), time(0), tzinfo=SITE_ZONE),
                    subject=f"order:{row.id}",
                    message=f"order {row.id} to {recipient} ({row.recipient_name}) is overdue since "
                    f"{row.deadline.isoformat()}: escalated to the city station",
                    details={
                        "order_id": row.id,
                        "deadline": row.deadline.isoformat(),
                        "issued_by": row.issued_by,
                    },
                )
            )
        return result


Detail = str | int | float | bool | None
"""One value of :attr:`Alert.details`."""


def _gate_alert(kind: str, row: Any, at: datetime | None, message: str, **more: Detail) -> Alert:
    """An alert about one gate's lane (``row`` has its device_id, project_id, name and lane): the
    device is the subject, the gate's name and lane lead its details, then ``more``."""
    return Alert(
        kind=kind,
        project_id=row.project_id,
        at=at,
        subject=row.device_id,
        message=message,
        details={"gate": row.name, "lane": row.lane, **more},
    )


@dataclass(frozen=True, slots=True)
class _SuspectBatch:
    device_id: str
    project_id: str
    name: str
    lane: str
    received_at: datetime
    records: int
    earliest: datetime
    latest: datetime


async def _suspect_batches(
    conn: AsyncConnection, scope: list[ColumnElement[bool]], since: datetime
) -> list[_SuspectBatch]:
    """The clock-suspect records of either kind received since ``since`` at the gates ``scope``
    admits, one entry per device and batch (a batch's records share their ``received_at``).

    A suspect record's time lies after the window's start (the future) or before its device's
    enrolment or the epoch (hub.events.time_bounds): both are ranges of the ``wall_time`` indexes
    that hold few rows besides the last day's, so this reads no more than ``watchlist_hits``.
    """
    g, d = gates.c, devices.c
    floor = func.coalesce(d.enrolled_at, literal(EPOCH, UtcDateTime()))
    batches: dict[tuple[str, datetime], _SuspectBatch] = {}
    for table in (access_events, lane_events):
        t = table.c
        query = (
            select(
                g.device_id,
                g.project_id,
                g.name,
                g.lane,
                t.received_at,
                func.count().label("records"),
                func.min(t.wall_time).label("earliest"),
                func.max(t.wall_time).label("latest"),
            )
            .select_from(
                gates.join(table, t.device_id == g.device_id).outerjoin(devices, d.device_id == g.device_id)
            )
            .where(
                t.clock_suspect.is_(True),
                t.received_at >= since,
                or_(t.wall_time >= since, t.wall_time < floor),
                *scope,
            )
            .group_by(g.device_id, g.project_id, g.name, g.lane, t.received_at)
        )
        for row in (await conn.execute(query)).all():
            key = (row.device_id, row.received_at)
            held = batches.get(key)
            batches[key] = _SuspectBatch(
                row.device_id,
                row.project_id,
                row.name,
                row.lane,
                row.received_at,
                row.records + (held.records if held else 0),
                min(row.earliest, held.earliest) if held else row.earliest,
                max(row.latest, held.latest) if held else row.latest,
            )
    return [batches[key] for key in sorted(batches)]
