"""通报 in the console: the list (the issuer's, and each party's: a project's departments, an
enterprise), the new 通报 form (recipients picked by name or number, an optional sanction), the
document as a printable page and as PDF (:mod:`hub.console.pdf`, the same HTML with its
stylesheet inlined). Reads and writes go through :class:`hub.workflows.bulletins.Bulletins`, so an
account opens only the 通报 it may read (404 otherwise, as for an order)."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import ValidationError

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, REGISTRY, STORE
from hub.console import oversight_targets as targets
from hub.console.bulletin_form import BULLETIN_FIELDS, BULLETIN_MODEL_FIELDS, BULLETIN_REFUSALS, bulletin_data
from hub.console.form_errors import Entered, invalid, refused
from hub.console.i18n import N_
from hub.console.labels import label
from hub.console.oversight_forms import Picking, blank
from hub.console.pdf import render_pdf
from hub.console.pickers import Picked, Widget, resolve_field, widget
from hub.console.render import checked_form, gettext_of, locale_of, page, principal, render
from hub.console.views_oversight import order_targets
from hub.refusals import Refusal
from hub.workflows.bulletins import ISSUERS, BulletinIn, BulletinKind, Bulletins
from hub.workflows.sanctions import Sanctions

STYLESHEET = Path(__file__).parent / "static" / "bulletin.css"


@functools.cache
def _css() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


def _bulletin_id(request: web.Request) -> int:
    text = request.match_info["bulletin_id"]
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**63:
        raise ApiError(404, "not_found", N_("No such bulletin."))
    return int(text)


async def _document(request: web.Request) -> dict[str, Any]:
    who = principal(request)
    store = request.app[STORE]
    bulletin = await Bulletins(store, who).get(_bulletin_id(request))
    if bulletin is None:
        raise ApiError(404, "not_found", N_("No such bulletin."))
    names = {(p.kind, p.id): p.name for p in bulletin.parties}
    announced = [
        {
            "subject_name": names.get((s.subject_kind, s.subject_id), s.subject_id),
            "starts_on": s.starts_on,
            "ends_on": s.ends_on,
            "reason": s.reason,
        }
        for s in await Sanctions(store, who).of_bulletin(bulletin.id)
    ]
    return {"bulletin": bulletin, "sanctions": announced}


@page
async def bulletin_page(request: web.Request) -> web.Response:
    return render(request, "bulletin.html", **await _document(request))


@page
async def bulletin_pdf(request: web.Request) -> web.Response:
    context = await _document(request)
    html = render(request, "bulletin_pdf.html", css=_css(), **context).text
    assert html is not None
    pdf = await asyncio.get_running_loop().run_in_executor(None, render_pdf, html)
    filename = quote(f"{context['bulletin'].number}.pdf")
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{filename}",
            "Cache-Control": "no-store",
        },
    )


async def _list_page(request: web.Request, picking: Picking | None = None) -> web.Response:
    who = principal(request)
    found = await Bulletins(request.app[STORE], who).listing()
    may_issue = who.role in ISSUERS
    if may_issue and picking is None:
        projects, enterprises = await order_targets(request)
        picking = blank(BULLETIN_FIELDS, {"kind": BulletinKind.CRITICISM.value})
        picking.widgets = {
            "project": widget("project", projects),
            "enterprise": widget("enterprise", enterprises),
            "leader": Widget("leader", None),
        }
    return render(
        request,
        "bulletins.html",
        status=422 if picking is not None and not picking.ok else 200,
        bulletins=found,
        may_issue=may_issue,
        form=picking,
        kinds=[k.value for k in BulletinKind],
    )


@page
async def bulletin_list(request: web.Request) -> web.Response:
    return await _list_page(request)


@page
async def issue_bulletin(request: web.Request) -> web.StreamResponse:
    form = await checked_form(request)
    who = principal(request)
    projects, enterprises = await order_targets(request)
    project = resolve_field(form, "project", projects)
    leaders_of = {}
    if isinstance(project, Picked):
        registry = request.app[REGISTRY].acting_for(who)
        key = project.candidate.key
        position = functools.partial(label, locale_of(request), "position")
        leaders_of[key] = await targets.leaders(registry, key, position)
    data, picking = bulletin_data(form, projects, enterprises, leaders_of, gettext_of(request))
    try:
        bulletin_in = BulletinIn.model_validate(data)
    except ValidationError as err:
        found = Entered()
        invalid(request, found, err, BULLETIN_MODEL_FIELDS)
        for name, message in found.errors.items():
            picking.entered.errors.setdefault(name, message)
    if picking.ok:
        now = request.app[CLOCK].wall()
        try:
            bulletin = await Bulletins(request.app[STORE], who).issue(bulletin_in, now=now)
        except Refusal as err:
            refused(request, picking.entered, err, BULLETIN_MODEL_FIELDS, BULLETIN_REFUSALS)
        else:
            raise web.HTTPSeeOther(f"/console/bulletins/{bulletin.id}")
    return await _list_page(request, picking)
