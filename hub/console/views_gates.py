"""A project's gates and their lanes (issue 14): each gate with its lane's provisioning state
(token issued, enrolled, online, roster applied, revoked); adding a gate, renaming or moving it,
removing it (which revokes its lane: a confirmation first), and an enrolment token for it, shown
once with the exact ``setup-lane.sh`` command line and its QR code.

Who: the GC project department and the hub operator change gates (the registry's PLACE_GATE, which
it checks again); only the GC project department issues tokens (as over the API); supervision and
everyone else who sees the project read the page without its forms. Every write goes through the
same domain objects as the API (the registry, :class:`hub.devices.enrolment.Enrolments`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from aiohttp import web
from yarl import URL

from hub.api.enrolment import DESK, revoke_removed_lane
from hub.api.error_responses import ApiError
from hub.api.keys import REGISTRY, STORE
from hub.api.limits import from_trusted_proxy
from hub.api.params import params_of
from hub.auth.permissions import ENROLMENT_TOKEN_ROLES, PLACE_GATE, READERS
from hub.console import gate_form, lane_setup
from hub.console.i18n import N_
from hub.console.lane_states import provisioning_for
from hub.console.render import checked_form, gettext_of, locale_of, page, principal, render
from hub.devices.enrolment import Enrolments
from hub.devices.provisioning_state import LaneProvisioning
from hub.registry import Registry
from hub.registry.models import GateDirection, GateKind
from hub.registry.records import GateRecord
from provisioning.enrolment import DEFAULT_TOKEN_LIFETIME, EnrolmentRefused, IssuedToken

TOKEN_LIFETIME: Final = DEFAULT_TOKEN_LIFETIME
_HOST: Final = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")
"""A host (name, IPv4 or bracketed IPv6) and port, as X-Forwarded-Host may carry; nothing else."""


def hub_url(request: web.Request) -> str:
    """This hub's address for the Pi: the one the site manager's browser reached, so the Pi is
    told the address people already use. Behind a trusted proxy (``[http] trusted_proxies``) that
    terminates TLS, the scheme and host it says it received (X-Forwarded-Proto, X-Forwarded-Host):
    the hub itself is spoken to in plain HTTP there, and ``sitegate provision`` refuses plain HTTP
    to anything but a loopback hub."""
    origin = request.url.origin()
    if not from_trusted_proxy(request):
        return str(origin)
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    host = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
    scheme = proto if proto in ("http", "https") else origin.scheme
    authority = host if _HOST.fullmatch(host) else request.host
    return str(URL.build(scheme=scheme, authority=authority))


def _path(project_id: str) -> str:
    return f"/console/projects/{project_id}/gates"


def _registry(request: web.Request) -> Registry:
    registry: Registry = request.app[REGISTRY].acting_for(principal(request))
    return registry


async def _lanes(
    request: web.Request, gates: Sequence[GateRecord]
) -> list[tuple[GateRecord, LaneProvisioning]]:
    states = await provisioning_for(request, [g.device_id for g in gates])
    return [(gate, states[gate.device_id]) for gate in gates]


async def _show(
    request: web.Request,
    *,
    status: int = 200,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    editing: str | None = None,
    issued: IssuedToken | None = None,
    notice: str | None = None,
) -> web.Response:
    """The page; ``values``/``errors`` are a refused form's (the add form's, or ``editing``'s)."""
    who = principal(request)
    project_id = request.match_info["project_id"]
    registry = _registry(request)
    project: Any = await registry.project(project_id) if who.role in READERS else None
    gates = await registry.gates(project_id)
    asked = params_of(request)
    editing = editing or asked.text("edit")
    removing = asked.text("remove")
    token = None
    if issued is not None:
        _ = gettext_of(request)
        command = lane_setup.setup_command(hub_url(request), issued.token)
        qr = lane_setup.qr_svg(command, title=_("QR code of the setup command"))
        gate, expires_at = issued.record.gate, issued.record.expires_at
        token = {"device_id": gate.device_id, "expires_at": expires_at, "command": command, "qr": qr}
    return render(
        request,
        "gates.html",
        status=status,
        project_id=project_id,
        project=project,
        lanes=await _lanes(request, gates),
        values=values or {},
        errors=errors or {},
        editing=editing,
        removing=removing if any(g.device_id == removing for g in gates) else None,
        token=token,
        notice=notice,
        kinds=[k.value for k in GateKind],
        directions=[d.value for d in GateDirection],
        may_place=who.role in PLACE_GATE,
        may_token=who.role in ENROLMENT_TOKEN_ROLES and request.app.get(DESK) is not None,
    )


@page
async def gates_page(request: web.Request) -> web.Response:
    return await _show(request)


@page
async def add_gate(request: web.Request) -> web.Response:
    """A new gate, its device id minted (never typed); a refusal shown beside its field."""
    form = await checked_form(request)
    project_id = request.match_info["project_id"]
    kind = GateKind.OFFICE_READER if form.get("kind") == GateKind.OFFICE_READER else GateKind.LANE
    device_id = gate_form.mint_device_id(project_id, kind)
    outcome = gate_form.read(form, device_id, locale_of(request), gettext_of(request))
    if outcome.gate is None:
        return await _show(request, status=422, values=gate_form.values_of(form), errors=outcome.errors)
    await _registry(request).place_gate(project_id, outcome.gate)
    raise web.HTTPSeeOther(f"{_path(project_id)}#gate-{device_id}")


async def _gate(request: web.Request) -> GateRecord:
    """The gate in the URL, among the project's gates the account sees."""
    project_id, device_id = request.match_info["project_id"], request.match_info["device_id"]
    for gate in await _registry(request).gates(project_id):
        if gate.device_id == device_id:
            return gate
    raise ApiError(404, "not_found", N_("No such gate at this project."))


@page
async def change_gate(request: web.Request) -> web.Response:
    """Rename a gate, or move its lane (another lane label or direction): the same device, placed
    again. Its kind stays what it is."""
    form = await checked_form(request)
    gate = await _gate(request)
    fields = {**form, "kind": gate.kind}
    outcome = gate_form.read(fields, gate.device_id, locale_of(request), gettext_of(request))
    if outcome.gate is None:
        values = gate_form.values_of(fields)
        return await _show(request, status=422, values=values, errors=outcome.errors, editing=gate.device_id)
    await _registry(request).place_gate(gate.project_id, outcome.gate)
    raise web.HTTPSeeOther(f"{_path(gate.project_id)}#gate-{gate.device_id}")


@page
async def remove_gate(request: web.Request) -> web.Response:
    """The confirmed removal (the page's ``?remove=`` step asks first): the gate gone, its lane
    revoked (the hub's mark in the same transaction; then the CA's ledger and the broker)."""
    form = await checked_form(request)
    gate = await _gate(request)
    if form.get("confirmed") != "yes":
        raise web.HTTPSeeOther(f"{_path(gate.project_id)}?remove={gate.device_id}")
    await _registry(request).remove_gate(gate.project_id, gate.device_id)
    untold = await revoke_removed_lane(request, gate.device_id)
    if untold is not None:
        _ = gettext_of(request)
        notice = _(
            "Gate %(name)s removed and its lane revoked: the hub refuses it, but the message broker "
            "could not be told. Tell the hub's operator.",
            name=gate.name,
        )
        return await _show(request, status=503, notice=notice)
    raise web.HTTPSeeOther(_path(gate.project_id))


@page
async def issue_token(request: web.Request) -> web.Response:
    """A one-time enrolment token for the gate, shown once (the hub keeps its digest only) with
    the command line that uses it."""
    await checked_form(request)
    gate = await _gate(request)
    desk = request.app.get(DESK)
    if desk is None:
        raise ApiError(503, "enrolment_unavailable", N_("This hub has no certificate authority set up."))
    now: datetime = desk.clock()
    enrolments = Enrolments(request.app[STORE], principal(request))
    try:
        issued = await enrolments.issue_token(
            desk.registrar, gate.device_id, lifetime=TOKEN_LIFETIME, now=now
        )
    except EnrolmentRefused as err:
        raise ApiError(err.status, err.code, err.message) from None
    return await _show(request, issued=issued)
