"""Inspections (检查) in the console: a district bureau in its district, the city station anywhere,
supervision on its own project (日常巡查 only) record one with the notice's checklist, findings and
photos (one multipart form); an inspection's page shows them, its orders, and to an issuer the
order form filled from the problems found, so an order comes from the inspection in one step.

The form is read part by part (:func:`_read_form`), so a photo larger than the cap is refused
beside its field without the hub holding it whole; the photos are checked by content and kept by
:mod:`hub.workflows.photos`, served only through :class:`~hub.workflows.inspections.Inspections`
(the account's scope) with the type recorded when it was kept.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from aiohttp import BodyPartReader, web
from pydantic import ValidationError

from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, CONFIG, REGISTRY, STORE
from hub.auth.principal import Role
from hub.console import oversight_targets as targets
from hub.console.form_errors import MODEL_PROBLEMS, refused
from hub.console.i18n import N_
from hub.console.oversight_forms import MODEL_FIELDS, OLDER_REFUSALS, Picking, blank, take
from hub.console.pickers import widget
from hub.console.render import check_csrf, checked_form, gettext_of, page, principal, render
from hub.derive.days import local_day
from hub.refusals import Refusal
from hub.workflows import orders, photos
from hub.workflows.inspections import CHECKLIST, INSPECTORS, InspectionIn, Inspections
from hub.workflows.models import OrderIn

ITEMS: Final = {
    "network": N_("Work network"),
    "filing": N_("Filing (报备)"),
    "card_reads": N_("Card reads at entry and exit"),
    "attendance": N_("Attendance"),
    "managers_present": N_("Managers at their posts"),
    "employment": N_("Employment"),
}
"""The notice's points: 工作网络, 报备, 进离场读卡, 考勤, 管理人员到岗, 用工状况."""
KINDS: Final = {
    "routine": N_("Routine patrol"),
    "special": N_("Special inspection"),
    "unannounced": N_("Unannounced inspection"),
}
FIELDS: Final = (
    "project",
    "kind",
    "inspected_on",
    "findings",
    "photos",
    *(f"{item}_{part}" for item in CHECKLIST for part in ("ok", "note")),
)
ORDER_FORM: Final = ("subject", "requirements", "deadline")
PHOTO_PROBLEMS: Final = {
    "type": N_("Only JPEG or PNG photos."),
    "size": N_("A photo may be at most 5 MB."),
    "count": N_("At most 10 photos to one inspection."),
}
REFUSALS: Final = {
    **OLDER_REFUSALS,
    "routine_only": ("kind", N_("Supervision records routine patrols only.")),
    "own_project_only": ("project", N_("Supervision inspects its own project only.")),
    "inspected_in_future": ("inspected_on", N_("The date is after today.")),
    "unknown_inspection": ("form", N_("No such inspection.")),
}
_TEXT_LIMIT: Final = 64 * 1024
_FORM_LIMIT: Final = photos.MAX_PHOTOS * photos.MAX_PHOTO_BYTES + 1024 * 1024


def _inspections(request: web.Request) -> Inspections:
    store = photos.PhotoStore(request.app[CONFIG].photos_path())
    return Inspections(request.app[STORE], principal(request), store)


async def _read_form(request: web.Request) -> tuple[dict[str, str], list[bytes], str | None]:
    """The form's text fields, its photos' bytes, and the photos' problem (``type``, ``size``)."""
    if not request.content_type.startswith("multipart/"):
        return await checked_form(request), [], None
    fields: dict[str, str] = {}
    files: list[bytes] = []
    problem: str | None = None
    total = 0
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise ApiError(400, "bad_form", N_("The form could not be read."))
        kept = bytearray()
        limit = photos.MAX_PHOTO_BYTES if part.filename is not None else _TEXT_LIMIT
        while chunk := await part.read_chunk():
            total += len(chunk)
            if total > _FORM_LIMIT:
                raise ApiError(413, "too_large", N_("The form is too large."))
            if len(kept) <= limit:
                kept += chunk
        if part.filename is None:
            fields[str(part.name)] = kept[:_TEXT_LIMIT].decode("utf-8", "replace")
        elif part.filename or kept:  # a file input left empty sends a nameless, empty part
            if len(kept) > limit:
                problem = problem or "size"
            else:
                files.append(bytes(kept))
    check_csrf(request, fields.get("csrf"))
    return fields, files, problem


def _model_problems(request: web.Request, picking: Picking, err: ValidationError) -> None:
    """Each problem beside its input: a checklist point's beside its note."""
    _ = gettext_of(request)
    for problem in err.errors(include_input=False, include_url=False, include_context=False):
        loc = [str(part) for part in problem["loc"]]
        if loc[:1] == ["checklist"] and len(loc) > 1:
            name = f"{loc[1]}_note"
        else:
            name = MODEL_FIELDS.get(loc[0], loc[0]) if loc else "form"
            name = name if name in FIELDS + ORDER_FORM else "form"
        known = MODEL_PROBLEMS.get(problem["type"])
        message = _(known) if known else problem["msg"].removeprefix("Value error, ")
        if name.endswith("_note") and problem["type"] == "value_error":
            message = _(N_("A problem needs a note saying what is wrong."))
        picking.entered.errors.setdefault(name, message)


async def _list_page(request: web.Request, filing: Picking | None = None) -> web.Response:
    who = principal(request)
    found = await _inspections(request).listing()
    may_inspect = who.role in INSPECTORS
    if may_inspect and filing is None:
        filing = blank(FIELDS, {"kind": "routine"})
        if who.role is not Role.SUPERVISION_PROJECT:
            projects = await request.app[REGISTRY].acting_for(who).projects()
            filing.widgets["project"] = widget("project", targets.projects_of(projects))
    own_name = ""
    if who.role is Role.SUPERVISION_PROJECT:
        own = await request.app[REGISTRY].acting_for(who).projects()
        own_name = next((p.name for p in own if p.id == who.project_id), str(who.project_id))
    kinds = ["routine"] if who.role is Role.SUPERVISION_PROJECT else list(KINDS)
    status = 422 if filing is not None and not filing.ok else 200
    return render(
        request,
        "inspections.html",
        status=status,
        inspections=found,
        may_inspect=may_inspect,
        own_name=own_name,
        form=filing,
        kinds=kinds,
        kind_names=KINDS,
        items=ITEMS,
        max_photos=photos.MAX_PHOTOS,
    )


@page
async def inspection_list(request: web.Request) -> web.Response:
    return await _list_page(request)


def _checklist(form: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        item: {"ok": form.get(f"{item}_ok", "ok") != "problem", "note": form.get(f"{item}_note", "").strip()}
        for item in CHECKLIST
    }


@page
async def record_inspection(request: web.Request) -> web.StreamResponse:
    who = principal(request)
    form, files, photo_problem = await _read_form(request)
    _ = gettext_of(request)
    filing = blank(FIELDS, form)
    project_id: str | None = str(who.project_id) if who.role is Role.SUPERVISION_PROJECT else None
    if who.role is not Role.SUPERVISION_PROJECT:
        projects = await request.app[REGISTRY].acting_for(who).projects()
        picked = take(filing, form, "project", targets.projects_of(projects), _)
        project_id = picked.key if picked is not None else None
        if picked is None and "project" not in filing.entered.errors:
            filing.entered.errors["project"] = _(N_("Pick the project inspected."))
    checked: list[photos.Photo] = []
    try:
        photos.check_count(len(files))
        checked = [photos.checked(data) for data in files]
        if photo_problem is not None:
            raise photos.PhotoRefused(photo_problem, "")
    except photos.PhotoRefused as err:
        filing.entered.errors["photos"] = _(PHOTO_PROBLEMS[err.reason])
    data = {
        "project_id": project_id or "",
        "kind": form.get("kind", ""),
        "inspected_on": form.get("inspected_on", ""),
        "findings": form.get("findings", "").strip(),
        "checklist": _checklist(form),
    }
    try:
        model = InspectionIn.model_validate(data)
    except ValidationError as err:
        _model_problems(request, filing, err)
    else:
        if filing.ok:
            try:
                record = await _inspections(request).record(model, checked, now=request.app[CLOCK].wall())
            except Refusal as err:
                refused(request, filing.entered, err, MODEL_FIELDS, REFUSALS)
            else:
                raise web.HTTPSeeOther(f"/console/inspections/{record.id}")
    if who.role is not Role.SUPERVISION_PROJECT and "project" not in filing.widgets:
        projects = await request.app[REGISTRY].acting_for(who).projects()
        filing.widgets["project"] = widget("project", targets.projects_of(projects))
    return await _list_page(request, filing)


def _number(request: web.Request, name: str) -> int:
    text = request.match_info[name]
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**63:
        raise ApiError(404, "not_found", N_("No such inspection."))
    return int(text)


def _order_form(request: web.Request, problems: list[tuple[str, str]]) -> Picking:
    """The order's fields filled from the points found wanting: subject, requirements, a week."""
    _ = gettext_of(request)
    names = "、".join(_(ITEMS[item]) for item, _note in problems)
    requirements = "\n".join(f"{_(ITEMS[item])}：{note}" for item, note in problems)
    deadline = local_day(request.app[CLOCK].wall()) + timedelta(days=7)
    subject = _(N_("Problems found by inspection: %(items)s")) % {"items": names}
    return blank(
        ORDER_FORM, {"subject": subject[:128], "requirements": requirements, "deadline": str(deadline)}
    )


async def _detail_page(request: web.Request, ordering: Picking | None = None) -> web.Response:
    who = principal(request)
    record = await _inspections(request).get(_number(request, "inspection_id"))
    may_order = who.role in orders.ISSUERS and bool(record.problems())
    if may_order and ordering is None:
        ordering = _order_form(request, record.problems())
    return render(
        request,
        "inspection.html",
        status=422 if ordering is not None and not ordering.ok else 200,
        inspection=record,
        items=ITEMS,
        kind_names=KINDS,
        may_order=may_order,
        form=ordering,
    )


@page
async def inspection_page(request: web.Request) -> web.Response:
    return await _detail_page(request)


@page
async def issue_order(request: web.Request) -> web.StreamResponse:
    """The order from this inspection, to its project, recording where it came from."""
    form = await checked_form(request)
    record = await _inspections(request).get(_number(request, "inspection_id"))
    ordering = blank(ORDER_FORM, form)
    data = {name: form.get(name, "").strip() for name in ORDER_FORM}
    try:
        order_in = OrderIn.model_validate(
            {**data, "project_id": record.project_id, "inspection_id": record.id}
        )
    except ValidationError as err:
        _model_problems(request, ordering, err)
    else:
        now = request.app[CLOCK].wall()
        try:
            order = await orders.Orders(request.app[STORE], principal(request)).issue(order_in, now=now)
        except Refusal as err:
            refused(request, ordering.entered, err, MODEL_FIELDS, REFUSALS)
        else:
            raise web.HTTPSeeOther(f"/console/orders/{order.id}")
    return await _detail_page(request, ordering)


@page
async def inspection_photo(request: web.Request) -> web.Response:
    """A photo, to an account that sees its inspection; its recorded type, never sniffed."""
    inspections = _inspections(request)
    found, data = await inspections.photo(_number(request, "inspection_id"), _number(request, "photo_id"))
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
    return web.Response(body=data, content_type=found.content_type, headers=headers)
