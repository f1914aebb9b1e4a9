"""A project's completion date (竣工) set, corrected or cleared on its page, by the city station or
the bureau of its district (as ``PUT /api/v1/projects/{id}/completion``: the same desk, role and
district checked again there, audited). From that day the project's records are kept the
``[retention] years`` (hub.retention); the page shows until when.

One form, two buttons: save the date typed, or clear it, which asks for a ticked confirmation (a
cleared date means the records are kept indefinitely again). A refusal comes back on the project's
page with the complaint beside the field and what was typed kept (422).
"""

from __future__ import annotations

from datetime import date
from typing import Final

from aiohttp import web
from pydantic import ValidationError

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, CONFIG, STORE
from hub.auth.permissions import WRITE_COMPLETION
from hub.console.form_errors import Entered
from hub.console.i18n import N_
from hub.console.render import checked_form, gettext_of, locale_of, page, principal
from hub.console.times import local
from hub.console.views_projects import project_in_url, show_project
from hub.derive.days import local_day
from hub.retention.completion import CompletionDesk, CompletionIn, CompletionInFuture

FIELD: Final = "completed_on"
CONFIRM: Final = "confirmed"


def _path(project_id: str) -> str:
    return f"/console/projects/{project_id}#completion"


def _asked(form: dict[str, str], entered: Entered) -> tuple[bool, date | None]:
    """(whether the form is acceptable, the date to store: None clears); complaints in ``entered``."""
    if form.get("action") == "clear":
        if form.get(CONFIRM) != "yes":
            entered.errors[CONFIRM] = N_("Tick the box to confirm that the completion date is withdrawn.")
            return False, None
        return True, None
    typed = form.get(FIELD, "").strip()
    if not typed:
        entered.errors[FIELD] = N_("Enter the completion date, or clear it with the button below.")
        return False, None
    try:
        return True, CompletionIn.model_validate({FIELD: typed}).completed_on
    except ValidationError:
        entered.errors[FIELD] = N_("Enter a date as YYYY-MM-DD.")
        return False, None


@page
async def save_completion(request: web.Request) -> web.Response:
    """The date stored (then back to the project's page), or the page again with the complaint."""
    form = await checked_form(request)
    project = await project_in_url(request)
    who = principal(request)
    if who.role not in WRITE_COMPLETION:
        raise ApiError(403, "forbidden", N_("Your account may not set a project's completion date."))
    _ = gettext_of(request)
    entered = Entered(values={FIELD: form.get(FIELD, "")})
    acceptable, completed_on = _asked(form, entered)
    entered.errors = {name: _(message) for name, message in entered.errors.items()}
    now = request.app[CLOCK].wall()
    if acceptable:
        desk = CompletionDesk(request.app[STORE], who, years=request.app[CONFIG].retention.years)
        try:
            await desk.put(project.id, completed_on, now=now)
        except CompletionInFuture:
            today = local(local_day(now), locale_of(request), "date")
            entered.errors[FIELD] = _("The completion date cannot be after today (%(today)s).", today=today)
        else:
            raise web.HTTPSeeOther(_path(project.id))
    return await show_project(request, project, local_day(now), completion_form=entered, status=422)
