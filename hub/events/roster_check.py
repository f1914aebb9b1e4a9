"""Grants the roster could not hold (issue 13): flagged, never refused.

A lane grants from the roster the hub sent it, so a grant names a person whose assignment on the
lane's project ran on the day it happened. A grant that does not (no such assignment, one not yet
started or already ended that day, a visitor entering outside the pass, a watchlisted person) was
decided from something other than the roster: a stale or tampered roster, a lane that forged it.
The arm opened, so the record is stored as it came, and derived from as any passage; it carries
``flag = not_in_roster`` and is an alert for the project's accounts (:mod:`hub.workflows.alerts`).

"The roster holds" is what the lane's own rules would grant by (:mod:`controller.core.decision`:
the assignment's dates against the site's day, a visitor's pass window on the way in, the
watchlist) at the hub's corrected time of the event, against the registry as it is when the
batch is stored. Working hours and anti-passback are policy, not roster: not checked here.
The watchlist is today's: a grant received after the person was watchlisted is flagged even if
it happened before, which an account looking at it can tell from the times.

Pure rule (:func:`held`) plus one read per batch of the granted persons' assignments
(:func:`flag_unheld`), and an update of the flagged rows only (none in the usual batch).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.bulk import PerDialect, among
from hub.store.schema import access_events, assignments, persons
from wire.clock import SITE_ZONE
from wire.models import AccessEvent, Decision, Direction

log = logging.getLogger(__name__)

NOT_IN_ROSTER = "not_in_roster"
"""``access_events.flag`` of a grant the roster could not hold."""


@dataclass(frozen=True, slots=True)
class Tenure:
    """One assignment of a person, as the roster compiles it (:mod:`hub.rosters.registry_source`)."""

    project_id: str
    entry_date: date
    exit_date: date | None
    pass_from: datetime | None = None
    pass_until: datetime | None = None
    watchlisted: bool = False
    """The person's, on every tenure of theirs (the lane refuses a watchlisted card outright)."""


def held(event: AccessEvent, at: datetime, tenures: Sequence[Tenure]) -> bool:
    """Whether one of the person's ``tenures`` lets the lane grant ``event`` at ``at`` (its
    corrected time)."""
    day = at.astimezone(SITE_ZONE).date()
    return any(
        tenure.project_id == event.project_id
        and not tenure.watchlisted
        and tenure.entry_date <= day
        and (tenure.exit_date is None or day <= tenure.exit_date)
        and _within_pass(tenure, event.direction, at)
        for tenure in tenures
    )


def _within_pass(tenure: Tenure, direction: Direction, at: datetime) -> bool:
    """A visitor's pass bounds the way in only (a visitor inside when it ends may still leave)."""
    if direction is not Direction.IN or tenure.pass_from is None or tenure.pass_until is None:
        return True
    return tenure.pass_from <= at < tenure.pass_until


async def tenures_of(
    conn: AsyncConnection, person_ids: Collection[str], project_ids: Collection[str]
) -> dict[str, list[Tenure]]:
    """The assignments of ``person_ids`` on ``project_ids``, by person; one query."""
    bound = {"people": sorted(person_ids), "projects": sorted(project_ids)}
    found: dict[str, list[Tenure]] = {}
    for row in (await conn.execute(_TENURES(conn), bound)).all():
        tenure = Tenure(
            row.project_id,
            row.entry_date,
            row.exit_date,
            row.pass_from,
            row.pass_until,
            bool(row.watchlisted),
        )
        found.setdefault(row.person_id, []).append(tenure)
    return found


def _tenures_query(dialect_name: str) -> Select[Any]:
    a, p = assignments.c, persons.c
    return (
        select(a.person_id, a.project_id, a.entry_date, a.exit_date, a.pass_from, a.pass_until, p.watchlisted)
        .select_from(assignments.join(persons, p.id == a.person_id))
        .where(among(a.person_id, "people", dialect_name), among(a.project_id, "projects", dialect_name))
    )


_TENURES = PerDialect(_tenures_query)
"""Built once (asked at every batch that grants someone)."""


async def flag_unheld(
    conn: AsyncConnection, stored: Sequence[tuple[AccessEvent, datetime]]
) -> list[AccessEvent]:
    """Flag the grants among ``stored`` (new access events with their corrected times, in the
    caller's write transaction) that the roster could not hold; returns them. No query when the
    batch grants nobody."""
    grants = [(e, at) for e, at in stored if e.decision is Decision.GRANTED and e.person_id is not None]
    if not grants:
        return []
    tenures = await tenures_of(
        conn, {e.person_id for e, _ in grants if e.person_id}, {e.project_id for e, _ in grants}
    )
    unheld = [e for e, at in grants if not held(e, at, tenures.get(e.person_id or "", ()))]
    by_device: dict[str, list[int]] = {}
    for event in unheld:
        by_device.setdefault(event.device_id, []).append(event.seq)
    c = access_events.c
    for device_id, seqs in sorted(by_device.items()):
        flag = (
            update(access_events).where(c.device_id == device_id, c.seq.in_(seqs)).values(flag=NOT_IN_ROSTER)
        )
        await conn.execute(flag)
        log.warning(
            "%d grants from %s the roster could not hold: flagged %s", len(seqs), device_id, NOT_IN_ROSTER
        )
    return unheld
