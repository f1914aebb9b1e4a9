"""A project's pages, for its GC and supervision departments (and everyone above who sees it):
headcount by enterprise and role, managers on duty, entries per hour, and the completion date (竣工)
with until when the records are kept (set by the authorities: :mod:`hub.console.views_completion`;
the people on site, the access log and attendance by name are :mod:`hub.console.views_site`'s).
Every number comes from the oversight API's own scoped reads (hub.oversight.oversight.Oversight),
never from a filter in a template."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from aiohttp import web

from hub.api.keys import CLOCK, CONFIG, REGISTRY, STORE
from hub.api.params import Params, params_of
from hub.api.workflows import VAULT, alert_settings
from hub.auth.permissions import READ_COMPLETION, WRITE_COMPLETION
from hub.console import charts, times
from hub.console.form_errors import Entered
from hub.console.i18n import N_
from hub.console.render import gettext_of, locale_of, page, principal, render
from hub.console.sanction_badges import sanctions_shown
from hub.derive.days import local_day
from hub.errors import InvalidQuery, NotFound
from hub.oversight.oversight import Oversight
from hub.retention.completion import Completion, CompletionDesk
from hub.workflows import national
from hub.workflows.alerts import Alerts

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def _day(params: Params, today: date, name: str = N_("date")) -> date:
    """The day asked for, else ``today`` (the site's, by the app's clock)."""
    value = params.text(name)
    if value is None:
        return today
    if not _DAY.match(value):
        raise InvalidQuery(name, N_("must be a date YYYY-MM-DD"))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidQuery(name, N_("must be a date YYYY-MM-DD")) from None


def month_of(params: Params, today: date) -> date:
    """The month asked for (its first day), else ``today``'s (the site's, by the app's clock)."""
    value = params.text("month")
    if value is None:
        return today.replace(day=1)
    try:
        if not _MONTH.match(value):
            raise ValueError(value)
        return date.fromisoformat(value + "-01")
    except ValueError:
        raise InvalidQuery(N_("month"), N_("must be a month YYYY-MM")) from None


async def project_in_url(request: web.Request) -> Any:
    """The project in the URL, if the account sees it; 404 exactly as for one that does not exist."""
    project_id = request.match_info["project_id"]
    who = principal(request)
    if not await Oversight(request.app[STORE], who).project_visible(project_id):
        _ = gettext_of(request)
        raise NotFound(_("Project %(id)s not found.", id=project_id))
    return await request.app[REGISTRY].acting_for(who).project(project_id)


@page
async def project_list(request: web.Request) -> web.Response:
    who = principal(request)
    params_of(request)
    found = await request.app[REGISTRY].acting_for(who).projects()
    shown = await sanctions_shown(request, projects=[p.id for p in found])
    return render(request, "projects.html", projects=found, sanctions=shown)


@page
async def project_page(request: web.Request) -> web.Response:
    project = await project_in_url(request)
    return await show_project(
        request, project, _day(params_of(request), local_day(request.app[CLOCK].wall()))
    )


async def _completion(request: web.Request, project_id: str) -> Completion | None:
    """The completion date and until when the records are kept, for the roles that read it."""
    who = principal(request)
    if who.role not in READ_COMPLETION:
        return None
    years = request.app[CONFIG].retention.years
    return await CompletionDesk(request.app[STORE], who, years=years).get(project_id)


async def show_project(
    request: web.Request,
    project: Any,
    day: date,
    *,
    completion_form: Entered | None = None,
    status: int = 200,
) -> web.Response:
    """The project's page for ``day``; ``completion_form`` the completion form sent back with its
    complaints (hub.console.views_completion)."""
    who = principal(request)
    now = request.app[CLOCK].wall()
    oversight = Oversight(request.app[STORE], who)
    headcount = await oversight.headcount(project.id, now)
    managers = await oversight.managers_on_duty(project.id, day)
    per_hour = await oversight.entries_per_hour(project.id, day)
    found = await Alerts(request.app[STORE], who, alert_settings(request)).alerts(
        now=now, project_id=project.id
    )
    _ = gettext_of(request)
    title = _("Entries per hour, %(day)s", day=times.local(day, locale_of(request), "date"))
    chart = charts.bars(title, [f"{h:02d}" for h in range(24)], per_hour)
    return render(
        request,
        "project.html",
        status=status,
        project=project,
        completion=await _completion(request, project.id),
        completion_form=completion_form or Entered(),
        may_complete=who.role in WRITE_COMPLETION,
        day=day,
        headcount=headcount,
        managers=managers,
        chart=chart,
        entries=sum(per_hour),
        alerts=found,
        may_upload=who.role in national.UPLOADERS,
        sanctions=await sanctions_shown(
            request,
            projects=[project.id],
            enterprises={m.enterprise_id for m in managers},
            persons=[m.person_id for m in managers],
        ),
    )


@page
async def worker_attendance(request: web.Request) -> web.Response:
    """The national platform's upload for one day, as a JSON download (the roles that may)."""
    project = await project_in_url(request)
    who = principal(request)
    now = request.app[CLOCK].wall()
    day = _day(params_of(request), local_day(now))
    uploads = national.NationalUpload(request.app[STORE], who, request.app[VAULT])
    upload, more = await uploads.export(project.id, day, day, now=now, limit=national.DOWNLOAD_ROWS)
    return web.json_response(
        national.as_download(upload, more, project.id),
        headers={
            "Content-Disposition": f'attachment; filename="WorkerAttendance_{project.id}_{day}.json"',
            "Cache-Control": "no-store",
            "X-SiteGate-Truncated": "true" if more else "false",
        },
    )
