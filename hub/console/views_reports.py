"""The monthly report (按月汇总报市建委) and the district bureaus' contacts it carries.

A district bureau reports its own district; the city station the whole city, or one district's
report (``?district=``). The month is a calendar month in Beijing time (``?month=YYYY-MM``, else
this month by the hub's clock). One :class:`~hub.console.monthly_report.MonthlyReport` is built
per request and served as the printable page, as PDF (:mod:`hub.console.pdf`, the same HTML) or as
xlsx. The contacts page keeps the annex (分管领导, 部门领导, 日常联系人): a bureau its own lines,
the city any district's, through :class:`hub.workflows.contacts.DistrictContacts`.
"""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from pydantic import ValidationError

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, REGISTRY, STORE
from hub.api.params import params_of
from hub.auth.principal import Principal, Role
from hub.console import monthly_report
from hub.console.form_errors import Entered, invalid
from hub.console.i18n import N_
from hub.console.pdf import render_pdf
from hub.console.render import AUTHORITIES, checked_form, gettext_of, locale_of, page, principal, render
from hub.console.site_exports import XLSX
from hub.console.views_projects import month_of
from hub.derive.days import local_today
from hub.refusals import Refusal
from hub.workflows.contacts import ContactIn, ContactRole, DistrictContacts
from hub.workflows.summary import Summaries

_STATIC = Path(__file__).parent / "static"
NOT_FOR_YOU = N_("Monthly reports and the bureaus' contacts are for the city station and the bureaus.")
NO_DISTRICT = N_("No such district.")
CONTACT_FIELDS = {"name": "name", "title": "title", "phone": "phone"}


@cache
def _report_css() -> str:
    return (_STATIC / "report.css").read_text(encoding="utf-8")


def _authority(request: web.Request) -> Principal:
    who = principal(request)
    if who.role not in AUTHORITIES:
        raise ApiError(403, "forbidden", NOT_FOR_YOU)
    return who


async def _district_names(request: web.Request, who: Principal) -> dict[str, str]:
    """The districts the account reports on, code -> name, by code."""
    found = await request.app[REGISTRY].acting_for(who).districts()
    return {d.code: d.name for d in found if who.role is Role.CITY or d.code == who.district}


def _asked_district(request: web.Request, who: Principal, names: dict[str, str]) -> str | None:
    """A bureau's own district whatever it asks; the city's choice (None: the whole city)."""
    if who.role is Role.DISTRICT:
        return who.district
    asked = params_of(request).text("district")
    if asked is not None and asked not in names:
        raise ApiError(404, "not_found", NO_DISTRICT)
    return asked


async def _report(request: web.Request) -> tuple[monthly_report.MonthlyReport, dict[str, Any]]:
    who = _authority(request)
    _ = gettext_of(request)
    today = local_today(request.app[CLOCK])
    month = month_of(params_of(request), today)
    names = await _district_names(request, who)
    district = _asked_district(request, who, names)
    summaries = Summaries(request.app[STORE], who)
    districts = await summaries.districts_month(month, today=today, district=district)
    projects = await summaries.projects_month(month, today=today, district=district)
    contacts = await DistrictContacts(request.app[STORE], who).contacts(district)
    shown = {code: name for code, name in names.items() if district is None or code == district}
    if who.role is Role.DISTRICT:
        unit = _("%(district)s housing and construction bureau", district=names.get(who.district or "", ""))
    else:
        unit = _("City construction supervision station")
    report = monthly_report.MonthlyReport(
        unit=unit,
        month=month,
        last_day=monthly_report.last_day_of(month),
        issued_on=today,
        districts=districts,
        projects=projects,
        contacts=monthly_report.contact_tables(shown, contacts),
    )
    query = {"month": report.period} | ({"district": district} if district and who.role is Role.CITY else {})
    context = {
        "report": report,
        "title": _("Monthly report on real-name management at construction sites"),
        "district": district,
        "choices": names if who.role is Role.CITY else {},
        "query": urlencode(query),
        "filename": f"report_{district or 'city'}_{report.period}",
    }
    return report, context


@page
async def report_page(request: web.Request) -> web.Response:
    _, context = await _report(request)
    return render(request, "report.html", **context)


@page
async def report_pdf(request: web.Request) -> web.Response:
    _, context = await _report(request)
    html = render(request, "report_pdf.html", css=_report_css(), **context).text
    assert html is not None
    pdf = await asyncio.get_running_loop().run_in_executor(None, render_pdf, html)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{context["filename"]}.pdf"'},
    )


@page
async def report_xlsx(request: web.Request) -> web.Response:
    report, context = await _report(request)
    book = monthly_report.workbook(report, context["title"], locale_of(request))
    return web.Response(
        body=book,
        content_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{context["filename"]}.xlsx"'},
    )


async def _contacts_page(
    request: web.Request, entered: dict[str, Entered] | None = None, *, status: int = 200
) -> web.Response:
    who = _authority(request)
    names = await _district_names(request, who)
    district = _asked_district(request, who, names)
    shown = {code: name for code, name in names.items() if district is None or code == district}
    contacts = await DistrictContacts(request.app[STORE], who).contacts(district)
    return render(
        request,
        "contacts.html",
        status=status,
        tables=monthly_report.contact_tables(shown, contacts),
        district=district,
        choices=names if who.role is Role.CITY else {},
        entered=entered or {},
        blank=Entered(),
    )


@page
async def contacts_page(request: web.Request) -> web.Response:
    return await _contacts_page(request)


@page
async def save_contact(request: web.Request) -> web.Response:
    who = _authority(request)
    form = await checked_form(request)
    district, role_code = form.get("district", ""), form.get("role", "")
    if role_code not in set(ContactRole):
        raise ApiError(400, "invalid", N_("No such line of the contacts table."))
    role = ContactRole(role_code)
    entered = Entered(values={k: form.get(k, "") for k in CONTACT_FIELDS})
    try:
        data = ContactIn(**{k: form.get(k, "").strip() for k in CONTACT_FIELDS})
    except ValidationError as err:
        invalid(request, entered, err, CONTACT_FIELDS)
    else:
        now = request.app[CLOCK].wall()
        try:
            await DistrictContacts(request.app[STORE], who).save(district, role, data, now=now)
        except Refusal as err:
            entered.errors["form"] = gettext_of(request)(str(err))
        else:
            back = f"?{urlencode({'district': district})}" if who.role is Role.CITY else ""
            raise web.HTTPSeeOther(f"/console/contacts{back}#contacts-{district}")
    return await _contacts_page(request, {f"{district}/{role.value}": entered}, status=422)
