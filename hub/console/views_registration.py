"""进场登记 / 离场登记 with the card (issue 14): the project department's form, prefilled from the
office reader's read (a lane in registration mode, :mod:`hub.registration_reads`).

The page works without script: its "读取 / read" button asks for the latest read held for the
project, and the server renders it prefilled. With ``static/registration.js`` the page long-polls
the reads (``GET …/card-reads.json``, the API's own handler served under /console so the session cookie
authenticates it) and shows a read within a second of the card touching the reader. Either way the
form names the read by its number; confirming takes the hub's own copy of that read (never what the
browser says it read), registers with it as the evidence (:mod:`hub.registry.card_evidence`:
``entry_read_device`` / ``exit_read_device``), and uses it up: the form clears. Typing an ID number
stays possible and the registration then says "未经读卡登记 / registered without a card read".

Nobody types an internal id: the enterprise is picked by name or 统一社会信用代码, the team and the
person leaving from lists; errors appear beside their field, in the reader's language, with what
was typed kept.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, NoReturn

from aiohttp import web
from pydantic import ValidationError

from hub.api.card_reads import CARD_READS, item_of
from hub.api.error_responses import ApiError
from hub.api.keys import CLOCK, REGISTRY, STORE
from hub.api.limits import LOOKUP_LIMIT, TOO_MANY_MESSAGE
from hub.api.params import ascii_digits, params_of, row_id
from hub.api.workflows import VAULT
from hub.auth.permissions import CARD_READS as REGISTRARS
from hub.auth.principal import Role
from hub.console.form_errors import MODEL_PROBLEMS, Entered, invalid, refused
from hub.console.i18n import N_
from hub.console.render import checked_form, gettext_of, page, principal, render
from hub.console.sanction_badges import sanctions_shown
from hub.refusals import Refusal
from hub.registration_desk import RegistrationDesk
from hub.registration_reads import HeldRead
from hub.registry import Assignment, Enterprise, Person, Registry
from hub.registry.card_evidence import CardEvidence
from hub.registry.models import AssignmentExit, AssignmentIn
from wire.clock import SITE_ZONE
from wire.roles import RosterRole

ROLES = (RosterRole.WORKER, RosterRole.MANAGER, RosterRole.SUPERVISOR)
"""What the form registers (a visitor's pass window is the API's: the form has no times)."""
ROSTER_SHOWN = 200
PICK_ENTERPRISE = N_("Pick a party of the project, by name or unified social credit code.")
_FIELD_OF = {
    "enterprise_id": "enterprise",
    "team_id": "team",
    "person_id": "id_number",
    "entry_date": "entry_date",
    "exit_date": "exit_date",
    "role": "role",
    "read": "read",
}
"""A refusal's field (the registry's words) -> the form's input it is shown beside."""
_MESSAGES = {
    "assignment_overlaps": ("entry_date", N_("This person is already on the project for these dates.")),
    "enterprise_not_party": ("enterprise", N_("This enterprise is not a party to the project.")),
    "exit_before_entry": ("exit_date", MODEL_PROBLEMS["exit_before_entry"]),
    "forbidden": ("form", N_("Your account may not register this person (not your enterprise's staff).")),
}
"""The registry's older refusals (English only) in the console's own words."""


def _registrar(request: web.Request) -> None:
    if principal(request).role not in REGISTRARS:
        raise ApiError(403, "forbidden", N_("Only the project departments register people onto the project."))


def _today(request: web.Request) -> date:
    return request.app[CLOCK].wall().astimezone(SITE_ZONE).date()


def _desk(request: web.Request) -> RegistrationDesk:
    app = request.app
    return RegistrationDesk(app[STORE], app[CARD_READS], app[VAULT], principal(request), clock=app[CLOCK])


async def _shown_read(request: web.Request, project_id: str, asked: str | None) -> dict[str, Any] | None:
    """The read the page shows: ``latest`` (the no-script button), a read's number (the script,
    or a form coming back), else none. Audited as seen, like the API's."""
    if not asked:
        return None
    number = int(asked) if ascii_digits(asked) else None
    if asked != "latest" and number is None:
        return None
    shown = await _desk(request).reads(project_id, (number or 1) - 1, 0)
    if number is not None:
        shown = [s for s in shown if s.held.number == number]
    if not shown:
        return None
    item = item_of(shown[-1], principal(request))
    for day in ("birth_date", "valid_from", "valid_to"):  # days as the ``local`` filter takes them
        item[day] = date.fromisoformat(item[day]) if item[day] else None
    return item


async def _enterprises(registry: Registry, project_id: str) -> list[Enterprise]:
    """The project's parties the account registers people for: all of them for the GC's
    department, its own enterprise for a subcontractor's."""
    parties = {p.enterprise_id for p in await registry.parties(project_id)}
    who = registry.principal
    if who.role is Role.SUB_PROJECT:
        parties &= {who.enterprise_id}
    found = (await registry.enterprises(limit=500)).items
    return sorted((e for e in found if e.id in parties), key=lambda e: e.name)


def _enterprise_choice(enterprise: Enterprise) -> str:
    return f"{enterprise.name}（{enterprise.number}）"


def _pick_enterprise(typed: str, among: list[Enterprise]) -> Enterprise | None:
    """By name, by 统一社会信用代码, or as the list offers it (name（number）)."""
    typed = typed.strip()
    return next((e for e in among if typed in (e.name, e.number, _enterprise_choice(e))), None)


async def _roster(registry: Registry, project_id: str, today: date) -> list[dict[str, Any]]:
    """The project's assignments that have not ended, newest first, with names, enterprise and
    team in words, and whether each was registered with a card read."""
    assignments = (await registry.assignments(project_id, limit=500)).items
    people = {p.id: p for p in (await registry.persons(limit=500)).items}
    enterprises = {e.id: e.name for e in (await registry.enterprises(limit=500)).items}
    teams = {t.id: t.name for t in await registry.teams(project_id)}
    current = [a for a in assignments if a.exit_date is None or a.exit_date >= today]
    current.sort(key=lambda a: (a.entry_date, a.id), reverse=True)
    return [_roster_row(a, people, enterprises, teams) for a in current[:ROSTER_SHOWN]]


def _roster_row(
    a: Assignment, people: dict[str, Person], enterprises: dict[str, str], teams: dict[str, str]
) -> dict[str, Any]:
    person = people.get(a.person_id)
    return {
        "position": person.position if person is not None and a.role == RosterRole.MANAGER else None,
        "assignment": a,
        "name": person.name if person is not None else "",
        "enterprise": enterprises.get(a.enterprise_id, ""),
        "team": teams.get(a.team_id or "", ""),
    }


async def _render(
    request: web.Request,
    *,
    entry: Entered | None = None,
    leaving: Entered | None = None,
    read: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    project_id = request.match_info["project_id"]
    who = principal(request)
    registry = request.app[REGISTRY].acting_for(who)
    project = await registry.project(project_id)
    today = _today(request)
    enterprises = await _enterprises(registry, project_id)
    roster = await _roster(registry, project_id, today)
    managers = [r["assignment"].person_id for r in roster if r["assignment"].role != RosterRole.WORKER]
    done = request.query.get("done", "")
    return render(
        request,
        "registration.html",
        status=status,
        project=project,
        read=read,
        entry=entry or Entered({"entry_date": today.isoformat(), "role": RosterRole.WORKER.value}),
        leaving=leaving or Entered({"exit_date": today.isoformat()}),
        enterprises=[(_enterprise_choice(e), e) for e in enterprises],
        teams=[t for t in await registry.teams(project_id) if t.enterprise_id in {e.id for e in enterprises}],
        roles=[r.value for r in ROLES],
        roster=roster,
        sanctions=await sanctions_shown(
            request,
            projects=[project_id],
            enterprises={r["assignment"].enterprise_id for r in roster},
            persons=managers,
        ),
        done=next((r for r in roster if str(r["assignment"].id) == done), None),
        done_exit=request.query.get("left", ""),
    )


@page
async def registration_page(request: web.Request) -> web.Response:
    _registrar(request)
    params_of(request)
    read = await _shown_read(request, request.match_info["project_id"], request.query.get("read"))
    return await _render(request, read=read)


def _held(request: web.Request, project_id: str, entered: Entered) -> HeldRead | None:
    """The read the form names, as the hub holds it; an error beside the read when it is gone."""
    number = entered.get("read")
    if not number:
        return None
    held = request.app[CARD_READS].held(project_id, int(number)) if ascii_digits(number) else None
    if held is None:
        _ = gettext_of(request)
        entered.errors["read"] = _("The card read has expired or was used: read the card again.")
    return held


def _date(entered: Entered, name: str, request: web.Request, *, required: bool) -> date | None:
    _ = gettext_of(request)
    text = entered.get(name).strip()
    if not text:
        if required:
            entered.errors[name] = _("Required.")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        entered.errors[name] = _("must be a date YYYY-MM-DD")
        return None


def _refused(request: web.Request, entered: Entered, err: Refusal) -> None:
    refused(request, entered, err, _FIELD_OF, _MESSAGES)


async def _person_of(
    request: web.Request, registry: Registry, entered: Entered, id_number: str, *, typed: bool
) -> str | None:
    """The registered person with ``id_number`` (the blind index, audited), or an error beside it.
    A ``typed`` number is throttled as the API's lookups are (a card on the reader is not)."""
    _ = gettext_of(request)
    if not id_number:
        entered.errors["id_number"] = _("Read the card, or type the ID number.")
        return None
    if typed and (wait := request.app[LOOKUP_LIMIT].take(str(registry.principal.account_id))) > 0:
        # A typed number is a lookup like persons/lookup's, throttled per account the same way.
        entered.errors["id_number"] = TOO_MANY_MESSAGE.format(seconds=max(1, math.ceil(wait)))
        return None
    person_id = await registry.find_person(id_number)
    if person_id is None:
        entered.errors["id_number"] = _(
            "Nobody is registered with this ID number: "
            "the district bureau registers workers (作业人员备案) first."
        )
    return person_id


async def _posted(request: web.Request) -> tuple[str, Entered, Registry, HeldRead | None]:
    """A registration form's project, what it sent (CSRF checked), the registry, and its read."""
    _registrar(request)
    project_id = request.match_info["project_id"]
    entered = Entered(await checked_form(request))
    registry = request.app[REGISTRY].acting_for(principal(request))
    return project_id, entered, registry, _held(request, project_id, entered)


def _done(request: web.Request, held: HeldRead | None, said: str) -> NoReturn:
    """The read is used up (once), and the page again, saying what was registered: a clear form."""
    if held is not None:
        request.app[CARD_READS].use(held)
    raise web.HTTPSeeOther(f"/console/projects/{request.match_info['project_id']}/registration?{said}")


@page
async def register_entry(request: web.Request) -> web.StreamResponse:
    """进场登记: the person onto the project, with the card read as evidence when there is one."""
    project_id, entered, registry, held = await _posted(request)
    id_number = held.read.id_number if held else entered.get("id_number").strip()
    enterprise = _pick_enterprise(entered.get("enterprise"), await _enterprises(registry, project_id))
    _ = gettext_of(request)
    if enterprise is None:
        entered.errors["enterprise"] = _(PICK_ENTERPRISE)
    entry_date = _date(entered, "entry_date", request, required=True)
    exit_date = _date(entered, "exit_date", request, required=False)
    if entered.errors:
        return await _again(request, entry=entered, held=held)
    person_id = await _person_of(request, registry, entered, id_number, typed=held is None)
    if person_id is None or enterprise is None or entry_date is None:
        return await _again(request, entry=entered, held=held)
    try:
        data = AssignmentIn(
            person_id=person_id,
            enterprise_id=enterprise.id,
            role=entered.get("role"),
            entry_date=entry_date,
            exit_date=exit_date,
            team_id=entered.get("team") or None,
        )
        card = CardEvidence(held.read.device_id, id_number) if held else None
        made = await registry.assign(project_id, data, card=card)
    except ValidationError as err:
        invalid(request, entered, err, _FIELD_OF)
        return await _again(request, entry=entered, held=held)
    except Refusal as err:
        _refused(request, entered, err)
        return await _again(request, entry=entered, held=held)
    _done(request, held, f"done={made.id}")


@page
async def register_exit(request: web.Request) -> web.StreamResponse:
    """离场登记: the exit date of the person's running assignment, read from the card or picked."""
    project_id, entered, registry, held = await _posted(request)
    exit_date = _date(entered, "exit_date", request, required=True)
    if entered.errors or exit_date is None:
        return await _again(request, leaving=entered, held=held)
    picked = row_id(entered.get("assignment"))
    if held is None and picked is not None:
        assignment_id: int | None = picked
    else:
        number = held.read.id_number if held else entered.get("id_number").strip()
        assignment_id = await _running(request, registry, entered, project_id, number, typed=held is None)
    if assignment_id is None:
        return await _again(request, leaving=entered, held=held)
    try:
        card = CardEvidence(held.read.device_id, held.read.id_number) if held else None
        await registry.end_assignment(assignment_id, AssignmentExit(exit_date=exit_date), card=card)
    except Refusal as err:
        _refused(request, entered, err)
        return await _again(request, leaving=entered, held=held)
    _done(request, held, f"left={assignment_id}")


async def _running(
    request: web.Request,
    registry: Registry,
    entered: Entered,
    project_id: str,
    id_number: str,
    *,
    typed: bool,
) -> int | None:
    """The assignment of the person with ``id_number`` on the project that has not ended."""
    person_id = await _person_of(request, registry, entered, id_number, typed=typed)
    if person_id is None:
        return None
    today = _today(request)
    found = (await registry.assignments(project_id, person_id=person_id, limit=500)).items
    running = [a for a in found if a.exit_date is None or a.exit_date >= today]
    if not running:
        _ = gettext_of(request)
        entered.errors["id_number"] = _("This person is not on the project.")
        return None
    return max(running, key=lambda a: (a.entry_date, a.id)).id


async def _again(
    request: web.Request,
    *,
    held: HeldRead | None,
    entry: Entered | None = None,
    leaving: Entered | None = None,
) -> web.Response:
    """The page again, with what was typed and the errors beside their fields (422)."""
    read = await _shown_read(request, request.match_info["project_id"], str(held.number)) if held else None
    return await _render(request, entry=entry, leaving=leaving, read=read, status=422)
