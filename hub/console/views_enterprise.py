"""An enterprise account's oversight of its project departments (the notice: 检查、督促本企业项目部):
one row per project it is a party to, each linking to the project's own pages, which the account
may open read-only (:func:`hub.auth.scope.project_clause` admits an enterprise's projects). The
figures are :mod:`hub.oversight.enterprise_view`'s, one grouped read each, never one per row."""

from __future__ import annotations

from aiohttp import web

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, STORE
from hub.api.params import params_of
from hub.api.workflows import alert_settings
from hub.auth.principal import Role
from hub.console.i18n import N_
from hub.console.render import page, principal, render
from hub.console.sanction_badges import sanctions_shown
from hub.oversight.enterprise_view import EnterpriseOversight

PATH = "/console/departments"


@page
async def departments(request: web.Request) -> web.Response:
    who = principal(request)
    params_of(request)
    if who.role is not Role.ENTERPRISE:
        raise ApiError(403, "forbidden", N_("The project departments' overview is an enterprise account's."))
    reads = EnterpriseOversight(
        request.app[STORE], who, gate_offline_after=alert_settings(request).gate_offline_after
    )
    view = await reads.departments(request.app[CLOCK].wall())
    sanctions = await sanctions_shown(
        request,
        projects=[d.project_id for d in view.departments],
        enterprises=[who.enterprise_id] if who.enterprise_id else [],
    )
    return render(
        request, "departments.html", view=view, sanctions=sanctions, enterprise_id=who.enterprise_id
    )
