"""Rectification orders (责令限期整改): issued, responded to, accepted or sent back.

The states, in one table (:data:`TRANSITIONS`): an order is ``open`` from issue until its recipient
responds (``responded``); the issuer then accepts (``closed``) or sends it back (``open`` again,
perhaps with a new deadline). ``overdue`` is not a state: an open order whose deadline (a day on
the site calendar, included) has passed is overdue, computed on every read, so no timer runs and
no hub instance holds state another needs. Overdue orders are escalated: flagged, and listed to
the city station among its alerts whoever issued them.

Who: the city station and district bureaus issue and judge (a bureau within its district); the
recipient responds: for an order to a project, the general contractor's project department or
the general contractor's enterprise account; for an order to an enterprise, its account.

:class:`Orders` acts for one account, given when it is built; which orders that account sees is
:func:`hub.auth.scope.order_clause`, chosen inside.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth import audit, permissions
from hub.auth.principal import Principal, Role
from hub.auth.scope import order_clause
from hub.derive.days import local_day
from hub.page import Page
from hub.refusals import (
    DeadlineInPast,
    Forbidden,
    Missing,
    OrderNotOpen,
    OrderNotResponded,
    UnknownReference,
)
from hub.registry.paging import decode_key, encode_key
from hub.registry.permissions import check_role
from hub.registry.rows import inserted_id
from hub.store.schema import enterprises, inspections, order_actions, projects, rectification_orders
from hub.workflows.models import OrderAction, OrderIn, OrderStatus, ResponseIn, ReviewIn
from hub.workflows.records import Order, OrderStep
from hub.workflows.targets import TargetChecks

ISSUERS: Final = permissions.ORDER_ISSUERS
RESPONDERS: Final = permissions.ORDER_RESPONDERS
READERS: Final = permissions.READERS

TRANSITIONS: Final = {
    (OrderStatus.OPEN, OrderAction.RESPOND): OrderStatus.RESPONDED,
    (OrderStatus.RESPONDED, OrderAction.ACCEPT): OrderStatus.CLOSED,
    (OrderStatus.RESPONDED, OrderAction.REJECT): OrderStatus.OPEN,
}
"""(state, action) -> next state; anything else is refused with the state it is in."""


@dataclass(frozen=True, slots=True)
class OrderFilters:
    status: OrderStatus | None = None
    overdue: bool | None = None
    project_id: str | None = None
    enterprise_id: str | None = None


def overdue_clause(today: date) -> ColumnElement[bool]:
    o = rectification_orders.c
    return and_(o.status == OrderStatus.OPEN.value, o.deadline < today)


def _order(row: Any, today: date, history: tuple[OrderStep, ...] = ()) -> Order:
    values = {k: v for k, v in row._mapping.items() if k != "issuer_account_id"}
    overdue = values["status"] == OrderStatus.OPEN.value and values["deadline"] < today
    return Order(**values, overdue=overdue, escalated=overdue, history=history)


def _may_respond(principal: Principal, order: Order, gc_enterprise_id: str | None) -> bool:
    if order.enterprise_id is not None:
        return principal.role is Role.ENTERPRISE and principal.enterprise_id == order.enterprise_id
    if principal.role is Role.GC_PROJECT:
        return principal.project_id == order.project_id
    return principal.role is Role.ENTERPRISE and principal.enterprise_id == gc_enterprise_id


def _next(order: Order, action: OrderAction) -> OrderStatus:
    status = TRANSITIONS.get((OrderStatus(order.status), action))
    if status is None:
        if action is OrderAction.RESPOND:
            raise OrderNotOpen(order.id, order.status)
        raise OrderNotResponded(order.id, order.status)
    return status


async def _history(conn: AsyncConnection, order_id: int) -> tuple[OrderStep, ...]:
    a = order_actions.c
    rows = await conn.execute(
        select(a.at, a.username, a.action, a.note).where(a.order_id == order_id).order_by(a.id)
    )
    return tuple(OrderStep(**row._mapping) for row in rows)


async def _check_inspection(conn: AsyncConnection, inspection_id: int, project_id: str) -> None:
    """An order from an inspection is addressed to the inspected project."""
    i = inspections.c
    found = await conn.scalar(select(i.id).where(i.id == inspection_id, i.project_id == project_id))
    if found is None:
        raise UnknownReference("inspection_id", "inspection", f"{inspection_id} of project {project_id}")


async def _update(conn: AsyncConnection, order_id: int, **values: Any) -> None:
    o = rectification_orders.c
    await conn.execute(rectification_orders.update().where(o.id == order_id).values(**values))


class Orders(TargetChecks):
    """Rectification orders as ``principal`` issues, answers, judges and reads them."""

    async def issue(self, data: OrderIn, *, now: datetime) -> Order:
        principal = self._principal
        check_role(principal, ISSUERS)
        today = local_day(now)
        if data.deadline < today:
            raise DeadlineInPast(data.deadline, today)
        async with self._store.write("workflows.issue_order") as conn:
            if data.project_id is not None:
                target = await self._project_target(conn, data.project_id, "order a rectification of")
                if data.inspection_id is not None:
                    await _check_inspection(conn, data.inspection_id, data.project_id)
            else:
                assert data.enterprise_id is not None  # OrderIn holds exactly one
                target = await self._enterprise_target(conn, data.enterprise_id, "order a rectification of")
            result = await conn.execute(
                rectification_orders.insert().values(
                    district=target.district,
                    project_id=data.project_id,
                    enterprise_id=data.enterprise_id,
                    subject=data.subject,
                    requirements=data.requirements,
                    deadline=data.deadline,
                    status=OrderStatus.OPEN.value,
                    issued_at=now,
                    issuer_account_id=principal.account_id,
                    issued_by=principal.username,
                    inspection_id=data.inspection_id,
                )
            )
            order_id = inserted_id(result)
            detail = {
                "project_id": data.project_id,
                "enterprise_id": data.enterprise_id,
                "deadline": data.deadline.isoformat(),
            }
            await self._step(conn, order_id, OrderAction.ISSUE, None, now, detail)
            return await self._fetch(conn, order_id, today)

    async def respond(self, order_id: int, data: ResponseIn, *, now: datetime) -> Order:
        principal = self._principal
        check_role(principal, RESPONDERS)
        today = local_day(now)
        async with self._store.write("workflows.respond_order") as conn:
            order = await self._fetch(conn, order_id, today)
            gc = None
            if order.project_id is not None:
                gc = await conn.scalar(
                    select(projects.c.gc_enterprise_id).where(projects.c.id == order.project_id)
                )
            if not _may_respond(principal, order, gc):
                recipient = (
                    f"project {order.project_id}" if order.project_id else f"enterprise {order.enterprise_id}"
                )
                raise Forbidden(f"order {order_id} is addressed to {recipient}'s account, not to this one")
            status = _next(order, OrderAction.RESPOND)
            await _update(conn, order_id, status=status.value, responded_at=now)
            detail = {"late": order.overdue}
            await self._step(conn, order_id, OrderAction.RESPOND, data.response, now, detail)
            return await self._fetch(conn, order_id, today)

    async def review(self, order_id: int, data: ReviewIn, *, now: datetime) -> Order:
        check_role(self._principal, ISSUERS)
        today = local_day(now)
        action = OrderAction.ACCEPT if data.accept else OrderAction.REJECT
        async with self._store.write("workflows.review_order") as conn:
            order = await self._fetch(conn, order_id, today)  # a bureau sees its district's only
            status = _next(order, action)
            changes: dict[str, Any] = {"status": status.value}
            if status is OrderStatus.CLOSED:
                changes["closed_at"] = now
            if data.new_deadline is not None:
                if data.new_deadline < today:
                    raise DeadlineInPast(data.new_deadline, today)
                changes["deadline"] = data.new_deadline
            await _update(conn, order_id, **changes)
            detail = {"new_deadline": data.new_deadline.isoformat() if data.new_deadline else None}
            await self._step(conn, order_id, action, data.note, now, detail)
            return await self._fetch(conn, order_id, today)

    async def get(self, order_id: int, *, now: datetime) -> Order:
        check_role(self._principal, READERS)
        async with self._store.read("workflows.order") as conn:
            return await self._fetch(conn, order_id, local_day(now))

    async def listing(
        self, filters: OrderFilters, *, now: datetime, cursor: str | None = None, limit: int = 100
    ) -> Page[Order]:
        """Newest first (by id); ``next_cursor`` is None on the last page."""
        check_role(self._principal, READERS)
        today = local_day(now)
        o = rectification_orders.c
        query = self.filtered(filters, today)
        if cursor is not None:
            query = query.where(o.id < decode_key(cursor, int))
        async with self._store.read("workflows.orders") as conn:
            rows = (await conn.execute(query.order_by(o.id.desc()).limit(limit + 1))).all()
        items = [_order(row, today) for row in rows[:limit]]
        more = len(rows) > limit
        return Page(items, encode_key(items[-1].id) if more and items else None)

    def filtered(self, filters: OrderFilters, today: date) -> Select[Any]:
        """The orders this account sees that pass ``filters`` (with the recipient's name)."""
        o = rectification_orders.c
        clauses: list[ColumnElement[bool]] = [true()]
        if filters.status is not None:
            clauses.append(o.status == filters.status.value)
        if filters.overdue is not None:
            overdue = overdue_clause(today)
            clauses.append(overdue if filters.overdue else ~overdue)
        if filters.project_id is not None:
            clauses.append(o.project_id == filters.project_id)
        if filters.enterprise_id is not None:
            clauses.append(o.enterprise_id == filters.enterprise_id)
        return self._query().where(*clauses)

    def _query(self) -> Select[Any]:
        o, p, e = rectification_orders.c, projects.c, enterprises.c
        return (
            select(rectification_orders, func.coalesce(p.name, e.name, "").label("recipient_name"))
            .select_from(
                rectification_orders.outerjoin(projects, p.id == o.project_id).outerjoin(
                    enterprises, e.id == o.enterprise_id
                )
            )
            .where(order_clause(self._principal))
        )

    async def _fetch(self, conn: AsyncConnection, order_id: int, today: date) -> Order:
        row = (await conn.execute(self._query().where(rectification_orders.c.id == order_id))).first()
        if row is None:
            raise Missing("order", order_id)
        return _order(row, today, await _history(conn, order_id))

    async def _step(
        self,
        conn: AsyncConnection,
        order_id: int,
        action: OrderAction,
        note: str | None,
        now: datetime,
        detail: dict[str, Any],
    ) -> None:
        principal = self._principal
        await conn.execute(
            order_actions.insert().values(
                order_id=order_id,
                at=now,
                account_id=principal.account_id,
                username=principal.username,
                action=action.value,
                note=note,
            )
        )
        await audit.record(
            conn,
            principal,
            f"workflow.order.{action.value}",
            at=now,
            target=f"order:{order_id}",
            detail=detail,
        )
