"""Statement pieces the oversight reads share with the workflows: which assignment runs on a day,
and the enterprise of a person's latest assignment to a project. Pure SQLAlchemy builders: no
connection, no account; :class:`hub.oversight.oversight.Oversight` runs them under its scope.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from hub.derive.days import local_day
from hub.store.schema import assignments, attendance, enterprises, teams

PRESENCE_STALE_AFTER = timedelta(hours=18)
"""Longer than any shift: an ``in`` older than this is a swipe-out that was never recorded."""
MANAGER_ROLE = "manager"


def active_on(a: Any, day: date) -> ColumnElement[bool]:
    """The assignment (columns ``a``) runs on ``day``: entry reached, exit not passed."""
    return and_(a.entry_date <= day, or_(a.exit_date.is_(None), a.exit_date >= day))


def present(p: Any, a: Any, now: datetime) -> list[ColumnElement[bool]]:
    """The headcount's rules on ``presence`` columns ``p`` joined to a held assignment ``a``: the
    latest passage an ``in``, younger than :data:`PRESENCE_STALE_AFTER`, the assignment running today."""
    return [p.on_site.is_(True), p.event_time >= now - PRESENCE_STALE_AFTER, active_on(a, local_day(now))]


def held_assignment() -> Any:
    """``assignments`` under another name: the scope's own EXISTS over ``assignments`` must not
    correlate with the assignment a query joins."""
    return assignments.alias("held")


def latest_enterprise(column: Any, project_id: Any, person_col: Any) -> Any:
    """A column of the enterprise the person's latest assignment to the project is for."""
    a, e = assignments.c, enterprises.c
    return (
        select(column)
        .select_from(assignments.join(enterprises, e.id == a.enterprise_id))
        .where(a.project_id == project_id, a.person_id == person_col)
        .order_by(a.entry_date.desc(), a.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def latest_team(project_id: Any, person_col: Any) -> Any:
    """The name of the team (班组) of the person's latest assignment to the project; NULL when that
    assignment names none."""
    a, t = assignments.c, teams.c
    return (
        select(t.name)
        .select_from(assignments.outerjoin(teams, t.id == a.team_id))
        .where(a.project_id == project_id, a.person_id == person_col)
        .order_by(a.entry_date.desc(), a.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def month_totals(project_id: str, first: date, scope: ColumnElement[bool]) -> Any:
    """Per person of the project in the calendar month starting ``first``: ``days_present``,
    ``seconds_on_site`` and ``passages`` from ``attendance``, as a subquery; ``scope`` on its columns."""
    t = attendance.c
    following = (first + timedelta(days=32)).replace(day=1)
    return (
        select(
            t.person_id,
            func.count().label("days_present"),
            func.sum(t.seconds_on_site).label("seconds_on_site"),
            func.sum(t.passages).label("passages"),
        )
        .where(t.project_id == project_id, t.day >= first, t.day < following, scope)
        .group_by(t.person_id)
        .subquery()
    )
