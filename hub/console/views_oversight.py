"""The authorities' pages and the workflows' forms: registration statistics, projects with a
permit but no real-name registration, rectification orders, credit deductions and
monthly summaries (printable, with CSV). Writes go through the same functions as the API
(hub.workflows, the registry), each behind the form's CSRF token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from aiohttp import web
from multidict import MultiDict
from pydantic import BaseModel, ValidationError

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, REGISTRY, STORE
from hub.api.params import form_params_of, params_of
from hub.api.workflows import alert_settings
from hub.console import csv_export
from hub.console import oversight_targets as targets
from hub.console.form_errors import Entered, invalid, refused
from hub.console.i18n import N_
from hub.console.labels import label
from hub.console.oversight_forms import (
    ANSWER_FIELDS,
    DEDUCTION_FIELDS,
    MODEL_FIELDS,
    OLDER_REFUSALS,
    ORDER_FIELDS,
    REVIEW_REFUSALS,
    Picking,
    blank,
    deduction_data,
    order_data,
    review_data,
    texts,
)
from hub.console.pickers import Candidate, Picked, Widget, resolve_field, widget
from hub.console.render import AUTHORITIES, checked_form, gettext_of, locale_of, page, principal, render
from hub.console.sanction_badges import sanctions_shown
from hub.console.views_projects import month_of
from hub.derive.days import local_day, local_today
from hub.oversight.oversight import Oversight
from hub.refusals import Refusal
from hub.workflows import csvfile, deductions, orders
from hub.workflows.alerts import Alerts
from hub.workflows.models import DeductionIn, OrderIn, OrderStatus, ResponseIn, ReviewIn
from hub.workflows.records import DistrictMonth, ProjectMonth
from hub.workflows.summary import Summaries


@page
async def overview(request: web.Request) -> web.Response:
    who = principal(request)
    alerts = Alerts(request.app[STORE], who, alert_settings(request))
    found = await alerts.alerts(now=request.app[CLOCK].wall())
    return render(request, "overview.html", alerts=found)


@page
async def statistics(request: web.Request) -> web.Response:
    who = principal(request)
    if who.role not in AUTHORITIES:
        message = N_("Registration statistics are for the city station and the district bureaus.")
        raise ApiError(403, "forbidden", message)
    figures = await Oversight(request.app[STORE], who).registration(who.district)
    unregistered = await request.app[REGISTRY].acting_for(who).projects(registered=False)
    return render(request, "statistics.html", figures=figures, unregistered=unregistered)


def _status(picking: Picking | None) -> int:
    """A form sent back with problems is a 422 page (the form, its errors beside the fields)."""
    return 422 if picking is not None and not picking.ok else 200


async def order_targets(request: web.Request) -> tuple[list[Candidate], list[Candidate]]:
    """The projects and enterprises this account may address an order, a deduction or a 通报 to."""
    who = principal(request)
    registry = request.app[REGISTRY].acting_for(who)
    projects = await registry.projects()
    return targets.projects_of(projects), await targets.enterprises(registry, who, projects)


async def _orders_page(request: web.Request, picking: Picking | None = None) -> web.Response:
    who = principal(request)
    given = MultiDict((k, v) for k, v in request.query.items() if v)
    params = form_params_of(request)
    filters = orders.OrderFilters(
        status=params.choice("status", OrderStatus), overdue=params.boolean("overdue")
    )
    now = request.app[CLOCK].wall()
    found = await orders.Orders(request.app[STORE], who).listing(filters, now=now, limit=200)
    may_issue = who.role in orders.ISSUERS
    if may_issue and picking is None:
        projects, enterprises = await order_targets(request)
        picking = blank(ORDER_FIELDS)
        picking.widgets = {
            "project": widget("project", projects),
            "enterprise": widget("enterprise", enterprises),
        }
    sanctions = await sanctions_shown(
        request,
        projects=[o.project_id for o in found.items if o.project_id],
        enterprises=[o.enterprise_id for o in found.items if o.enterprise_id],
    )
    return render(
        request,
        "orders.html",
        status=_status(picking),
        sanctions=sanctions,
        orders=found.items,
        may_issue=may_issue,
        form=picking,
        statuses=[s.value for s in OrderStatus],
        query=dict(given),
        today=local_day(now),
    )


@page
async def order_list(request: web.Request) -> web.Response:
    return await _orders_page(request)


def _submitted(request: web.Request, model: type[BaseModel], data: dict[str, str], picking: Picking) -> Any:
    """The form's data as ``model``, or None with each problem beside its field (the model's
    complaint about a missing recipient only when no picker has said what is wrong already)."""
    try:
        valid = model.model_validate(data)
    except ValidationError as err:
        found = Entered()
        invalid(request, found, err, MODEL_FIELDS)
        if not picking.ok:
            found.errors.pop("form", None)
        for name, message in found.errors.items():
            picking.entered.errors.setdefault(name, message)
        return None
    return valid if picking.ok else None


@page
async def issue_order(request: web.Request) -> web.StreamResponse:
    form = await checked_form(request)
    projects, enterprises = await order_targets(request)
    data, picking = order_data(form, projects, enterprises, gettext_of(request))
    order_in = _submitted(request, OrderIn, data, picking)
    if order_in is not None:
        now = request.app[CLOCK].wall()
        try:
            order = await orders.Orders(request.app[STORE], principal(request)).issue(order_in, now=now)
        except Refusal as err:
            refused(request, picking.entered, err, MODEL_FIELDS, OLDER_REFUSALS)
        else:
            raise web.HTTPSeeOther(f"/console/orders/{order.id}")
    return await _orders_page(request, picking)


def _order_id(request: web.Request) -> int:
    text = request.match_info["order_id"]
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**63:
        raise ApiError(404, "not_found", N_("No such order."))
    return int(text)


async def _order_page(request: web.Request, answer: Picking | None = None) -> web.Response:
    who = principal(request)
    now = request.app[CLOCK].wall()
    order = await orders.Orders(request.app[STORE], who).get(_order_id(request), now=now)
    about_order = deductions.DeductionFilters(order_id=order.id)
    found = await deductions.Deductions(request.app[STORE], who).listing(about_order)
    return render(
        request,
        "order.html",
        status=_status(answer),
        order=order,
        deductions=found.items,
        may_respond=who.role in orders.RESPONDERS and order.status == OrderStatus.OPEN.value,
        may_review=who.role in orders.ISSUERS and order.status == OrderStatus.RESPONDED.value,
        may_deduct=who.role in deductions.DEDUCTORS,
        form=answer or blank(ANSWER_FIELDS),
    )


@page
async def order_page(request: web.Request) -> web.Response:
    return await _order_page(request)


Step = Callable[[orders.Orders, int, Any, datetime], Awaitable[object]]
"""One step of an order's workflow (respond, review) with the form's data, at ``now``."""


async def _answer_order(
    request: web.Request, answer: Picking, data: Any, refusals: Mapping[str, tuple[str, str]], step: Step
) -> web.StreamResponse:
    """The order's page after ``step`` (a redirect), or again with its problems beside the fields."""
    order_id = _order_id(request)
    if data is not None:
        now = request.app[CLOCK].wall()
        try:
            await step(orders.Orders(request.app[STORE], principal(request)), order_id, data, now)
        except Refusal as err:
            refused(request, answer.entered, err, MODEL_FIELDS, refusals)
        else:
            raise web.HTTPSeeOther(f"/console/orders/{order_id}")
    return await _order_page(request, answer)


@page
async def respond_order(request: web.Request) -> web.StreamResponse:
    form = await checked_form(request)
    answer = blank(ANSWER_FIELDS, form)
    data = _submitted(request, ResponseIn, texts(form, ("response",)), answer)
    return await _answer_order(
        request, answer, data, OLDER_REFUSALS, lambda o, order_id, d, now: o.respond(order_id, d, now=now)
    )


@page
async def review_order(request: web.Request) -> web.StreamResponse:
    form = await checked_form(request)
    review, answer = review_data(form, gettext_of(request))
    data = _submitted(request, ReviewIn, review, answer)
    return await _answer_order(
        request, answer, data, REVIEW_REFUSALS, lambda o, order_id, d, now: o.review(order_id, d, now=now)
    )


async def _deductions_page(request: web.Request, picking: Picking | None = None) -> web.Response:
    who = principal(request)
    every = deductions.DeductionFilters()
    found = await deductions.Deductions(request.app[STORE], who).listing(every, limit=200)
    may_deduct = who.role in deductions.DEDUCTORS
    visible = await request.app[REGISTRY].acting_for(who).projects()
    from_orders: list[Any] = []
    if may_deduct:
        now = request.app[CLOCK].wall()
        every_order = orders.OrderFilters()
        from_orders = (
            await orders.Orders(request.app[STORE], who).listing(every_order, now=now, limit=200)
        ).items
        if picking is None:
            projects, enterprises = await order_targets(request)
            picking = blank(DEDUCTION_FIELDS, {"order": request.query.get("order_id", "")})
            picking.widgets = {
                "enterprise": widget("enterprise", enterprises),
                "project": widget("project", projects),
                "leader": Widget("leader", None),
            }
    sanctions = await sanctions_shown(
        request,
        enterprises=[d.enterprise_id for d in found.items if d.enterprise_id],
        persons=[d.person_id for d in found.items if d.person_id],
    )
    return render(
        request,
        "deductions.html",
        status=_status(picking),
        sanctions=sanctions,
        deductions=found.items,
        may_deduct=may_deduct,
        form=picking,
        from_orders=from_orders,
        project_names={p.id: p.name for p in visible},
    )


@page
async def deduction_list(request: web.Request) -> web.Response:
    return await _deductions_page(request)


@page
async def deduct(request: web.Request) -> web.StreamResponse:
    form = await checked_form(request)
    projects, enterprises = await order_targets(request)
    registry = request.app[REGISTRY].acting_for(principal(request))
    project = resolve_field(form, "project", projects)
    leaders_of = {}
    if isinstance(project, Picked):
        key = project.candidate.key
        leaders_of[key] = await targets.leaders(registry, key, partial(label, locale_of(request), "position"))
    data, picking = deduction_data(form, projects, enterprises, leaders_of, gettext_of(request))
    deduction_in = _submitted(request, DeductionIn, data, picking)
    if deduction_in is not None:
        now = request.app[CLOCK].wall()
        try:
            await deductions.Deductions(request.app[STORE], principal(request)).deduct(deduction_in, now=now)
        except Refusal as err:
            refused(request, picking.entered, err, MODEL_FIELDS, OLDER_REFUSALS)
        else:
            raise web.HTTPSeeOther("/console/deductions")
    return await _deductions_page(request, picking)


async def _summaries(request: web.Request) -> tuple[Any, list[ProjectMonth], list[DistrictMonth]]:
    who = principal(request)
    if not who.sees_personal_data:
        raise ApiError(403, "forbidden", N_("Summaries count people: not for the hub operator's account."))
    today = local_today(request.app[CLOCK])
    month = month_of(params_of(request), today)
    summaries = Summaries(request.app[STORE], who)
    projects = await summaries.projects_month(month, today=today)
    districts = (
        await summaries.districts_month(month, today=today, district=who.district)
        if who.role in AUTHORITIES
        else []
    )
    return month, projects, districts


@page
async def summaries(request: web.Request) -> web.Response:
    month, projects, districts = await _summaries(request)
    return render(request, "summaries.html", month=month, projects=projects, districts=districts)


@page
async def summaries_csv(request: web.Request) -> web.Response:
    month, projects, districts = await _summaries(request)
    which = request.match_info["which"]
    rows, kind = (districts, DistrictMonth) if which == "districts" else (projects, ProjectMonth)
    return web.Response(
        text=csv_export.relabel(csvfile.to_csv(rows, kind), locale_of(request)),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{which}-summary_{month:%Y-%m}.csv"'},
    )
