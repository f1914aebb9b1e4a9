"""GET /api/v1/projects/{project_id}/card-reads: the office readers' latest card reads, for the
进场/离场登记 form (issue 14).

A long poll: the answer comes as soon as a read newer than ``after`` is held for the project
(:class:`hub.registration_reads.CardReads`), or empty after ``wait_s`` (25 s by default, under
the usual proxies' idle timeouts); the form passes the answer's ``last`` back as ``after``. A
read arrives in the form within the broker's and the ingest's latency, well under a second.

Only the project departments that register people on the project may ask (the route's roles),
each for its own project (:func:`hub.auth.scope.project_clause`: any other is a 404). Each read
answered is audited (who saw which reader's read, with the ID number's blind index, never the
number), and carries whether its person is registered already and assigned to the project now,
looked up by the blind index as ``persons/lookup`` does.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, STORE
from hub.api.params import params_of
from hub.api.principal import principal_of
from hub.api.respond import json_response
from hub.api.workflows import VAULT
from hub.auth import audit
from hub.auth.permissions import ASSIGN
from hub.auth.principal import Principal
from hub.auth.scope import project_clause
from hub.registration_reads import CardReads, HeldRead
from hub.registry import mask
from hub.store.schema import assignments, persons, projects
from wire.clock import SITE_ZONE

CARD_READS = web.AppKey("card_reads", CardReads)
"""The office readers' reads, in this hub's memory (the app factory makes it, the ingest fills it)."""

WAIT_S = 25


async def card_reads(request: web.Request) -> web.Response:
    principal = principal_of(request)
    project_id = request.match_info["project_id"]
    params = params_of(request)
    store = request.app[STORE]
    async with store.read("card reads: project") as conn:
        visible = await conn.scalar(
            select(projects.c.id).where(projects.c.id == project_id, project_clause(principal, projects.c.id))
        )
    if visible is None:
        raise ApiError(404, "not_found", f"project {project_id} not found")
    after = params.integer("after")
    found = await request.app[CARD_READS].wait(project_id, after, float(params.integer("wait_s")))
    if not found:
        return json_response({"items": [], "last": after})
    vault = request.app[VAULT]
    today = request.app[CLOCK].wall().astimezone(SITE_ZONE).date()
    items = []
    async with store.write("card reads: shown") as conn:
        for held in found:
            index = vault.blind_index(held.read.id_number)
            person_id, assignment_id = await _registered(conn, index, project_id, today)
            await audit.record(
                conn,
                principal,
                "card_read.view",
                at=request.app[CLOCK].wall(),
                target=held.read.device_id,
                detail={"read_id": held.read.read_id, "id_index": index, "project_id": project_id},
            )
            items.append(_item(held, principal, person_id, assignment_id))
    return json_response({"items": items, "last": found[-1].number})


async def _registered(
    conn: AsyncConnection, index: str, project_id: str, today: date
) -> tuple[str | None, int | None]:
    """The person registered with the number's blind index, and their assignment to the project
    that has not ended (today or later), if any."""
    person_id: str | None = await conn.scalar(select(persons.c.id).where(persons.c.id_index == index))
    if person_id is None:
        return None, None
    a = assignments.c
    assignment_id: int | None = await conn.scalar(
        select(a.id)
        .where(a.project_id == project_id, a.person_id == person_id)
        .where(or_(a.exit_date.is_(None), a.exit_date >= today))
        .order_by(a.entry_date.desc())
        .limit(1)
    )
    return person_id, assignment_id


def _item(
    held: HeldRead, principal: Principal, person_id: str | None, assignment_id: int | None
) -> dict[str, Any]:
    read = held.read
    whole = principal.role in ASSIGN  # the form registers with it; nobody else gets this far
    return {
        "number": held.number,
        "device_id": read.device_id,
        "lane": held.lane,
        "received_at": held.received_at.isoformat(),
        "read_at": read.read_at.isoformat(),
        "clock_synced": read.clock_synced,
        "card_kind": read.card_kind.value,
        "name": read.name,
        "english_name": read.english_name,
        "gender": read.gender,
        "nation": read.nation,
        "birth_date": _day(read.birth_date),
        "address": read.address,
        "id_number": read.id_number if whole else mask(read.id_number),
        "issuer": read.issuer,
        "valid_from": _day(read.valid_from),
        "valid_to": _day(read.valid_to),
        "long_term": read.valid_to is None,
        "problem": read.problem.value if read.problem is not None else None,
        "person_id": person_id,
        "assignment_id": assignment_id,
        "on_project": assignment_id is not None,
    }


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None
