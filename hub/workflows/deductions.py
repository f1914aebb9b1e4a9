"""Credit deductions (信用扣分) against an enterprise or a project leader, with the reason and the
rectification order they come from.

The city station and district bureaus deduct (a bureau within its district, as for orders). A
deduction naming an order must be about that order's recipient: for an order to an enterprise,
the enterprise or one of its people; for an order to a project, a party to the project or a
manager on it (and the deduction then names the project). Deductions are never edited: a wrong
one is answered by a new record, as in a ledger.

:class:`Deductions` acts for one account, given when it is built; which deductions that account
sees is :func:`hub.auth.scope.deduction_clause`, chosen inside.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth import audit, permissions
from hub.auth.scope import deduction_clause, order_clause
from hub.page import Page
from hub.refusals import OrderTargetMismatch, UnknownReference
from hub.registry.paging import decode_key, encode_key
from hub.registry.permissions import check_role
from hub.registry.rows import inserted_id
from hub.store.schema import credit_deductions, enterprises, persons, rectification_orders
from hub.workflows.models import DeductionIn
from hub.workflows.records import Deduction
from hub.workflows.targets import Target, TargetChecks, employer_of, is_party, leader_target

DEDUCTORS: Final = permissions.DEDUCTORS
READERS: Final = permissions.READERS
_WHAT = "deduct credit from"


@dataclass(frozen=True, slots=True)
class DeductionFilters:
    enterprise_id: str | None = None
    person_id: str | None = None
    project_id: str | None = None
    order_id: int | None = None


def _deduction(row: Any) -> Deduction:
    return Deduction(**{k: v for k, v in row._mapping.items() if k != "account_id"})


class Deductions(TargetChecks):
    """Credit deductions as ``principal`` records and reads them."""

    async def deduct(self, data: DeductionIn, *, now: datetime) -> Deduction:
        principal = self._principal
        check_role(principal, DEDUCTORS)
        async with self._store.write("workflows.deduct") as conn:
            project_id = await self._checked_order(conn, data)
            target: Target
            if data.person_id is not None:
                assert project_id is not None  # DeductionIn requires it with a person
                target = await self._project_target(conn, project_id, _WHAT)
                await leader_target(conn, data.person_id, project_id)
            else:
                assert data.enterprise_id is not None
                target = await self._enterprise_target(conn, data.enterprise_id, _WHAT)
                if project_id is not None:
                    await self._project_target(conn, project_id, _WHAT)
            result = await conn.execute(
                credit_deductions.insert().values(
                    district=target.district,
                    enterprise_id=data.enterprise_id,
                    person_id=data.person_id,
                    project_id=project_id,
                    points=data.points,
                    reason=data.reason,
                    order_id=data.order_id,
                    deducted_at=now,
                    account_id=principal.account_id,
                    deducted_by=principal.username,
                )
            )
            deduction_id = inserted_id(result)
            detail = {
                "enterprise_id": data.enterprise_id,
                "person_id": data.person_id,
                "project_id": project_id,
                "points": data.points,
                "order_id": data.order_id,
            }
            await audit.record(
                conn,
                principal,
                "workflow.deduction",
                at=now,
                target=f"deduction:{deduction_id}",
                detail=detail,
            )
            row = (await conn.execute(self._query().where(credit_deductions.c.id == deduction_id))).one()
            return _deduction(row)

    async def listing(
        self, filters: DeductionFilters, *, cursor: str | None = None, limit: int = 100
    ) -> Page[Deduction]:
        """Newest first (by id)."""
        check_role(self._principal, READERS)
        d = credit_deductions.c
        query = self.filtered(filters)
        if cursor is not None:
            query = query.where(d.id < decode_key(cursor, int))
        async with self._store.read("workflows.deductions") as conn:
            rows = (await conn.execute(query.order_by(d.id.desc()).limit(limit + 1))).all()
        items = [_deduction(row) for row in rows[:limit]]
        return Page(items, encode_key(items[-1].id) if len(rows) > limit and items else None)

    def filtered(self, filters: DeductionFilters) -> Select[Any]:
        d = credit_deductions.c
        clauses: list[ColumnElement[bool]] = []
        for column, value in (
            (d.enterprise_id, filters.enterprise_id),
            (d.person_id, filters.person_id),
            (d.project_id, filters.project_id),
            (d.order_id, filters.order_id),
        ):
            if value is not None:
                clauses.append(column == value)
        return self._query().where(*clauses)

    def _query(self) -> Select[Any]:
        d, e, per = credit_deductions.c, enterprises.c, persons.c
        return (
            select(
                credit_deductions,
                e.name.label("enterprise_name"),
                per.name.label("person_name"),
            )
            .select_from(
                credit_deductions.outerjoin(enterprises, e.id == d.enterprise_id).outerjoin(
                    persons, per.id == d.person_id
                )
            )
            .where(deduction_clause(self._principal))
        )

    async def _checked_order(self, conn: AsyncConnection, data: DeductionIn) -> str | None:
        """The project the deduction is about, once the order it names (if any) agrees with it."""
        if data.order_id is None:
            return data.project_id
        o = rectification_orders.c
        visible = select(o.id, o.project_id, o.enterprise_id).where(
            o.id == data.order_id, order_clause(self._principal)
        )
        order = (await conn.execute(visible)).first()
        if order is None:
            raise UnknownReference("order_id", "order", str(data.order_id))
        if order.enterprise_id is not None:
            about = data.enterprise_id or await employer_of(conn, str(data.person_id))
            if about != order.enterprise_id:
                raise OrderTargetMismatch(
                    order.id, f"is to enterprise {order.enterprise_id}, not to whom this deducts from"
                )
            return data.project_id
        if data.project_id is not None and data.project_id != order.project_id:
            raise OrderTargetMismatch(order.id, f"is to project {order.project_id}, not {data.project_id}")
        if data.enterprise_id is not None and not await is_party(conn, order.project_id, data.enterprise_id):
            raise OrderTargetMismatch(
                order.id,
                f"is to project {order.project_id}, where enterprise {data.enterprise_id} is not a party",
            )
        return str(order.project_id)
