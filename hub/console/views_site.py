"""A project's people and passages by name: 在场人员 (who is on site now), the access log and daily
attendance, with their filters, pages both ways, and CSV and Excel downloads of exactly the rows a
filter shows. Every read is :class:`hub.oversight.site_log.SiteLog`'s, under the account's scope:
a supervision department reads its whole project, a subcontractor's its own people.

The search field takes a name or an ID number. An ID number must not travel in a URL (server logs,
proxies, history), so the filter form is POSTed (with its CSRF token) and answered with a redirect
to the page's own URL carrying the number's keyed blind index (``person_key``) instead, as the
registry's lookup finds a person; a name rides as ``name``. Every other filter is a plain query
parameter, so a filtered page, its pages and its downloads are links.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from aiohttp import web

from hub.api.keys import CLOCK, STORE
from hub.api.oversight import stream_csv
from hub.api.params import Params, form_params_of
from hub.api.workflows import VAULT
from hub.console import site_exports
from hub.console.i18n import N_
from hub.console.render import checked_form, gettext_of, locale_of, page, principal, render
from hub.console.sanction_badges import sanctions_shown
from hub.console.views_projects import month_of, project_in_url
from hub.derive.days import local_today
from hub.errors import InvalidQuery
from hub.oversight.export import MAX_SPAN
from hub.oversight.site_log import SiteLog
from hub.oversight.site_records import AttendanceQuery, Days, LogFilters, PersonFilter
from wire.models import Decision, Direction, Reason
from wire.roles import RosterRole

LOG_PAGE: Final = 50
ATTENDANCE_PAGE: Final = 100
EXPORT_DAYS: Final = MAX_SPAN.days
"""The longest range one download covers (the API's export has the same bound)."""
ID_NUMBER: Final = re.compile(r"^(\d{17}[\dXx]|\d{15})$")
"""What the search field takes for an ID number rather than a name (18 digits or 17 and X; the old 15)."""
PERSON_KEY: Final = re.compile(r"^[0-9a-f]{64}$")
KEPT: Final[dict[str, tuple[str, ...]]] = {
    "on-site": ("enterprise",),
    "access-log": ("from", "to", "direction", "decision", "reason", "enterprise"),
    "attendance": ("from", "to", "enterprise"),
    "monthly": ("month", "enterprise"),
}
"""The filters each page's form sends besides the search field (its route declares them), by the
last part of the page's path."""


@dataclass
class Asked:
    """A page's filters as given: the values, the query they came as (for links), and the
    problems found beside the field they belong to, with what was typed kept in ``query``."""

    days: Days
    who: PersonFilter
    query: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def link(self, **more: str) -> str:
        return urlencode({**self.query, **more})

    @property
    def exportable(self) -> bool:
        return not self.errors and (self.days.last - self.days.first).days < EXPORT_DAYS


def _date(value: str | None) -> date | None:
    """The day typed (YYYY-MM-DD, as a date input sends it), or None; naming a bad one is the caller's."""
    if value is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _asked(request: web.Request, params: Params) -> Asked:
    """The filters in the query: days (from/to, Beijing; today by default), who, enterprise."""
    _ = gettext_of(request)
    errors: dict[str, str] = {}
    today = local_today(request.app[CLOCK])
    found: dict[str, date | None] = {}
    for name in ("from", "to"):
        typed = params.text(name)
        found[name] = _date(typed)
        if typed is not None and found[name] is None:
            errors[name] = _("must be a date YYYY-MM-DD")
    last = found["to"] or max(today, found["from"] or today)
    first = found["from"] or last
    if first > last and not errors:
        errors["to"] = _("must not be before the first day")
    key = params.text("person_key")
    if key is not None and not PERSON_KEY.match(key):
        raise InvalidQuery("person_key", N_("is not a search this console made"))
    who = PersonFilter(name=params.text("name"), id_key=key, enterprise_id=params.text("enterprise"))
    query = {k: v for k, v in request.query.items() if v and k not in ("older", "newer")}
    return Asked(Days(first, last), who, query, errors)


def _site_log(request: web.Request) -> SiteLog:
    return SiteLog(request.app[STORE], principal(request), request.app[VAULT])


async def _site_page(request: web.Request) -> tuple[Any, Params, Asked, SiteLog]:
    """What every site page starts from: the project in its URL, its query, the filters in it, the reads."""
    project = await project_in_url(request)
    params = form_params_of(request)
    return project, params, _asked(request, params), _site_log(request)


@page
async def search(request: web.Request) -> web.StreamResponse:
    """The filter form, POSTed: back to the page with the filters in its URL, an ID number as its
    blind index (the search audited), a name as itself."""
    project = await project_in_url(request)
    form = await checked_form(request)
    which = request.path.rsplit("/", 1)[-1]
    query = {name: form[name].strip() for name in KEPT[which] if form.get(name, "").strip()}
    typed = form.get("who", "").strip()
    if ID_NUMBER.match(typed):
        query["person_key"] = request.app[VAULT].blind_index(typed)
        await _site_log(request).note_id_search(project.id, query["person_key"], at=request.app[CLOCK].wall())
    elif typed:
        query["name"] = typed
    raise web.HTTPSeeOther(request.path + ("?" + urlencode(query) if query else ""))


@page
async def on_site(request: web.Request) -> web.Response:
    project, _, asked, log = await _site_page(request)
    found = await log.on_site(project.id, request.app[CLOCK].wall())
    people = found.narrowed(asked.who)
    return render(
        request,
        "on_site.html",
        project=project,
        on_site=found,
        people=people,
        asked=asked,
        enterprises=await log.enterprises(project.id),
        sanctions=await sanctions_shown(
            request,
            enterprises={p.enterprise_id for p in people},
            persons=[p.person_id for p in people if p.role != RosterRole.WORKER],
        ),
    )


def _log_filters(project_id: str, asked: Asked, params: Params) -> LogFilters:
    return LogFilters(
        project_id=project_id,
        days=asked.days,
        who=asked.who,
        direction=params.choice("direction", Direction),
        decision=params.choice("decision", Decision),
        reason=params.choice("reason", Reason),
    )


@page
async def access_log(request: web.Request) -> web.Response:
    project, params, asked, log = await _site_page(request)
    filters = _log_filters(project.id, asked, params)
    found = None
    if not asked.errors:
        found = await log.access_log(
            filters, older=params.text("older"), newer=params.text("newer"), limit=LOG_PAGE
        )
    return render(
        request,
        "access_log.html",
        project=project,
        asked=asked,
        found=found,
        enterprises=await log.enterprises(project.id),
        directions=[d.value for d in Direction],
        decisions=[d.value for d in Decision],
        reasons=[r.value for r in Reason],
        export_days=EXPORT_DAYS,
    )


@page
async def attendance(request: web.Request) -> web.Response:
    project, params, asked, log = await _site_page(request)
    found = None
    if not asked.errors:
        found = await log.attendance(
            AttendanceQuery(project.id, asked.days, asked.who),
            older=params.text("older"),
            newer=params.text("newer"),
            limit=ATTENDANCE_PAGE,
        )
    return render(
        request,
        "attendance.html",
        project=project,
        asked=asked,
        found=found,
        enterprises=await log.enterprises(project.id),
        export_days=EXPORT_DAYS,
    )


async def _month(request: web.Request) -> tuple[Any, Asked, SiteLog, date]:
    """The monthly page's project, filters (its days: the month's) and month (its first day)."""
    project, params, asked, log = await _site_page(request)
    month = month_of(params, local_today(request.app[CLOCK]))
    following = (month + timedelta(days=32)).replace(day=1)
    return project, dataclasses.replace(asked, days=Days(month, following - timedelta(days=1))), log, month


@page
async def attendance_month(request: web.Request) -> web.Response:
    project, asked, log, month = await _month(request)
    found = await log.monthly(project.id, month, asked.who)
    return render(
        request,
        "attendance_month.html",
        project=project,
        month=month,
        asked=asked,
        people=found,
        enterprises=await log.enterprises(project.id),
        export_days=EXPORT_DAYS,
    )


async def _one_page(entries: list[Any]) -> AsyncGenerator[list[Any], None]:
    yield entries


@page
async def attendance_month_export(request: web.Request) -> web.StreamResponse:
    project, asked, log, month = await _month(request)
    locale, whole = locale_of(request), principal(request).sees_full_id_numbers
    return await _download(
        request,
        gettext_of(request)("Monthly attendance"),
        site_exports.header(site_exports.MONTH_HEADER, locale),
        _one_page(await log.monthly(project.id, month, asked.who)),
        lambda entry: site_exports.month_row(entry, whole_ids=whole),
        f"attendance-month_{project.id}_{month:%Y-%m}",
    )


def _export_asked(request: web.Request, params: Params) -> Asked:
    asked = _asked(request, params)
    if asked.errors:
        field_name, problem = next(iter(asked.errors.items()))
        raise InvalidQuery(field_name, problem)
    if not asked.exportable:
        _ = gettext_of(request)
        raise InvalidQuery("to", _("one download covers at most %(days)s days", days=EXPORT_DAYS))
    return asked


async def _download(
    request: web.Request,
    title: str,
    head: site_exports.Row,
    pages: AsyncGenerator[list[Any], None],
    row: Callable[[Any], site_exports.Row],
    filename: str,
) -> web.StreamResponse:
    """CSV streamed page by page; xlsx written page by page off the event loop, then sent."""
    if request.path.endswith(".csv"):
        return await stream_csv(request, site_exports.csv_pages(head, pages, row), filename + ".csv")
    sheet = site_exports.Sheet(title, head)
    try:
        async for entries in pages:
            await asyncio.to_thread(sheet.append, [row(entry) for entry in entries])
    finally:
        await pages.aclose()
    return web.Response(
        body=await asyncio.to_thread(sheet.bytes),
        content_type=site_exports.XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}.xlsx"',
            "Cache-Control": "no-store",
        },
    )


@page
async def access_log_export(request: web.Request) -> web.StreamResponse:
    project = await project_in_url(request)
    params = form_params_of(request)
    asked = _export_asked(request, params)
    filters = _log_filters(project.id, asked, params)
    locale, whole = locale_of(request), principal(request).sees_full_id_numbers
    return await _download(
        request,
        gettext_of(request)("Access log"),
        site_exports.header(site_exports.LOG_HEADER, locale),
        _site_log(request).access_log_pages(filters),
        lambda entry: site_exports.log_row(entry, locale, whole_ids=whole),
        f"access-log_{project.id}_{asked.days.first}_{asked.days.last}",
    )


@page
async def attendance_export(request: web.Request) -> web.StreamResponse:
    project = await project_in_url(request)
    asked = _export_asked(request, form_params_of(request))
    locale, whole = locale_of(request), principal(request).sees_full_id_numbers
    return await _download(
        request,
        gettext_of(request)("Daily attendance"),
        site_exports.header(site_exports.ATTENDANCE_HEADER, locale),
        _site_log(request).attendance_pages(AttendanceQuery(project.id, asked.days, asked.who)),
        lambda entry: site_exports.attendance_row(entry, locale, whole_ids=whole),
        f"attendance_{project.id}_{asked.days.first}_{asked.days.last}",
    )
