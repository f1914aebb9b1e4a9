"""The site rules page's forms, as values: what a POSTed form means as site rules, and each
refusal beside the field it is about (pure: no request, no store).

The model (:class:`hub.site_rules.model.SiteRulesIn`) is the one judge, as for the API; its
complaints are Chinese first with English in brackets (:func:`hub.site_rules.model.problems_of`),
and :func:`in_language` picks the reader's half. Nothing typed is lost: the view shows the form's
own values again beside the complaints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError

from hub.console.i18n import Locale
from hub.site_rules.model import NightWorkIn, SiteRulesIn, problems_of
from wire.roles import RosterRole

ROLES: Final = tuple(RosterRole)
"""The roles with a working-hours field, in the form's order."""
HOURS_FIELD: Final = "hours_"
"""``hours_worker`` ... : one text field per role (empty: no limit)."""
NIGHT_ROLE_FIELD: Final = "night_role_"
"""``night_role_worker`` ... : one checkbox per role a night-work permit admits."""
NIGHT_FIELDS: Final = ("permit", "first_date", "last_date", "hours")
"""A new permit's text fields, each ``night_<name>`` in the form."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """A form read: the rules to store, or the complaints by form field (``errors``)."""

    rules: SiteRulesIn | None
    errors: Mapping[str, str] = field(default_factory=dict)


def in_language(message: str, locale: Locale) -> str:
    """``中文 (English)``, the model's way, as the reader's half (the whole when not so written)."""
    chinese, bracket, english = message.partition(" (")
    if not bracket or not english.endswith(")"):
        return message
    return chinese if locale is Locale.ZH_CN else english[:-1]


def _complaints(err: ValidationError, where: Mapping[tuple[Any, ...], str], locale: Locale) -> dict[str, str]:
    """Each problem beside its field: ``where`` maps a model location (or its start) to a field."""
    found: dict[str, str] = {}
    problems = err.errors(include_input=False, include_url=False, include_context=False)
    for problem, text in zip(problems, problems_of(err), strict=True):
        loc = tuple(problem["loc"])
        name = next((where[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in where), "form")
        found.setdefault(name, in_language(text.partition(": ")[2], locale))
    return found


def values_of(rules: SiteRulesIn) -> dict[str, str]:
    """Stored rules as the general form's fields (what a GET shows)."""
    values = {
        "anti_passback": rules.anti_passback,
        "accept_uid_only": "1" if rules.accept_uid_only else "",
        "inside_expires_at": rules.inside_expires_at or "",
    }
    values.update({HOURS_FIELD + role.value: rules.working_hours.get(role, "") for role in ROLES})
    return values


def general(form: Mapping[str, str], current: SiteRulesIn, locale: Locale) -> Outcome:
    """The general form (anti-passback, UID, when inside expires, hours per role) over ``current``,
    whose night-work permits it keeps."""
    hours = {role.value: form.get(HOURS_FIELD + role.value, "").strip() for role in ROLES}
    data = {
        "anti_passback": form.get("anti_passback", ""),
        "accept_uid_only": form.get("accept_uid_only") == "1",
        "inside_expires_at": form.get("inside_expires_at", "").strip() or None,
        "working_hours": {role: text for role, text in hours.items() if text},
        "night_work": [permit.model_dump() for permit in current.night_work],
    }
    where: dict[tuple[Any, ...], str] = {
        ("working_hours", role.value): HOURS_FIELD + role.value for role in ROLES
    }
    where.update({("anti_passback",): "anti_passback", ("inside_expires_at",): "inside_expires_at"})
    where[("accept_uid_only",)] = "accept_uid_only"
    try:
        return Outcome(SiteRulesIn.model_validate(data))
    except ValidationError as err:
        return Outcome(None, _complaints(err, where, locale))


def add_night_work(form: Mapping[str, str], current: SiteRulesIn, locale: Locale) -> Outcome:
    """``current`` with the permit the night-work form describes added after the others."""
    data: dict[str, Any] = {name: form.get("night_" + name, "").strip() for name in NIGHT_FIELDS}
    data["roles"] = [role.value for role in ROLES if form.get(NIGHT_ROLE_FIELD + role.value) == "1"]
    where: dict[tuple[Any, ...], str] = {(name,): "night_" + name for name in NIGHT_FIELDS}
    where[("roles",)] = "night_roles"
    try:
        permit = NightWorkIn.model_validate(data)
    except ValidationError as err:
        return Outcome(None, _complaints(err, where, locale))
    permits = [*(p.model_dump() for p in current.night_work), permit.model_dump()]
    try:
        return Outcome(SiteRulesIn.model_validate({**current.model_dump(), "night_work": permits}))
    except ValidationError as err:
        return Outcome(None, _complaints(err, {("night_work",): "night_permit"}, locale))


def remove_night_work(form: Mapping[str, str], current: SiteRulesIn, locale: Locale) -> Outcome:
    """``current`` without the permit the form names (unchanged when it holds none)."""
    kept = tuple(p for p in current.night_work if p.permit != form.get("permit", ""))
    return Outcome(current.model_copy(update={"night_work": kept}))
