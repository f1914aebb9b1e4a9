"""Which orders and deductions an account sees, as SQL built from :mod:`hub.auth.scope`.

- city: all; operator: none (no personal records);
- district: those its bureau oversees (the row's ``district``, set at issue: the project's
  district, or for an enterprise the issuing bureau's, else the enterprise's own);
- an order to a project: every account that sees the project (:func:`project_clause`), except a
  subcontractor's project department (an order to the project is the general contractor's to
  answer); an order to an enterprise: that enterprise's account;
- a deduction against an enterprise: that enterprise; against a person: the person's employer;
  both also to the project departments of the project it names (a subcontractor's department only
  for its own enterprise and people).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from hub.auth.principal import Principal, Role
from hub.auth.scope import project_clause
from hub.store.schema import credit_deductions, persons, rectification_orders


def order_clause(principal: Principal) -> ColumnElement[bool]:
    o = rectification_orders.c
    role = principal.role
    if role is Role.CITY:
        return true()
    if role is Role.DISTRICT:
        return o.district == principal.district
    if role in (Role.OPERATOR, Role.SUB_PROJECT):
        return false()
    to_project = and_(o.project_id.is_not(None), project_clause(principal, o.project_id))
    if role is Role.ENTERPRISE:
        return or_(o.enterprise_id == principal.enterprise_id, to_project)
    return to_project


def _staff_of(enterprise_id: str | None) -> ColumnElement[bool]:
    d = credit_deductions.c
    return d.person_id.in_(select(persons.c.id).where(persons.c.enterprise_id == enterprise_id))


def deduction_clause(principal: Principal) -> ColumnElement[bool]:
    d = credit_deductions.c
    role = principal.role
    if role is Role.CITY:
        return true()
    if role is Role.DISTRICT:
        return d.district == principal.district
    if role is Role.OPERATOR:
        return false()
    own = or_(d.enterprise_id == principal.enterprise_id, _staff_of(principal.enterprise_id))
    if role is Role.ENTERPRISE:
        return own
    on_project = and_(d.project_id.is_not(None), project_clause(principal, d.project_id))
    if role is Role.SUB_PROJECT:
        return and_(on_project, own)
    return on_project
