"""The district bureaus' contacts (the notice's annex) over HTTP: thin handlers, one call each into
:class:`hub.workflows.contacts.DistrictContacts`, which checks the role and the district again and
scopes the read."""

from __future__ import annotations

from aiohttp import web

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, STORE
from hub.api.params import params_of
from hub.api.principal import principal_of
from hub.api.registry import _answers, body
from hub.api.respond import json_response
from hub.api.workflows import present
from hub.workflows.contacts import ContactIn, ContactRole, DistrictContacts


@_answers
async def list_contacts(request: web.Request) -> web.Response:
    district = params_of(request).text("district")
    found = await DistrictContacts(request.app[STORE], principal_of(request)).contacts(district)
    return json_response({"items": [present(contact) for contact in found]})


@_answers
async def save_contact(request: web.Request) -> web.Response:
    params_of(request)
    district, role = request.match_info["district"], _role(request.match_info["role"])
    data = await body(request, ContactIn)
    keeper = DistrictContacts(request.app[STORE], principal_of(request))
    saved = await keeper.save(district, role, data, now=request.app[CLOCK].wall())
    return json_response(present(saved))


def _role(text: str) -> ContactRole:
    try:
        return ContactRole(text)
    except ValueError:
        roles = ", ".join(r.value for r in ContactRole)
        raise ApiError(
            404, "not_found", f"联系人类别不存在 / no contact role {text[:40]!r}: the roles are {roles}"
        ) from None
