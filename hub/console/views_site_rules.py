"""A project's site rules (规则 / 作业时间) in the console: working hours per role, the
anti-passback mode, when an unexited entry stops counting, the card UID alone, night-work permits
(夜间施工); who changed them last, and which lanes already run the roster version that carries them.

The GC project department and the hub's operator change them (each form a whole write through the
registry, as ``PUT /api/v1/projects/{id}/site-rules`` is, so the lanes get them signed with the next
roster version); supervision and the authorities read them. A refused form comes back with each
complaint beside its field and everything typed still in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from hub.api.keys import REGISTRY, STORE
from hub.auth.permissions import READERS, WRITE_SITE_RULES
from hub.console import site_rules_form as forms
from hub.console.i18n import Locale
from hub.console.render import checked_form, locale_of, page, principal, render
from hub.devices.roster_delivery import RosterDelivery
from hub.registry import Registry
from hub.site_rules.model import SiteRules, SiteRulesIn

FormReader = Callable[[Mapping[str, str], SiteRulesIn, Locale], forms.Outcome]
ANTI_PASSBACK = ("hard", "soft", "off")
"""The modes in the form's order (labels: hub.console.labels.ANTI_PASSBACK)."""


def _path(project_id: str) -> str:
    return f"/console/projects/{project_id}/site-rules"


def _registry(request: web.Request) -> Registry:
    registry: Registry = request.app[REGISTRY].acting_for(principal(request))
    return registry


async def _show(
    request: web.Request,
    rules: SiteRules,
    *,
    values: Mapping[str, str] | None = None,
    night: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The page: the stored rules, or a refused form's own values and complaints."""
    who = principal(request)
    project_id = rules.project_id
    project: Any = await _registry(request).project(project_id) if who.role in READERS else None
    delivery = await RosterDelivery(request.app[STORE], who).of_project(project_id)
    return render(
        request,
        "site_rules.html",
        status=status,
        project_id=project_id,
        project=project,
        rules=rules,
        values=values if values is not None else forms.values_of(rules.rules),
        night=night or {},
        errors=errors or {},
        roles=[role.value for role in forms.ROLES],
        modes=ANTI_PASSBACK,
        may_edit=who.role in WRITE_SITE_RULES,
        delivery=delivery,
    )


@page
async def site_rules(request: web.Request) -> web.Response:
    rules = await _registry(request).site_rules(request.match_info["project_id"])
    return await _show(request, rules)


async def _change(request: web.Request, read: FormReader, *, general: bool) -> web.Response:
    """One form over the stored rules: written whole (then back to the page, so a reload does not
    post again), or the page once more with the form as typed and its complaints (422)."""
    form = await checked_form(request)
    registry = _registry(request)
    current = await registry.site_rules(request.match_info["project_id"])
    outcome = read(form, current.rules, locale_of(request))
    if outcome.rules is None:
        typed = {"values": form} if general else {"night": form}
        return await _show(request, current, errors=outcome.errors, status=422, **typed)
    await registry.set_site_rules(current.project_id, outcome.rules)
    raise web.HTTPSeeOther(_path(current.project_id))


@page
async def save_site_rules(request: web.Request) -> web.Response:
    """The general form: hours per role, anti-passback, when inside expires, the UID alone."""
    return await _change(request, forms.general, general=True)


@page
async def add_night_work(request: web.Request) -> web.Response:
    return await _change(request, forms.add_night_work, general=False)


@page
async def remove_night_work(request: web.Request) -> web.Response:
    return await _change(request, forms.remove_night_work, general=False)
