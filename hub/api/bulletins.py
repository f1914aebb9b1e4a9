"""通报 and eligibility sanctions over HTTP: thin handlers as the workflows' (hub.api.workflows),
one call into :mod:`hub.workflows.bulletins` / :mod:`hub.workflows.sanctions` each, which check the
role again and scope every read."""

from __future__ import annotations

from aiohttp import web

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, STORE
from hub.api.oversight import _date
from hub.api.params import params_of
from hub.api.principal import principal_of
from hub.api.registry import _answers, body
from hub.api.respond import json_response
from hub.api.workflows import present
from hub.derive.days import local_day
from hub.workflows.bulletins import BulletinIn, Bulletins, PartyKind
from hub.workflows.sanctions import SanctionIn, Sanctions


def _bulletin_id(request: web.Request) -> int:
    text = request.match_info["bulletin_id"]
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**63:
        raise ApiError(404, "not_found", f"bulletin {text} not found")
    return int(text)


@_answers
async def issue_bulletin(request: web.Request) -> web.Response:
    data = await body(request, BulletinIn)
    now = request.app[CLOCK].wall()
    bulletin = await Bulletins(request.app[STORE], principal_of(request)).issue(data, now=now)
    return json_response(present(bulletin), status=201)


@_answers
async def list_bulletins(request: web.Request) -> web.Response:
    params = params_of(request)
    kind, party_id = params.choice("party_kind", PartyKind), params.text("party_id")
    if (kind is None) != (party_id is None):
        raise ApiError(422, "invalid_query", "give party_kind and party_id together")
    party = None if kind is None or party_id is None else (kind.value, party_id)
    found = await Bulletins(request.app[STORE], principal_of(request)).listing(party=party)
    return json_response({"items": [present(b) for b in found]})


@_answers
async def get_bulletin(request: web.Request) -> web.Response:
    params_of(request)
    bulletin_id = _bulletin_id(request)
    found = await Bulletins(request.app[STORE], principal_of(request)).get(bulletin_id)
    if found is None:
        raise ApiError(404, "not_found", f"bulletin {bulletin_id} not found")
    return json_response(present(found))


@_answers
async def record_sanction(request: web.Request) -> web.Response:
    data = await body(request, SanctionIn)
    now = request.app[CLOCK].wall()
    sanction = await Sanctions(request.app[STORE], principal_of(request)).record(data, now=now)
    return json_response(present(sanction), status=201)


@_answers
async def sanctions_in_force(request: web.Request) -> web.Response:
    params = params_of(request)
    kind, subject_id = params.choice("subject_kind", PartyKind), params.text("subject_id")
    if kind is None or subject_id is None:
        raise ApiError(422, "invalid_query", "subject_kind and subject_id are required")
    on = _date(params, "date") or local_day(request.app[CLOCK].wall())
    found = await Sanctions(request.app[STORE], principal_of(request)).in_force(kind, [subject_id], on=on)
    return json_response({"items": [present(s) for s in found.get(subject_id, [])]})
