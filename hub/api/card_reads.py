"""GET /api/v1/projects/{project_id}/card-reads: the office readers' latest card reads, for the
进场/离场登记 form (issue 14).

A long poll: the answer comes as soon as a read newer than ``after`` is held for the project
(:class:`hub.registration_reads.CardReads`), or empty after ``wait_s`` (25 s by default, under
the usual proxies' idle timeouts); the form passes the answer's ``last`` back as ``after``. A
read arrives in the form within the broker's and the ingest's latency, well under a second.

Only the project departments that register people on the project may ask (the route's roles),
each for its own project (any other is a 404); what they get, scoped, audited and looked up, is
:class:`hub.registration_desk.RegistrationDesk`'s.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, STORE
from hub.api.params import params_of
from hub.api.principal import principal_of
from hub.api.respond import json_response
from hub.api.workflows import VAULT
from hub.auth.permissions import ASSIGN
from hub.auth.principal import Principal
from hub.registration_desk import RegistrationDesk, ShownRead
from hub.registration_reads import CardReads
from hub.registry import mask

CARD_READS = web.AppKey("card_reads", CardReads)
"""The office readers' reads, in this hub's memory (the app factory makes it, the ingest fills it)."""

WAIT_S = 25


async def card_reads(request: web.Request) -> web.Response:
    principal = principal_of(request)
    project_id = request.match_info["project_id"]
    params = params_of(request)
    app = request.app
    desk = RegistrationDesk(app[STORE], app[CARD_READS], app[VAULT], principal, clock=app[CLOCK])
    if not await desk.sees(project_id):
        raise ApiError(404, "not_found", f"project {project_id} not found")
    after = params.integer("after")
    shown = await desk.reads(project_id, after, float(params.integer("wait_s")))
    items = [item_of(read, principal) for read in shown]
    return json_response({"items": items, "last": shown[-1].held.number if shown else after})


def item_of(shown: ShownRead, principal: Principal) -> dict[str, Any]:
    """One read as the form gets it (the API's answer, and the console's registration page)."""
    held, person_id, assignment_id = shown.held, shown.person_id, shown.assignment_id
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
